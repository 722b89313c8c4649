// Package logfile writes and reads a container's log: the shim appends one record per read
// of the workload's output, the daemon reads them back for `logs`.
//
// Two formats, told apart by a file's first byte, so that a file written by an older shim
// stays readable:
//   - local (the default): binary records, a 16-byte header (magic, stream, length, time in
//     nanoseconds) before the bytes as the workload wrote them and the length again after
//     them, so the file can be read backwards for --tail. Writing one is one pwritev (no
//     encoding), or, for a busy stream, a splice from the workload's pipe (no copy of the
//     output through the shim's memory).
//   - json-file: one JSON line per record ({"time","stream","text"}), as every minibox
//     before this one wrote.
//
// With MaxSize set, the writer rotates: container.log becomes container.log.1 (the older
// ones shift up to MaxFiles-1) and a fresh container.log starts.
package logfile

import (
	"fmt"
	"strconv"
	"strings"
)

// Drivers a container's log may use.
const (
	DriverLocal = "local"     // binary records (the default)
	DriverJSON  = "json-file" // JSON lines
	DriverNone  = "none"      // nothing is kept; `logs` has nothing to show
)

// Config is how a container's log is kept; the zero value is what every container got
// before log drivers existed (JSON lines, never rotated).
type Config struct {
	Driver   string `json:"driver,omitempty"`    // "" = json-file
	MaxSize  int64  `json:"max_size,omitempty"`  // bytes per file before rotating; 0 = no limit
	MaxFiles int    `json:"max_files,omitempty"` // files kept, the current one included; 0 = 1
}

// ValidDriver reports whether d is a driver this package writes.
func ValidDriver(d string) bool { return d == DriverLocal || d == DriverJSON || d == DriverNone }

// ParseSize reads a size as Docker's --log-opt max-size takes it: a whole number of bytes
// with an optional k, m or g (powers of 1024, "b" and "ib"/"B" suffixes accepted).
func ParseSize(s string) (int64, error) {
	v := strings.ToLower(strings.TrimSpace(s))
	v = strings.TrimSuffix(strings.TrimSuffix(v, "b"), "i")
	mult := int64(1)
	if n := len(v); n > 0 {
		switch v[n-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			v = v[:n-1]
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (a whole number of bytes with k, m or g, e.g. 10m)", s)
	}
	return n * mult, nil
}

// ParseMaxFile reads max-file: a whole number, at least 1.
func ParseMaxFile(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 || n > 1000 {
		return 0, fmt.Errorf("%q is not a number of files from 1 to 1000", s)
	}
	return n, nil
}
