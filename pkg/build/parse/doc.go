// Package parse reads a MiniBox file, the DAG format (BASE, BLOCKs with indented
// instructions) or the legacy flat format (one step per line, turned into a chain of blocks),
// into a File: blocks, their instructions and the file-global image settings. It checks
// everything a file can get wrong on its own (keywords, arguments, flags, block names, NEEDs
// that name no block, cycles, a missing BASE, NEED across bases) and reports every problem
// as file:line:col.
//
// It leaves out ${NAME} expansion and anything that needs the context or the build arguments:
// the builder does those, with the positions recorded here.
package parse
