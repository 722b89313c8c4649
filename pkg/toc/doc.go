// Package toc builds and reads a layer blob's table of contents, stored beside the blob as
// blobs/sha256/<hex>.index.json: every tar entry's name, type, mode, owner, size, link
// target, xattrs and sha256, and where its bytes sit in the blob, so one file can be read
// without decompressing the layer.
//
// Where the bytes sit: for a plain tar, the byte offset; for gzip and zstd, the uncompressed
// offset plus checkpoints (the start of every gzip member or zstd frame, found by walking
// the frame and block headers) from which decompression can begin. minibox writes layers as
// one gzip member per file, and zstd:chunked layers have a frame per file, so every file has
// a checkpoint right before it; a foreign single-member (or single-frame) layer is only
// "seekable" when it is small, otherwise the index says to unpack it instead.
//
// It owns the format and the reading of entries; mounting (lazyfs) and when to index (the
// engine) live elsewhere.
package toc
