// Package applets is the table of the binary's applets and the dispatch between them: by
// argv[0] first ("miniboxd", "minibox-shim", ...), then, for "minibox", by the first argument
// ("minibox daemon", "minibox shim", ...).
package applets
