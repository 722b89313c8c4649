package logfile

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// A local record: header, the output as written, then its length again (for reading
// backwards). The magic byte is never '{', which starts every JSON line.
const (
	magic      = 0xB1
	headerSize = 16 // magic, stream, 2 unused, length (uint32), time (int64 ns), big-endian
	trailer    = 4
)

// Stream numbers in a record, as in the attach protocol.
const (
	Stdout byte = 1
	Stderr byte = 2
)

// Writer appends records to a container's log, rotating it as its Config says. It is safe
// for the stdout and stderr copiers at once: each record's time is taken under the lock,
// so the file's order is the time order.
type Writer struct {
	mu   sync.Mutex
	path string
	cfg  Config
	f    *os.File
	fd   int
	size int64
	hdr  [headerSize]byte
	tr   [trailer]byte
	line []byte // json-file's encoding buffer
	err  error  // the first rotation failure (the log goes on in the current file)

	noSplice atomic.Bool // a splice into the file failed: Splice's callers read instead
}

// Open opens (appends to) the log at path; with the none driver nothing is opened and
// Write keeps nothing.
func Open(path string, cfg Config) (*Writer, error) {
	w := &Writer{path: path, cfg: cfg}
	if cfg.Driver == DriverNone {
		return w, nil
	}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Writer) open() error {
	// Written at w.size, not O_APPEND: a spliced record's header is corrected in place
	// (Splice), and its last bytes are read back.
	f, err := os.OpenFile(w.path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	// Raw writes through the fd: pwritev of header, output and trailer in one call. The
	// file stays open (and the fd valid) for as long as w.f is.
	sc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return err
	}
	sc.Control(func(fd uintptr) { w.fd = int(fd) })
	w.f, w.size = f, st.Size()
	return nil
}

// Write appends p as one record of stream, stamped now.
func (w *Writer) Write(stream byte, p []byte) error {
	if w.cfg.Driver == DriverNone || len(p) == 0 {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	if w.cfg.Driver == DriverLocal {
		n := int64(headerSize + len(p) + trailer)
		w.rotateFor(n)
		w.hdr[0], w.hdr[1] = magic, stream
		binary.BigEndian.PutUint32(w.hdr[4:8], uint32(len(p)))
		binary.BigEndian.PutUint64(w.hdr[8:16], uint64(now.UnixNano()))
		binary.BigEndian.PutUint32(w.tr[:], uint32(len(p)))
		return w.append([][]byte{w.hdr[:], p, w.tr[:]})
	}
	name := "stdout"
	if stream == Stderr {
		name = "stderr"
	}
	w.line = AppendJSON(w.line[:0], now, name, p)
	w.rotateFor(int64(len(w.line)))
	err := w.append([][]byte{w.line})
	if cap(w.line) > 64<<10 {
		w.line = nil // one big burst need not keep its buffer
	}
	return err
}

// CanSplice reports whether Splice is worth using: the local format, whose records hold
// the output as it came, on a filesystem that has taken splices so far.
func (w *Writer) CanSplice() bool { return w.cfg.Driver == DriverLocal && !w.noSplice.Load() }

// Splice appends one record of stream, stamped now, whose text is prefix followed by n
// bytes moved from the pipe src, which holds at least that much: the kernel copies them
// from the pipe into the file, not through our memory. As Write's callers do with a read,
// a multi-byte character cut at the end is left out of the record: its bytes (at most
// utf8.UTFMax-1) are read back into held, and held[:k] is returned for the next record
// to begin with. n must be at least utf8.UTFMax. src is drained of its n bytes even when
// the record cannot be written (err; the log then lacks them).
func (w *Writer) Splice(stream byte, prefix []byte, src, n int, held *[utf8.UTFMax]byte) (k int, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rotateFor(int64(headerSize + len(prefix) + n + trailer))
	off := w.size
	text := len(prefix) + n
	w.hdr[0], w.hdr[1] = magic, stream
	binary.BigEndian.PutUint32(w.hdr[4:8], uint32(text))
	binary.BigEndian.PutUint64(w.hdr[8:16], uint64(time.Now().UnixNano()))
	// The header goes first, with the whole length: a reader following the file sees a
	// record cut short, and waits, until the trailer that ends it is written.
	if _, err := pwritev(w.fd, [][]byte{w.hdr[:], prefix}, off); err != nil {
		unix.Ftruncate(w.fd, off)
		return 0, errors.Join(err, copyPipe(src, -1, 0, n))
	}
	dst := off + headerSize + int64(len(prefix))
	for moved := 0; moved < n; {
		m, err := unix.Splice(src, nil, w.fd, &dst, n-moved, unix.SPLICE_F_MOVE)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || m == 0 {
			// A filesystem that takes no splice: the rest goes through memory, and the
			// next records are written as reads.
			w.noSplice.Store(true)
			if err := copyPipe(src, w.fd, dst, n-moved); err != nil {
				unix.Ftruncate(w.fd, off)
				return 0, err
			}
			break
		}
		moved += int(m)
	}
	end := off + headerSize + int64(text)
	var tail [utf8.UTFMax]byte
	if _, err := unix.Pread(w.fd, tail[:], end-utf8.UTFMax); err != nil {
		unix.Ftruncate(w.fd, off)
		return 0, &os.PathError{Op: "pread", Path: "container log", Err: err}
	}
	if whole := SplitUTF8(tail[:]); whole < len(tail) {
		k = copy(held[:], tail[whole:])
		text -= k
		end -= int64(k)
		binary.BigEndian.PutUint32(w.hdr[4:8], uint32(text))
		if _, err := pwritev(w.fd, [][]byte{w.hdr[4:8]}, off+4); err != nil {
			unix.Ftruncate(w.fd, off)
			return 0, err
		}
	}
	// The trailer ends the record (over the held bytes, if any, which it outgrows).
	binary.BigEndian.PutUint32(w.tr[:], uint32(text))
	if _, err := pwritev(w.fd, [][]byte{w.tr[:]}, end); err != nil {
		unix.Ftruncate(w.fd, off)
		return 0, err
	}
	w.size = end + trailer
	return k, nil
}

// copyPipe reads n bytes from the pipe src and writes them to fd at off (fd < 0: drops
// them). All n are taken from src even when a write fails.
func copyPipe(src, fd int, off int64, n int) error {
	var buf [32 << 10]byte
	var werr error
	for n > 0 {
		m, err := unix.Read(src, buf[:min(n, len(buf))])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return errors.Join(werr, err)
		}
		if m == 0 {
			return errors.Join(werr, io.ErrUnexpectedEOF)
		}
		n -= m
		if fd >= 0 && werr == nil {
			_, werr = pwritev(fd, [][]byte{buf[:m]}, off)
			off += int64(m)
		}
	}
	return werr
}

