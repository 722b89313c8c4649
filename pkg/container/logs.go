package container

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/minibox/minibox/pkg/shimapi"
)

// LogRecord is one chunk of a container's output.
type LogRecord = shimapi.LogRecord

// LogOptions select records. Neither Stdout nor Stderr means both; Tail > 0 keeps the last
// Tail lines of the matching records (0: all); zero Since/Until are unbounded.
type LogOptions struct {
	Follow         bool
	Tail           int
	Since, Until   time.Time
	Stdout, Stderr bool
}

func (o *LogOptions) match(r *LogRecord) bool {
	if o.Stdout != o.Stderr && (r.Stream == "stdout") != o.Stdout {
		return false
	}
	if !o.Since.IsZero() && r.Time.Before(o.Since) {
		return false
	}
	return o.Until.IsZero() || !r.Time.After(o.Until)
}

// ReadLogs emits the records of the container.log at path. With Follow it then waits for
// new records (inotify, no polling) until the container has exited (its exit.json
// appears beside the log), done is closed, or emit fails; what was written before the end
// is always emitted.
func ReadLogs(path string, opts LogOptions, done <-chan struct{}, emit func(LogRecord) error) error {
	dir := filepath.Dir(path)
	var w *watcher
	if opts.Follow {
		var err error
		if w, err = watch(path, done); err != nil {
			return err
		}
		defer w.close()
	}
	exited := func() bool {
		_, err := os.Stat(filepath.Join(dir, shimapi.ExitName))
		return err == nil
	}
	f, err := os.Open(path)
	for errors.Is(err, os.ErrNotExist) && w != nil && !exited() {
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
	defer f.Close()
	skip := 0 // bytes of the first record's text before the tail's first line
	if opts.Tail > 0 {
		var off int64
		off, skip, err = tailOffset(f, opts.Tail, &opts)
		if err != nil {
			return err
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return err
		}
	}
	r := bufio.NewReaderSize(f, 64<<10)
	var partial []byte
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			partial = append(partial, line...)
			continue
		}
		if err == nil {
			if len(partial) > 0 {
				line = append(partial, line...)
				partial = partial[:0]
			}
			var rec LogRecord
			if json.Unmarshal(line, &rec) != nil || !opts.match(&rec) {
				continue
			}
			if !opts.Until.IsZero() && rec.Time.After(opts.Until) {
				return nil
			}
			if skip > 0 {
				rec.Text, skip = rec.Text[min(skip, len(rec.Text)):], 0
				if rec.Text == "" {
					continue
				}
			}
			if err := emit(rec); err != nil {
				return err
			}
			continue
		}
		if err != io.EOF {
			return err
		}
		partial = append(partial, line...) // a line the shim is still writing
		if w == nil {
			return nil
		}
		if w.ended {
			return nil // drained after the end
		}
		if exited() {
			w.ended = true // one more pass picks up what landed before exit.json
			continue
		}
		if !w.wait() {
			w.ended = true
		}
	}
}

// tailOffset finds where the last n lines of the matching records start, reading
// backwards: the offset of the record that holds the first of them, and how many bytes of
// that record's text come before it. A record is one read of the container's output, so it
// may hold many lines (or part of one); a last line without its newline counts.
func tailOffset(f *os.File, n int, opts *LogOptions) (int64, int, error) {
	end, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, 0, err
	}
	const block = 64 << 10
	var carry []byte // the start of a record cut by the block boundary
	last := true     // the newest matching record: its final newline ends a line, starts none
	pos := end
	for pos > 0 {
		size := int64(block)
		if pos < size {
			size = pos
		}
		pos -= size
		buf := make([]byte, size, int(size)+len(carry))
		if _, err := f.ReadAt(buf, pos); err != nil {
			return 0, 0, err
		}
		buf = append(buf, carry...)
		for i := len(buf) - 1; i >= 0; {
			j := bytes.LastIndexByte(buf[:i], '\n') // end of the previous record
			if j < 0 && pos > 0 {
				carry = append([]byte(nil), buf[:i+1]...)
				break
			}
			line := buf[j+1 : i+1]
			var rec LogRecord
			if len(bytes.TrimSpace(line)) > 0 && json.Unmarshal(line, &rec) == nil && opts.match(&rec) {
				text := rec.Text
				if last {
					text = strings.TrimSuffix(text, "\n")
					last = false
				}
				// Each newline (but the last) ends the line before the one that follows it.
				for k := len(text) - 1; k >= 0; k-- {
					if text[k] == '\n' {
						if n--; n == 0 {
							return pos + int64(j+1), k + 1, nil
						}
					}
				}
			}
			if j < 0 {
				break
			}
			i = j
		}
		if pos == 0 {
			break
		}
	}
	return 0, 0, nil
}
