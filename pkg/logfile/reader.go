package logfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Options select records. Neither Stdout nor Stderr means both; Tail > 0 keeps the last
// Tail lines of the matching records (0: all); zero Since/Until are unbounded.
type Options struct {
	Follow         bool
	Tail           int
	Since, Until   time.Time
	Stdout, Stderr bool
}

func (o *Options) match(r *Record) bool {
	if o.Stdout != o.Stderr && (r.Stream == "stdout") != o.Stdout {
		return false
	}
	if !o.Since.IsZero() && r.Time.Before(o.Since) {
		return false
	}
	return o.Until.IsZero() || !r.Time.After(o.Until)
}

// errStop ends a read once Until is passed.
var errStop = errors.New("past until")

// Read emits the records of the log at path, its rotated files (path.N ... path.1) first.
// With Follow it then waits for new records (inotify, no polling), across rotations, until
// ended reports that the writer is done (one more pass then takes what it wrote last),
// done is closed, or emit fails.
func Read(path string, opts Options, ended func() bool, done <-chan struct{}, emit func(Record) error) error {
	var w *watcher
	if opts.Follow {
		var err error
		if w, err = watch(path, done); err != nil {
			return err
		}
		defer w.close()
	}
	files := existing(path)
	first, off, skip := 0, int64(0), 0
	if opts.Tail > 0 {
		var err error
		if first, off, skip, err = tailStart(files, opts.Tail, &opts); err != nil {
			return err
		}
	}
	rd := &reader{opts: &opts, emit: emit, skip: skip}
	// The older files are complete: read each once.
	for i := first; i < len(files)-1; i++ {
		f, err := os.Open(files[i])
		if errors.Is(err, os.ErrNotExist) {
			continue // rotated away meanwhile
		}
		if err != nil {
			return err
		}
		rd.reset(f, off)
		err = rd.drain()
		f.Close()
		off = 0
		if err == errStop {
			return nil
		}
		if err != nil {
			return err
		}
	}
	f, err := os.Open(path)
	for errors.Is(err, os.ErrNotExist) && w != nil && !ended() {
		if !w.wait() {
			return nil
		}
		f, err = os.Open(path)
	}
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if first < len(files)-1 {
		off = 0
	}
	rd.reset(f, off)
	defer func() { rd.f.Close() }()
	last := false
	for {
		err := rd.drain()
		if err == errStop {
			return nil
		}
		if err != nil {
			return err
		}
		if w == nil {
			return nil
		}
		// Rotated: the writer is done with our file (it renames only after its last
		// write there), so what we read is all of it; the newer files follow.
		if rd.rotated(path) {
			// The writer renames a file only after its last write there, which may have
			// come after our drain: read ours to its end once more, then move on to the
			// next file (drained at the top of the loop, and so on along the chain).
			if err := rd.drain(); err == errStop {
				return nil
			} else if err != nil {
				return err
			}
			nf, err := successor(path, rd.f)
			if err != nil {
				return err
			}
			if nf != nil {
				rd.f.Close()
				rd.reset(nf, 0)
			}
			continue
		}
		if last {
			return nil
		}
		if ended() {
			last = true // one more pass picks up what landed before the end
			continue
		}
		if !w.wait() {
			last = true
		}
	}
}

// existing lists the log's files, oldest first; the current one is always last (it may
// not exist yet). The directory is listed rather than probed .1, .2, ... in turn: while the
// writer rotates, a number in the middle is briefly missing.
func existing(path string) []string {
	ents, _ := os.ReadDir(filepath.Dir(path))
	prefix := filepath.Base(path) + "."
	var nums []int
	for _, e := range ents {
		if rest, ok := strings.CutPrefix(e.Name(), prefix); ok {
			if n, err := strconv.Atoi(rest); err == nil && n > 0 {
				nums = append(nums, n)
			}
		}
	}
	slices.Sort(nums)
	out := make([]string, 0, len(nums)+1)
	for i := len(nums) - 1; i >= 0; i-- {
		out = append(out, RotatedName(path, nums[i]))
	}
	return append(out, path)
}

// reader reads one file's records from an offset; a record cut at the end of the file
// (still being written) is read again from its start on the next drain.
type reader struct {
	opts *Options
	emit func(Record) error
	skip int // bytes of the first record's text before the tail's first line

	f      *os.File
	off    int64 // where the next record starts
	format byte  // 0 (empty so far), '{' (JSON lines) or magic
	r      *bufio.Reader
	buf    []byte
}

func (rd *reader) reset(f *os.File, off int64) {
	rd.f, rd.off, rd.format = f, off, 0
	if rd.r == nil {
		rd.r = bufio.NewReaderSize(f, 256<<10)
	}
	f.Seek(off, io.SeekStart)
	rd.r.Reset(f)
}

