// Package reexec runs this same binary as another applet: one file is all a host needs.
// The applet so started (a shim, a container's init) closes, first thing, the descriptors
// its starter leaked to it (CloseInherited).
package reexec
