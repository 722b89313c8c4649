// Package build runs a build graph and writes its OCI image. Blocks form a DAG: a block
// starts as soon as every block it NEEDs or BNEEDs has finished, up to a worker limit (no
// waves). Each block runs in a build container over an overlay of its base and the layers
// of its NEED closure; the container's upper directory becomes the block's layer, cached
// in layers/<key> under a key that hashes everything the layer depends on (never block
// names). COPY writes into the upper directory directly, with the context filtered by
// .miniboxignore. Finalize writes reproducible layers and the image config.
//
// Two frontends make the graph: package build/miniboxfile from a MiniBox file, package
// build/dockerfile from a Dockerfile. This package picks one per request, readies the
// context, resolves bases for them (local, pulled, or a rootfs tarball), runs the steps
// (RUN, PKG, AUTO-DEPS, COPY; a Dockerfile RUN's mounts and secrets, ADD's downloads),
// and writes the image with the config its frontend gives.
//
// It leaves out parsing (package build/parse), the graph's types (package build/graph),
// the context's ignore rules (package build/ignore), reading a stack of layers (package
// build/layerview), running containers (the caller's
// RunFunc, package shimclient in the daemon), pulling bases (the caller's PullFunc) and
// the layer tar format (package layer).
package build