// drain emits every whole record up to the end of the file.
func (rd *reader) drain() error {
	if rd.format == 0 {
		b, err := rd.r.Peek(1)
		if err != nil {
			return nil // empty so far
		}
		rd.format = b[0]
		if rd.off > 0 {
			// A tail start inside the file: the format is the file's, from its first byte.
			var first [1]byte
			if _, err := rd.f.ReadAt(first[:], 0); err == nil {
				rd.format = first[0]
			}
		}
	}
	for {
		rec, n, err := rd.next()
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			// Read the cut record again once it is whole.
			rd.f.Seek(rd.off, io.SeekStart)
			rd.r.Reset(rd.f)
			return nil
		}
		if err != nil {
			return err
		}
		rd.off += n
		if rec == nil || !rd.opts.match(rec) {
			if rec != nil && !rd.opts.Until.IsZero() && rec.Time.After(rd.opts.Until) {
				return errStop
			}
			continue
		}
		if rd.skip > 0 {
			rec.Text, rd.skip = rec.Text[min(rd.skip, len(rec.Text)):], 0
			if rec.Text == "" {
				continue
			}
		}
		if err := rd.emit(*rec); err != nil {
			return err
		}
	}
}

// next reads one record and its size in the file; a nil record is a line that is not
// one (skipped).
func (rd *reader) next() (*Record, int64, error) {
	if rd.format == magic {
		hdr, err := rd.r.Peek(headerSize)
		if err != nil {
			return nil, 0, io.EOF
		}
		if hdr[0] != magic {
			return nil, 0, errors.New("container log: damaged record (bad magic)")
		}
		rec := Record{Stream: streamName(hdr[1]), Time: time.Unix(0, int64(binary.BigEndian.Uint64(hdr[8:16])))}
		n := int(binary.BigEndian.Uint32(hdr[4:8]))
		if rd.r.Buffered() < headerSize+n+trailer {
			// Check the whole record is there before consuming anything.
			if _, err := rd.r.Peek(min(headerSize+n+trailer, rd.r.Size())); err != nil {
				return nil, 0, io.EOF
			}
		}
		rd.r.Discard(headerSize)
		if cap(rd.buf) < n+trailer {
			rd.buf = make([]byte, n+trailer)
		}
		b := rd.buf[:n+trailer]
		if _, err := io.ReadFull(rd.r, b); err != nil {
			return nil, 0, io.ErrUnexpectedEOF
		}
		rec.Text = string(b[:n])
		return &rec, int64(headerSize + n + trailer), nil
	}
	line, err := rd.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		long := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = rd.r.ReadSlice('\n')
			long = append(long, line...)
		}
		line = long
	}
	if err != nil {
		return nil, 0, io.EOF
	}
	var rec Record
	if json.Unmarshal(line, &rec) != nil {
		return nil, int64(len(line)), nil
	}
	return &rec, int64(len(line)), nil
}

func streamName(s byte) string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// rotated reports whether path is no longer the file being read, and then the files that
// came after ours, oldest first (our file may have been shifted more than once meanwhile).
func (rd *reader) rotated(path string) bool {
	cur, err := os.Stat(path)
	if err != nil {
		return false // between the rename and the new file: the next event tells
	}
	ours, err := rd.f.Stat()
	return err == nil && !os.SameFile(cur, ours)
}

// successor opens the file written after ours, or returns nil when ours is the current
// one. Names shift while the writer rotates (oldest first, the current file last), so the
// name after ours in a listing may be opened only after a rotation moved another file
// there. What was opened is kept only if, afterwards, ours still holds its number k and
// the opened name is k-1, or k-2 with k-1 empty (the writer is between the two renames):
// names only grow, so ours unmoved means its successor did not move past it either. Ours
// rotated out of existence (a slow reader, max-file reached) continues with the oldest
// file left.
func successor(path string, f *os.File) (*os.File, error) {
	for range 100 {
		ours, err := f.Stat()
		if err != nil {
			return nil, err
		}
		files := existing(path)
		i := slices.IndexFunc(files, func(name string) bool { return sameFile(name, ours) })
		if i == len(files)-1 {
			return nil, nil
		}
		if i < 0 && linked(ours) {
			continue // renamed while the names were looked at
		}
		if i < 0 {
			next, err := os.Open(files[0])
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return next, err
		}
		next, err := os.Open(files[i+1])
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		k, n := rotation(path, files[i]), rotation(path, files[i+1])
		adjacent := n == k-1 || (n == k-2 && !exists(RotatedName(path, k-1)))
		if adjacent && sameFile(files[i], ours) {
			return next, nil
		}
		next.Close()
	}
	return nil, fmt.Errorf("log %s rotates faster than it can be followed", path)
}

// rotation is the number of a log file's name: 0 for the current file, N for path.N.
func rotation(path, name string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(name, path+"."))
	if name == path || err != nil {
		return 0
	}
	return n
}

func sameFile(name string, fi os.FileInfo) bool {
	st, err := os.Stat(name)
	return err == nil && os.SameFile(st, fi)
}

func exists(name string) bool {
	_, err := os.Lstat(name)
	return err == nil
}

// linked says whether a file still has a name (a rotated-away one has none).
func linked(fi os.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Nlink > 0
}

