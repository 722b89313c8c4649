// Package applets is the table of the binary's applets and the dispatch between them: by
// argv[0] first ("miniboxd", "minibox-lazyfs", ...), then, for "minibox", by the first
// argument ("minibox daemon", ...). A container's shim and init are not here: they run from
// a small executable of their own (cmd/minibox-shim, embedded through pkg/shimexe).
package applets
