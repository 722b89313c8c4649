package shim

import (
	"net"
	"os"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// A busy stream's output need not pass through the shim's memory: tee(2) duplicates what
// the workload's pipe holds into a pipe of our own, splice(2) moves one copy into the log
// and the other into the client's socket (page references on the way, no copy until the
// client reads). Records and frames keep their headers, written beside the spliced bytes.
const (
	// minSplice is the least output worth the extra syscalls (poll, tee, and the record's
	// header and trailer written apart from its bytes); less goes through a read.
	minSplice = 64 << 10
	// maxSplice is the most one record takes: the workload's pipe, once busy.
	maxSplice = 1 << 20
	// attachSendBuffer lets a busy attachment's socket hold a few records, so that the
	// shim writes the next one into the log while the client writes out the last.
	attachSendBuffer = 4 << 20
	// quietSplices is how many reads in a row a splicer may leave to the read path before
	// it is dropped (made again once a read fills the buffer).
	quietSplices = 16
)

// splicer is a busy stream's state between splices.
type splicer struct {
	src  *os.File // the workload's pipe
	rc   syscall.RawConn
	dup  [2]int // our pipe (read, write end), made on first use; -1 until then
	held [utf8.UTFMax]byte
}

func newSplicer(src *os.File) *splicer {
	rc, err := src.SyscallConn()
	if err != nil {
		return nil
	}
	return &splicer{src: src, rc: rc, dup: [2]int{-1, -1}}
}

func (sp *splicer) close() {
	if sp.dup[0] >= 0 {
		unix.Close(sp.dup[0])
		unix.Close(sp.dup[1])
	}
}

// available waits until the workload's pipe has output or has ended, and returns how
// much it holds (0 once it has ended) and its fd, which stays valid after the callback:
// the pipe's copier, our caller, is the only one to close it.
func (sp *splicer) available() (avail int, fd int, err error) {
	rerr := sp.rc.Read(func(pfd uintptr) bool {
		fd = int(pfd)
		avail, err = unix.IoctlGetInt(fd, unix.TIOCINQ) // FIONREAD
		if err != nil || avail > 0 {
			return true
		}
		// Nothing there: ended (the poll says so at once) or not yet written.
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, perr := unix.Poll(fds, 0)
		return perr != nil || n > 0
	})
	if rerr != nil {
		err = rerr
	}
	return avail, fd, err
}

// spliceOutput moves what the workload's pipe holds into the log and to the one
// attachment, if the stream is busy and nothing else needs the output in memory (several
// attachments, one held, json-file's encoding). It returns false when the caller should
// read instead; carry (buf[:carry]) is what the last chunk held back (a cut character),
// which goes first, and what this one holds back is returned in its place.
func (sh *shim) spliceOutput(sp *splicer, stream byte, buf []byte, carry int) (int, bool) {
	if !sh.logw.CanSplice() {
		return carry, false
	}
	avail, fd, err := sp.available()
	if err != nil || avail < minSplice {
		return carry, false
	}
	a, ok := sh.soleAttachment()
	if !ok {
		return carry, false
	}
	n := min(avail, maxSplice)
	if a != nil {
		if sp.dup[0] < 0 {
			var p [2]int
			if unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK) != nil {
				return carry, false
			}
			unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, maxSplice)
			sp.dup = p
		}
		m, err := unix.Tee(fd, sp.dup[1], n, unix.SPLICE_F_NONBLOCK)
		if err != nil || m < utf8.UTFMax {
			if m > 0 {
				drainPipe(sp.dup[0], int(m))
			}
			return carry, false
		}
		n = int(m)
	}
	sh.trim.Kick()
	k, _ := sh.logw.Splice(stream, buf[:carry], fd, n, &sp.held)
	if a != nil {
		if err := a.splice(stream, buf[:carry], sp.dup[0], n-k); err != nil {
			sh.mu.Lock()
			delete(sh.attached, a)
			sh.mu.Unlock()
		}
		drainPipe(sp.dup[0], k) // the client gets them with the next chunk
	}
	return copy(buf, sp.held[:k]), true
}

// soleAttachment returns the one attachment the output goes to when it can take spliced
// output (nil when there is none); ok is false when there are several, or it holds.
func (sh *shim) soleAttachment() (a *attachment, ok bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.attached) > 1 {
		return nil, false
	}
	for a = range sh.attached {
	}
	if a == nil {
		return nil, true
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.held || a.dead {
		return nil, false
	}
	if _, ok := a.out.(syscall.Conn); !ok {
		return nil, false
	}
	return a, true
}

// splice sends prefix and then n bytes from the pipe src as one frame. On failure the
// attachment is dead, and src is drained of what it did not take.
func (a *attachment) splice(stream byte, prefix []byte, src, n int) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.dead {
		drainPipe(src, n)
		return net.ErrClosed
	}
	err := a.spliceFrame(stream, prefix, src, n)
	if err != nil {
		a.dead = true
		a.close()
	}
	return err
}

func (a *attachment) spliceFrame(stream byte, prefix []byte, src, n int) error {
	rc, err := a.out.(syscall.Conn).SyscallConn()
	if err != nil {
		drainPipe(src, n)
		return err
	}
	if !a.bigSend {
		a.bigSend = true
		rc.Control(func(fd uintptr) {
			// FORCE passes wmem_max (the shim runs as root); the plain option is capped.
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, attachSendBuffer) != nil {
				unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF, attachSendBuffer)
			}
		})
	}
	// A client that stops reading must not stall the container for long.
	a.out.SetWriteDeadline(time.Now().Add(10 * time.Second))
	var hdr [8 + utf8.UTFMax]byte
	hdr[0] = stream
	size := len(prefix) + n
	hdr[4], hdr[5], hdr[6], hdr[7] = byte(size>>24), byte(size>>16), byte(size>>8), byte(size)
	h := append(hdr[:8], prefix...)
	if _, err := a.out.Write(h); err != nil {
		drainPipe(src, n)
		return err
	}
	for n > 0 {
		var serr error
		werr := rc.Write(func(fd uintptr) bool {
			m, err := unix.Splice(src, nil, int(fd), nil, n, unix.SPLICE_F_MOVE|unix.SPLICE_F_NONBLOCK)
			if err == unix.EAGAIN {
				return false
			}
			if serr = err; err == nil {
				n -= int(m)
			}
			return true
		})
		if werr == nil && serr == unix.EINTR {
			continue
		}
		if werr == nil {
			werr = serr
		}
		if werr != nil {
			drainPipe(src, n)
			return werr
		}
	}
	return nil
}

// drainPipe reads and drops n bytes from the pipe fd, which holds them.
func drainPipe(fd, n int) {
	var buf [32 << 10]byte
	for n > 0 {
		m, err := unix.Read(fd, buf[:min(n, len(buf))])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m == 0 {
			return
		}
		n -= m
	}
}
