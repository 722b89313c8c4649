// Package reexec runs this same binary as another applet: one file is all a host needs.
package reexec
