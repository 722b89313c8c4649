// Package lazyre holds regular expressions compiled on first use. Every applet of the
// binary (each container's shim and init too) runs every package's initialisation, so a
// package-level regexp.MustCompile costs each container start its compile time.
package lazyre
