// Package miniboxfile is the builder's MiniBox-file frontend: it plans a parsed MiniBox
// file (package build/parse) onto the build graph (package build/graph). It selects the
// blocks the target reaches, resolves each distinct BASE once (through the caller's
// ResolveBase), and expands every block in dependency order: its NEED closure, the
// blocks it copies FROM, its instructions with ${ARG} and ${ENV} expanded, and the ENV,
// USER and WORKDIR in force before each. The plan also gives the image's config and
// history.
//
// It leaves out parsing (package build/parse) and running, caching and writing the image
// (package build).
package miniboxfile
