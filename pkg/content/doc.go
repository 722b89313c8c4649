// Package content is the blob store of the data root: blobs/sha256/<hex>, written through a
// staging file in tmp/ that is fsynced and renamed only once its digest (and size, when
// known) is verified, so a crash never leaves a partial blob. It knows nothing of
// manifests or names (pkg/image) and leaves blobs/sha256/<hex>.index.json files (the
// lazy-layer tables of contents) alone: they are not blobs.
package content
