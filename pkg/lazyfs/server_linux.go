package lazyfs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"
	"github.com/minibox/minibox/pkg/toc"
	"github.com/opencontainers/go-digest"
	"golang.org/x/sys/unix"
)

// Files of the server under <root>/lazy/. Dot names, so nothing takes them for a layer.
const (
	SocketName = ".lazyfs.sock"
	LockName   = ".lazyfs.lock"
	LogName    = ".lazyfs.log"
)

// Paths of one data root as lazyfs sees it.
type Paths struct{ Root string }

func (p Paths) Blob(d digest.Digest) string {
	return filepath.Join(p.Root, "blobs", "sha256", d.Encoded())
}
func (p Paths) Mount(d digest.Digest) string { return filepath.Join(p.Root, "lazy", d.Encoded()) }
func (p Paths) Cache(d digest.Digest) string { return filepath.Join(p.Root, "cache", d.Encoded()) }
func (p Paths) Socket() string               { return filepath.Join(p.Root, "lazy", SocketName) }

// request and response are the control protocol: one JSON line each way per connection.
type request struct {
	Op    string        `json:"op"` // ping, mount, unmount, list
	Layer digest.Digest `json:"layer,omitempty"`
}

type response struct {
	Error  string          `json:"error,omitempty"`
	PID    int             `json:"pid,omitempty"`
	Mounts []digest.Digest `json:"mounts,omitempty"`
}

// Server serves every lazy layer of one data root from one process, which outlives the
// daemon that started it.
type Server struct {
	paths Paths
	log   *slog.Logger
	idle  time.Duration

	mu     sync.Mutex
	mounts map[digest.Digest]*mounted
	last   time.Time // when the last mount went away
}

type mounted struct {
	srv   *fuse.Server
	layer *Layer
}

// Serve runs the server for root until ctx ends or it has had no mount for idle (0: never).
// A second server for the same root fails: the lock file is held.
func Serve(ctx context.Context, root string, idle time.Duration, log *slog.Logger) error {
	s := &Server{paths: Paths{root}, log: log, idle: idle, mounts: map[digest.Digest]*mounted{}, last: time.Now()}
	dir := filepath.Join(root, "lazy")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("lazyfs for %s is already running: %w", root, err)
	}
	lock.Truncate(0)
	lock.WriteString(strconv.Itoa(os.Getpid()) + "\n")

	sock := s.paths.Socket()
	os.Remove(sock) // left by a dead server; the lock says none is alive
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	defer ln.Close()
	os.Chmod(sock, 0o600)
	log.Info("lazyfs serving", "root", root, "pid", os.Getpid())

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go s.watch(ctx, cancel, sock)
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return err
		}
		go s.handle(c)
	}
	s.unmountAll()
	log.Info("lazyfs stopped", "root", root)
	return nil
}

// watch ends the server when it has been idle long enough, or when its socket is gone
// (the data root was removed or reset).
func (s *Server) watch(ctx context.Context, cancel func(), sock string) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := os.Stat(sock); err != nil {
			s.log.Info("lazyfs socket gone, stopping", "socket", sock)
			cancel()
			return
		}
		s.mu.Lock()
		idle := len(s.mounts) == 0 && s.idle > 0 && time.Since(s.last) > s.idle
		s.mu.Unlock()
		if idle {
			s.log.Info("lazyfs idle, stopping")
			cancel()
			return
		}
	}
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Minute)) // indexing a huge layer may take a while
	var req request
	var resp response
	if err := json.NewDecoder(bufio.NewReader(c)).Decode(&req); err != nil {
		resp.Error = "bad request: " + err.Error()
	} else if err := s.do(req, &resp); err != nil {
		resp.Error = err.Error()
	}
	json.NewEncoder(c).Encode(resp)
}

func (s *Server) do(req request, resp *response) error {
	switch req.Op {
	case "ping":
		resp.PID = os.Getpid()
		return nil
	case "list":
		s.mu.Lock()
		for d := range s.mounts {
			resp.Mounts = append(resp.Mounts, d)
		}
		s.mu.Unlock()
		return nil
	}
	if err := req.Layer.Validate(); err != nil {
		return fmt.Errorf("layer %q: %w", req.Layer, err)
	}
	switch req.Op {
	case "mount":
		return s.mount(req.Layer)
	case "unmount":
		return s.unmount(req.Layer)
	}
	return fmt.Errorf("unknown op %q", req.Op)
}

func (s *Server) mount(d digest.Digest) error {
	s.mu.Lock()
	defer s.mu.Unlock() // mounts are serialised: each takes milliseconds once indexed
	if _, ok := s.mounts[d]; ok {
		return nil
	}
	blob := s.paths.Blob(d)
	x, err := toc.Read(toc.Path(blob))
	if err != nil {
		if x, err = toc.BuildFile(blob, d); err != nil {
			return err
		}
		if err := toc.Write(toc.Path(blob), x); err != nil {
			return err
		}
	}
	dir := s.paths.Mount(d)
	if Stale(dir) {
		Detach(dir) // our predecessor died; its mount only answers ENOTCONN
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	l, err := Open(x, blob, s.paths.Cache(d), s.log)
	if err != nil {
		return err
	}
	srv, err := Mount(dir, l)
	if err != nil {
		l.Close()
		return err
	}
	m := &mounted{srv: srv, layer: l}
	s.mounts[d] = m
	go func() {
		srv.Wait() // returns once the kernel lets go, also after a lazy detach by prune
		l.Close()
		s.mu.Lock()
		if s.mounts[d] == m {
			delete(s.mounts, d)
			s.last = time.Now()
		}
		s.mu.Unlock()
		s.log.Info("lazy layer unmounted", "layer", d.Encoded()[:12])
	}()
	s.log.Info("lazy layer mounted", "layer", d.Encoded()[:12], "entries", len(x.Entries))
	return nil
}

func (s *Server) unmount(d digest.Digest) error {
	if err := Detach(s.paths.Mount(d)); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

func (s *Server) unmountAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for d := range s.mounts {
		Detach(s.paths.Mount(d))
	}
}

// Stale reports whether dir is a FUSE mount whose server is gone. statfs, not stat: the
// kernel answers stat from attributes it cached (for an hour here) even on a dead mount.
func Stale(dir string) bool {
	var st unix.Statfs_t
	return errors.Is(unix.Statfs(dir, &st), unix.ENOTCONN)
}

// Detach unmounts dir lazily: users keep what they have open, new lookups miss it.
func Detach(dir string) error {
	if err := unix.Unmount(dir, unix.MNT_DETACH); err != nil {
		return &os.PathError{Op: "umount", Path: dir, Err: err}
	}
	return nil
}

// Mounted reports whether dir is a mount point (its device differs from its parent's).
func Mounted(dir string) bool {
	var a, b unix.Stat_t
	if err := unix.Stat(dir, &a); err != nil {
		return errors.Is(err, unix.ENOTCONN)
	}
	if err := unix.Stat(filepath.Dir(dir), &b); err != nil {
		return false
	}
	return a.Dev != b.Dev
}
