// Package build turns a parsed MiniBox file into an OCI image. Blocks form a DAG: a block
// starts as soon as every block it NEEDs or BNEEDs has finished, up to a worker limit (no
// waves). Each block runs in a build container over an overlay of its base and the layers
// of its NEED closure; the container's upper directory becomes the block's layer, cached
// in layers/<key> under a key that hashes everything the layer depends on (never block
// names). COPY writes into the upper directory directly, with the context filtered by
// .miniboxignore. Finalize writes reproducible layers and the image config.
//
// A Dockerfile is planned onto the same graph by package build/dockerfile; this package
// runs its steps (a RUN's mounts and secrets, ADD's downloads) and writes its image with
// Docker's config and history.
//
// It leaves out parsing (package build/parse), the graph's types (package build/graph),
// the context's ignore rules (package build/ignore), running containers (the caller's
// RunFunc, package shimclient in the daemon), pulling bases (the caller's PullFunc) and
// the layer tar format (package layer).
package build
