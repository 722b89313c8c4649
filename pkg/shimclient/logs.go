package shimclient

import (
	"os"
	"path/filepath"

	"github.com/minibox/minibox/pkg/logfile"
	"github.com/minibox/minibox/pkg/shimfiles"
)

// LogRecord is one chunk of a container's output.
type LogRecord = logfile.Record

// LogOptions select records (see logfile.Options).
type LogOptions = logfile.Options

// ReadLogs emits the records of the container.log at path (and of its rotated files,
// older first), in either format a shim writes. With Follow it then waits for new records
// (inotify, no polling) until the container has exited (its exit.json appears beside the
// log), done is closed, or emit fails; what was written before the end is always emitted.
func ReadLogs(path string, opts LogOptions, done <-chan struct{}, emit func(LogRecord) error) error {
	exit := filepath.Join(filepath.Dir(path), shimfiles.ExitName)
	exited := func() bool {
		_, err := os.Stat(exit)
		return err == nil
	}
	return logfile.Read(path, opts, exited, done, emit)
}
