// Package oci holds image data that every layer shares: references in Docker's grammar
// (parsing, normalisation to docker.io/library/x:latest, familiar names) and the media
// types minibox reads and writes. It does no I/O; blobs live in pkg/content and the
// layout in pkg/image.
package oci
