package shimfiles

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/atomicfile"
	"github.com/minibox/minibox/pkg/plainfile"
	"github.com/minibox/minibox/pkg/shimapi"
)

// File names inside the container directory.
const (
	SocketName = "shim.sock"
	ExitName   = "exit.json"
	LogName    = "container.log"
	ShimLog    = "shim.log"
)

// WriteExit records the workload's exit in dir/exit.json by an atomic rename, and returns
// what closes the record, with the fsyncs that make it durable when asked: the shim runs it
// once nobody waits for it, durably unless the directory goes at once (run --rm).
func WriteExit(dir string, e *shimapi.Exit) (done func(durable bool), err error) {
	b, err := shimapi.Marshal(e)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, ExitName)
	fd, tmp, err := atomicfile.Temp(path, 0o600)
	if err != nil {
		return nil, err
	}
	if werr := plainfile.WriteAll(fd, b); werr != nil {
		err = &os.PathError{Op: "write", Path: tmp, Err: werr}
	} else if rerr := unix.Rename(tmp, path); rerr != nil {
		err = &os.LinkError{Op: "rename", Old: tmp, New: path, Err: rerr}
	}
	if err != nil {
		unix.Close(fd)
		unix.Unlink(tmp)
		return nil, err
	}
	return func(durable bool) {
		if durable {
			unix.Fsync(fd)
		}
		unix.Close(fd)
		if durable {
			atomicfile.SyncDir(dir)
		}
	}, nil
}

// ReadExit reads dir/exit.json; os.ErrNotExist when the workload has not ended (or the
// container never started).
func ReadExit(dir string) (*shimapi.Exit, error) {
	b, err := os.ReadFile(filepath.Join(dir, ExitName))
	if err != nil {
		return nil, err
	}
	var e shimapi.Exit
	if err := shimapi.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ExitName), err)
	}
	return &e, nil
}
