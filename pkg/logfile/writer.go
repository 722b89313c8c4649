package logfile

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

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
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	// Raw writes through the fd: writev of header, output and trailer in one call. The
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
		err := writev(w.fd, [][]byte{w.hdr[:], p, w.tr[:]})
		w.size += n
		return err
	}
	name := "stdout"
	if stream == Stderr {
		name = "stderr"
	}
	w.line = AppendJSON(w.line[:0], now, name, p)
	w.rotateFor(int64(len(w.line)))
	_, err := w.f.Write(w.line)
	w.size += int64(len(w.line))
	if cap(w.line) > 64<<10 {
		w.line = nil // one big burst need not keep its buffer
	}
	return err
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

// writev writes all of bufs, continuing after short writes.
func writev(fd int, bufs [][]byte) error {
	for {
		n, err := unix.Writev(fd, bufs)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return &os.PathError{Op: "writev", Path: "container log", Err: err}
		}
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
			return nil
		}
	}
}