// tailStart finds where the last n lines of the matching records start: the file, the
// offset of the record that holds the first of them, and how many bytes of that record's
// text come before it. A record is one read of the container's output, so it may hold many
// lines (or part of one); a last line without its newline counts.
func tailStart(files []string, n int, opts *Options) (int, int64, int, error) {
	last := true // the newest matching record: its final newline ends a line, starts none
	for i := len(files) - 1; i >= 0; i-- {
		f, err := os.Open(files[i])
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, 0, 0, err
		}
		var found bool
		var off int64
		var skip int
		visit := func(rec *Record, start int64) bool {
			if !opts.match(rec) {
				return true
			}
			text := rec.Text
			if last {
				text = strings.TrimSuffix(text, "\n")
				last = false
			}
			// Each newline (but the last) ends the line before the one that follows it.
			for k := len(text) - 1; k >= 0; k-- {
				if text[k] == '\n' {
					if n--; n == 0 {
						found, off, skip = true, start, k+1
						return false
					}
				}
			}
			return true
		}
		err = scanBack(f, visit)
		f.Close()
		if err != nil {
			return 0, 0, 0, err
		}
		if found {
			return i, off, skip, nil
		}
	}
	return 0, 0, 0, nil
}

// scanBack calls visit for each record of f, newest first, with its offset, until visit
// returns false.
func scanBack(f *os.File, visit func(*Record, int64) bool) error {
	var first [1]byte
	if _, err := f.ReadAt(first[:], 0); err != nil {
		return nil // empty
	}
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if first[0] == magic {
		return scanBackLocal(f, end, visit)
	}
	return scanBackJSON(f, end, visit)
}

// scanBackLocal walks the trailers back; a cut record at the end (being written) is
// skipped by finding the last whole one from the front.
func scanBackLocal(f *os.File, end int64, visit func(*Record, int64) bool) error {
	var hdr [headerSize]byte
	var tr [trailer]byte
	pos := end
	if !wholeAt(f, pos) {
		pos = lastWhole(f, end)
	}
	var buf []byte
	for pos >= headerSize+trailer {
		if _, err := f.ReadAt(tr[:], pos-trailer); err != nil {
			return err
		}
		n := int64(binary.BigEndian.Uint32(tr[:]))
		start := pos - trailer - n - headerSize
		if start < 0 {
			return errors.New("container log: damaged record (bad length)")
		}
		if _, err := f.ReadAt(hdr[:], start); err != nil {
			return err
		}
		if hdr[0] != magic || int64(binary.BigEndian.Uint32(hdr[4:8])) != n {
			return errors.New("container log: damaged record (header and trailer differ)")
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := f.ReadAt(buf, start+headerSize); err != nil {
			return err
		}
		rec := Record{Time: time.Unix(0, int64(binary.BigEndian.Uint64(hdr[8:16]))), Stream: streamName(hdr[1]), Text: string(buf)}
		if !visit(&rec, start) {
			return nil
		}
		pos = start
	}
	return nil
}

// wholeAt reports whether a record ends at pos (its trailer and header agree).
func wholeAt(f *os.File, pos int64) bool {
	var tr [trailer]byte
	var hdr [headerSize]byte
	if pos < headerSize+trailer {
		return pos == 0
	}
	if _, err := f.ReadAt(tr[:], pos-trailer); err != nil {
		return false
	}
	n := int64(binary.BigEndian.Uint32(tr[:]))
	start := pos - trailer - n - headerSize
	if start < 0 {
		return false
	}
	if _, err := f.ReadAt(hdr[:], start); err != nil {
		return false
	}
	return hdr[0] == magic && int64(binary.BigEndian.Uint32(hdr[4:8])) == n
}

// lastWhole is where the last whole record before end ends, found from the front.
func lastWhole(f *os.File, end int64) int64 {
	var hdr [headerSize]byte
	pos := int64(0)
	for {
		if _, err := f.ReadAt(hdr[:], pos); err != nil || hdr[0] != magic {
			return pos
		}
		next := pos + headerSize + int64(binary.BigEndian.Uint32(hdr[4:8])) + trailer
		if next > end {
			return pos
		}
		pos = next
	}
}

// scanBackJSON reads JSON lines backwards in blocks.
func scanBackJSON(f *os.File, end int64, visit func(*Record, int64) bool) error {
	const block = 64 << 10
	var carry []byte // the start of a record cut by the block boundary
	pos := end
	for pos > 0 {
		size := min(int64(block), pos)
		pos -= size
		buf := make([]byte, size, int(size)+len(carry))
		if _, err := f.ReadAt(buf, pos); err != nil {
			return err
		}
		buf = append(buf, carry...)
		carry = nil
		for i := len(buf) - 1; i >= 0; {
			j := bytes.LastIndexByte(buf[:i], '\n') // end of the previous record
			if j < 0 && pos > 0 {
				carry = append([]byte(nil), buf[:i+1]...)
				break
			}
			line := buf[j+1 : i+1]
			var rec Record
			if len(bytes.TrimSpace(line)) > 0 && json.Unmarshal(line, &rec) == nil {
				if !visit(&rec, pos+int64(j+1)) {
					return nil
				}
			}
			if j < 0 {
				break
			}
			i = j
		}
	}
	return nil
}
