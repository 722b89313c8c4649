// Package layerview reads a stack of layer directories as overlayfs would merge them,
// without mounting anything: whiteouts hide the names below them, opaque directories and
// non-directories everything below them. Every lookup goes one name at a time from fds of
// the layer directories (openat2 RESOLVE_BENEATH, no symlinks), and a symlink is read and
// followed inside the merged view, as the container's kernel would in its root: a layer
// a build step wrote cannot lead a lookup out of the tree.
//
// The builder reads through it for COPY FROM=, RUN --mount from=, PKG and AUTO-DEPS, and
// to hash what a block reads. It leaves out writing: the builder writes upper directories.
package layerview
