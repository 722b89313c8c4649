package shimapi

import (
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Dial connects to a shim socket. Paths too long for sockaddr_un (108 bytes, easily passed
// under a test's temp dir) go through /proc/self/fd of their directory.
func Dial(sock string) (*net.UnixConn, error) {
	if len(sock) < 100 {
		return net.DialUnix("unix", nil, &net.UnixAddr{Name: sock, Net: "unix"})
	}
	fd, err := unix.Open(filepath.Dir(sock), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: filepath.Dir(sock), Err: err}
	}
	defer unix.Close(fd)
	name := "/proc/self/fd/" + itoa(fd) + "/" + filepath.Base(sock)
	return net.DialUnix("unix", nil, &net.UnixAddr{Name: name, Net: "unix"})
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		if n /= 10; n == 0 {
			return string(b[i:])
		}
	}
}
