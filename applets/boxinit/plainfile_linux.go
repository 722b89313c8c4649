package boxinit

import (
	"io"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/plainfile"
)

// openFile opens a file of the container's (its /etc/passwd, /etc/group) for reading,
// without the runtime's poller (pkg/plainfile).
func openFile(path string) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return plainfile.File(path, unix.O_RDONLY) }
}
