// Package image keeps images in the data root, which is itself an OCI image layout
// (oci-layout, index.json, blobs/sha256): one index.json entry per name, annotated with the
// normalised reference. It resolves, lists, tags and removes images, commits new ones
// (builder, import), imports rootfs tarballs, saves and loads archives (OCI layout and
// docker-archive in one tar), and unpacks layers safely into extracted/<hex>.
//
// It leaves registries to pkg/registry, blob storage to pkg/content, and which images
// containers use to the engine (rmi's in-use check happens there).
package image
