// Package lazyfs serves one layer blob as a read-only FUSE filesystem (go-fuse v2): the
// tree, attributes, owners, xattrs and overlay whiteouts come from the layer's index
// (package toc) at once; a file's bytes are decompressed from the blob on first open,
// checked against the digest in the index, and kept in a cache directory shared by every
// later open. A mismatch or a broken blob is EIO and a log line, never a hang.
//
// The mount is meant as an overlay lower directory, so whiteouts appear as overlay expects
// (a 0/0 character device; trusted.overlay.opaque=y on opaque directories).
//
// It leaves out which layers to mount, where, and by which process: that is the engine's
// and the minibox-lazyfs applet's job.
package lazyfs
