// Package layer writes an image layer (a gzip-compressed tar) from a directory, usually a
// build block's overlay upper directory. The output is reproducible: entries sorted, mtimes
// fixed to one epoch, owners as on disk with no user or group names, and a gzip stream
// without name or time. Each file starts a new gzip member (large files one per chunk), so a
// lazy reader can inflate one file from its offset alone, while the blob is still one valid
// gzip stream. Overlay whiteouts become OCI `.wh.` entries.
//
// It leaves out unpacking layers (package image) and indexing them (package lazyfs).
package layer
