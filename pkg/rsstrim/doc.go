// Package rsstrim gives back the memory a long-lived process (a shim, a container's init,
// the daemon) touched only at start-up: the pages of its executable it read once and the
// heap its packages' initialisers left behind. A shim and an init per running container
// pay this per container; the pages stay in the page cache, shared, and fault back
// unchanged if used again.
//
// It leaves out when a process is idle: the caller says so through a Trimmer.
package rsstrim
