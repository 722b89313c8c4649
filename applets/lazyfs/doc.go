// Package lazyfs is the minibox-lazyfs applet: the one FUSE server process of a data root,
// serving every lazily mounted layer under <root>/lazy/. The daemon starts it detached, in
// its own session, so lazy mounts (and the containers on them) survive daemon restarts.
//
// One process per data root, not one per mount or per shim: a Go FUSE server costs a few
// MiB of RSS and a process start each, and an image of many layers would pay that per
// layer per container; measured numbers are in bench_test.go of pkg/lazyfs.
package lazyfs