// rotateFor starts a new file when n more bytes would take the current one past MaxSize
// (a record larger than MaxSize still goes whole into a file of its own).
func (w *Writer) rotateFor(n int64) {
	if w.cfg.MaxSize <= 0 || w.size == 0 || w.size+n <= w.cfg.MaxSize || w.err != nil {
		return
	}
	if err := w.rotate(); err != nil && w.err == nil {
		w.err = err
	}
}

// rotate shifts container.log.(i) to .(i+1), drops what goes past MaxFiles, and starts an
// empty container.log. A follower holding the old file reads it to its end, then moves on
// (see Read).
func (w *Writer) rotate() error {
	keep := max(w.cfg.MaxFiles, 1)
	if keep == 1 {
		if err := os.Remove(w.path); err != nil {
			return err
		}
	} else {
		os.Remove(RotatedName(w.path, keep-1))
		for i := keep - 2; i >= 1; i-- {
			if err := os.Rename(RotatedName(w.path, i), RotatedName(w.path, i+1)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
		if err := os.Rename(w.path, RotatedName(w.path, 1)); err != nil {
			return err
		}
	}
	old := w.f
	if err := w.open(); err != nil {
		w.f = old // keep writing where we were rather than lose the output
		return err
	}
	old.Close()
	return nil
}

// Err reports the first failure to rotate (nil when none).
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Close closes the file.
func (w *Writer) Close() error {
	if w.f == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// RotatedName is the i-th older file of the log at path (i >= 1).
func RotatedName(path string, i int) string { return path + "." + strconv.Itoa(i) }

// append writes bufs at the end of the file. A failed write is cut off again, so that
// the next record starts where this one should have.
func (w *Writer) append(bufs [][]byte) error {
	n, err := pwritev(w.fd, bufs, w.size)
	if err != nil {
		unix.Ftruncate(w.fd, w.size)
		return err
	}
	w.size += n
	return nil
}

// pwritev writes all of bufs at off, continuing after short writes, and returns how much
// it wrote.
func pwritev(fd int, bufs [][]byte, off int64) (int64, error) {
	var total int64
	for {
		n, err := unix.Pwritev2(fd, bufs, off+total, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return total, &os.PathError{Op: "pwritev", Path: "container log", Err: err}
		}
		total += int64(n)
		for n > 0 && len(bufs) > 0 {
			if n < len(bufs[0]) {
				bufs[0] = bufs[0][n:]
				n = 0
				break
			}
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
		if len(bufs) == 0 {
			return total, nil
		}
	}
}
