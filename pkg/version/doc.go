// Package version holds the build's version and commit, stamped by the Makefile's ldflags.
package version
