// Package build turns a parsed MiniBox file into an OCI image. Blocks form a DAG: a block
// starts as soon as every block it NEEDs or BNEEDs has finished, up to a worker limit (no
// waves). Each block runs in a build container over an overlay of its base and the layers
// of its NEED closure; the container's upper directory becomes the block's layer, cached
// in layers/<key> under a key that hashes everything the layer depends on (never block
// names). COPY writes into the upper directory directly, with the context filtered by
// .miniboxignore. Finalize writes reproducible layers and the image config.
//
// A Dockerfile (dockerfile.go) is read with BuildKit's parser and lands on the same DAG:
// each RUN, COPY, ADD and WORKDIR is a block stacked on the one before it in its stage,
// COPY --from and RUN --mount from= wait for the stage they read, and only the stages
// the target needs are planned. Its image gets Docker's config and history. ADD of an
// http(s) URL is downloaded by the daemon (dockeradd.go: checked against --checksum, which
// then stands for the content in the key); heredocs of COPY and ADD are written from the
// Dockerfile; RUN --mount=type=secret reads Request.Secrets, which reach no layer and no key.
//
// It leaves out parsing (package build/parse), running containers (the caller's RunFunc,
// package shimclient in the daemon), pulling bases (the caller's PullFunc) and the layer tar
// format (package layer).
package build
