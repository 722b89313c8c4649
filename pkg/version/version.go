package version

import (
	"fmt"
	"runtime"
)

var (
	Version = "dev"
	Commit  = "unknown"
)

// APIVersion is the HTTP API's version.
const APIVersion = "1.0"

// String is "<name> <version> (commit <sha>, <go version>)".
func String(name string) string {
	return fmt.Sprintf("%s %s (commit %s, %s)", name, Version, Commit, runtime.Version())
}
