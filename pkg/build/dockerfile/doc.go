// Package dockerfile is the builder's Dockerfile frontend: it reads a Dockerfile with
// BuildKit's parser and plans it onto the build graph (package graph). Each RUN, COPY,
// ADD and WORKDIR becomes a block stacked on the one before it in its stage, COPY --from
// and RUN --mount from= wait for the stage they read, and only the stages the target
// needs are planned (their bases resolved through the caller's ResolveBase). ADD of an
// http(s) URL is planned as a download the builder makes (checked against --checksum,
// which then stands for the content in the key); heredocs of COPY and ADD are carried in
// the step; RUN --mount=type=secret names a secret by id, never its content. The plan
// also gives the image's config and history as Docker writes them.
//
// It leaves out running blocks, caching layers and writing the image (package build).
package dockerfile
