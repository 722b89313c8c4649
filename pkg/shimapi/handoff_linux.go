package shimapi

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// How the daemon resolves a held attachment: one byte on it, the first it sends.
const (
	// ResolveHandOff comes with the client's connection (SCM_RIGHTS): the shim writes the
	// output to it, reads stdin from it, and ends this connection once the output has ended.
	ResolveHandOff byte = 'H'
	// ResolveRelay: the output comes through this connection (and stdin goes in through it).
	ResolveRelay byte = 'R'
)

// HandOff gives a held attachment the client's connection: from now on the output goes
// from the shim straight to the client, with no copy through the daemon. This connection
// then carries nothing and ends once the output has (the client's end stays open: the
// daemon still holds it). A failed handoff leaves the attachment held.
func (c *Conn) HandOff(client syscall.Conn) error {
	if !c.Held {
		return errors.New("the shim holds no output to hand off")
	}
	rc, err := client.SyscallConn()
	if err != nil {
		return err
	}
	var werr error
	done := false
	c.resolved.Do(func() {
		done = true
		cerr := rc.Control(func(fd uintptr) {
			_, _, werr = c.UnixConn.WriteMsgUnix([]byte{ResolveHandOff}, unix.UnixRights(int(fd)), nil)
		})
		if werr == nil {
			werr = cerr
		}
	})
	if !done {
		return errors.New("the attachment was already relayed")
	}
	return werr
}

// Relay lets a held attachment's output come through this connection (as without a
// handoff). Reads and writes call it first; it does nothing after the first time.
func (c *Conn) Relay() error {
	var err error
	c.resolved.Do(func() { _, err = c.UnixConn.Write([]byte{ResolveRelay}) })
	return err
}

// ReadResolution reads a held attachment's resolution (the shim's side): the client's
// connection as a file when handed over, nil when relayed.
func (c *Conn) ReadResolution() (*os.File, error) {
	var b [1]byte
	oob := make([]byte, unix.CmsgSpace(4))
	// The request line was read through c.r, and the daemon sends nothing more before it
	// has our answer: nothing of this is buffered there.
	n, oobn, _, _, err := c.UnixConn.ReadMsgUnix(b[:], oob)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, io.EOF
	}
	files, err := passedFiles(oob[:oobn], "client")
	if err != nil {
		return nil, err
	}
	switch {
	case b[0] == ResolveHandOff && len(files) == 1:
		return files[0], nil
	case b[0] == ResolveRelay && len(files) == 0:
		return nil, nil
	}
	for _, f := range files {
		f.Close()
	}
	return nil, fmt.Errorf("attach: unexpected resolution %q with %d files", b[0], len(files))
}
