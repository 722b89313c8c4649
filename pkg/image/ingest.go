package image

import (
	"bytes"
	"io"
	"runtime"
	"sync"

	"github.com/klauspost/compress/gzip"

	"github.com/minibox/minibox/pkg/toc"
)

// An imported layer is read once: each chunk of the tar goes to whoever needs it (the
// check that it is a tar, the unpacking into extracted/, the table of contents, the
// compressor), each in a goroutine of its own, so that a two-core host compresses and
// writes files at the same time and the first run only mounts.

// memberSize is how much of the tar one gzip member of an imported layer holds. Every
// byte then lies within memberSize of a place where decompression may start (under
// toc.SkipLimit), so the layer can be served lazily; and members compress in parallel.
const memberSize = 1 << 20

// importLevel trades size for speed: level 2 compresses a distribution's /usr to about
// 0.42 of its size at about 100 MB/s a core, where the default level reaches 0.38 at about
// 22 MB/s (klauspost/compress, measured on this project's bench host).
const importLevel = 2

// chunkReader reads the chunks a fan-out sends it, without copying them.
type chunkReader struct {
	ch  chan []byte
	cur []byte
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for len(c.cur) == 0 {
		b, ok := <-c.ch
		if !ok {
			return 0, io.EOF
		}
		c.cur = b
	}
	n := copy(p, c.cur)
	c.cur = c.cur[n:]
	return n, nil
}

// consumer runs fn over the chunks it is sent; once fn returns, the rest is drained, so
// a consumer that stops early (an unpacking that gave up) never blocks the others.
type consumer struct {
	r    *chunkReader
	done chan struct{}
	err  error
	once sync.Once
}

func consume(fn func(io.Reader) error) *consumer {
	c := &consumer{r: &chunkReader{ch: make(chan []byte, 8)}, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		c.err = fn(c.r)
		for range c.r.ch {
		}
	}()
	return c
}

func (c *consumer) send(b []byte) { c.r.ch <- b }

// finish ends the input and waits for fn's result.
func (c *consumer) finish() error {
	c.once.Do(func() { close(c.r.ch) })
	<-c.done
	return c.err
}

// memberCompressor gzips a stream as independent members of memberSize input bytes each,
// compressed by one worker per CPU and written in order; it records where each begins.
type memberCompressor struct {
	out   io.Writer
	jobs  chan *member
	order chan *member
	done  chan struct{}
	wg    sync.WaitGroup

	u           int64 // uncompressed bytes queued
	c           int64 // compressed bytes written
	checkpoints []toc.Checkpoint
	err         error
	closed      bool
}

type member struct {
	in    []byte
	u     int64
	out   bytes.Buffer
	err   error
	ready chan struct{}
}

func newMemberCompressor(out io.Writer) *memberCompressor {
	workers := runtime.GOMAXPROCS(0)
	m := &memberCompressor{out: out, jobs: make(chan *member, workers), order: make(chan *member, 2*workers), done: make(chan struct{})}
	for range workers {
		m.wg.Add(1)
		go m.work()
	}
	go m.write()
	return m
}

func (m *memberCompressor) work() {
	defer m.wg.Done()
	var zw *gzip.Writer
	for j := range m.jobs {
		// The zero header (no name, no time): the same tar gives the same blob.
		if zw == nil {
			zw, j.err = gzip.NewWriterLevel(&j.out, importLevel)
		} else {
			zw.Reset(&j.out)
		}
		if j.err == nil {
			if _, j.err = zw.Write(j.in); j.err == nil {
				j.err = zw.Close()
			}
		}
		close(j.ready)
	}
}

func (m *memberCompressor) write() {
	defer close(m.done)
	for j := range m.order {
		<-j.ready
		if m.err != nil {
			continue
		}
		if m.err = j.err; m.err != nil {
			continue
		}
		m.checkpoints = append(m.checkpoints, toc.Checkpoint{C: m.c, U: j.u})
		n, err := m.out.Write(j.out.Bytes())
		m.c += int64(n)
		m.err = err
	}
}

// add queues b (at most memberSize bytes, not modified afterwards) as the next member.
func (m *memberCompressor) add(b []byte) {
	j := &member{in: b, u: m.u, ready: make(chan struct{})}
	m.u += int64(len(b))
	m.order <- j
	m.jobs <- j
}

// close waits for every member to be written and returns the checkpoints.
func (m *memberCompressor) close() ([]toc.Checkpoint, error) {
	if m.closed {
		return m.checkpoints, m.err
	}
	m.closed = true
	if m.u == 0 {
		m.add(nil) // an empty tar still makes a valid gzip blob
	}
	close(m.jobs)
	close(m.order)
	m.wg.Wait()
	<-m.done
	return m.checkpoints, m.err
}
