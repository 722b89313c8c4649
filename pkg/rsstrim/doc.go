// Package rsstrim gives back the memory a long-lived re-execution of the whole binary (a
// shim, a container's init, the daemon) touched only at start-up: the pages of the binary
// it read once and the heap every package's initialiser left behind. A process with one
// shim and one init per running container pays this per container; the pages stay in the
// page cache, shared, and fault back unchanged if used again.
//
// It leaves out when a process is idle: the caller says so through a Trimmer.
package rsstrim
