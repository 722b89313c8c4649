package compose

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/patternmatcher"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/api"
)

// WatchOptions are `watch`'s flags.
type WatchOptions struct {
	Services []string
	NoUp     bool // the services run already: watch only
}

// watchQuiet is how long a burst of changes must have been quiet before its actions run
// once (an editor's save, a git checkout); watchMaxWait bounds the wait while changes
// keep coming.
const (
	watchQuiet   = 300 * time.Millisecond
	watchMaxWait = time.Second
)

// trigger is one develop.watch entry of a service, its ignore and include patterns made.
type trigger struct {
	service string
	types.Trigger
	ignore, include *patternmatcher.PatternMatcher
}

// Watch brings the services up (unless NoUp), then follows the files their develop.watch
// sections name until ctx ends, as Compose's watch does: a change under a sync path is
// copied into (or, gone, removed from) each of the service's running containers at the
// target; sync+restart restarts them after, sync+exec runs the command in them; restart
// restarts them; rebuild builds the image and recreates the containers.
func (r *Runner) Watch(ctx context.Context, o WatchOptions) error {
	triggers, err := r.triggers(o.Services)
	if err != nil {
		return err
	}
	if !o.NoUp {
		if err := r.Up(ctx, UpOptions{Services: o.Services}); err != nil {
			return err
		}
	}
	w, err := newTreeWatcher()
	if err != nil {
		return err
	}
	defer w.close()
	for _, t := range triggers {
		if err := w.add(t.Path); err != nil {
			return fmt.Errorf("services.%s.develop.watch: %s: %w", t.service, t.Path, err)
		}
	}
	for _, t := range triggers {
		if t.InitialSync && t.Action != types.WatchActionRebuild && t.Action != types.WatchActionRestart {
			// initial_sync: the containers start from the whole tree as it is now.
			cs, err := r.Pick(ctx, []string{t.service})
			if err != nil {
				return err
			}
			for _, c := range cs {
				if c.Status == "running" {
					if err := r.sync(ctx, c, t, []string{"."}); err != nil {
						return fmt.Errorf("services.%s.develop.watch: initial sync: %w", t.service, err)
					}
				}
			}
		}
	}
	r.progress().note("Watch enabled")
	changes := make(chan string, 256)
	errc := make(chan error, 1)
	go func() { errc <- w.run(ctx, changes) }()
	var pending []string
	seen := map[string]bool{} // pending, as a set: a checkout changes thousands of files
	var first time.Time       // of the pending changes
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case p := <-changes:
			if len(pending) == 0 {
				first = time.Now()
			}
			if !seen[p] {
				seen[p] = true
				pending = append(pending, p)
			}
			timer.Reset(min(watchQuiet, max(time.Until(first.Add(watchMaxWait)), 0)))
		case <-timer.C:
			batch := pending
			pending = nil
			clear(seen)
			for _, t := range triggers {
				if files := t.matching(batch); len(files) > 0 {
					if err := r.apply(ctx, t, files); err != nil {
						r.warn(fmt.Sprintf("%s: %v", t.service, err))
					}
				}
			}
		}
	}
}

// CheckWatch says why Watch would refuse the services' develop.watch sections, before
// anything is made (up --watch).
func (r *Runner) CheckWatch(services []string) error {
	_, err := r.triggers(services)
	return err
}

// triggers are the develop.watch entries of the services (all when none are named).
func (r *Runner) triggers(services []string) ([]*trigger, error) {
	names, err := r.selected(services, true)
	if err != nil {
		return nil, err
	}
	var out []*trigger
	for _, n := range names {
		s := r.P.Services[n]
		if s.Develop == nil {
			continue
		}
		for i, t := range s.Develop.Watch {
			tr, err := newTrigger(s, i, t)
			if err != nil {
				return nil, err
			}
			out = append(out, tr)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("none of the selected services is configured for watch: give it a develop.watch section")
	}
	return out, nil
}

func newTrigger(s types.ServiceConfig, i int, t types.Trigger) (*trigger, error) {
	at := fmt.Sprintf("services.%s.develop.watch[%d]", s.Name, i)
	switch t.Action {
	case types.WatchActionSync, types.WatchActionSyncRestart, types.WatchActionSyncExec:
		if t.Target == "" || !path.IsAbs(t.Target) {
			return nil, fmt.Errorf("%s: %s needs an absolute target in the container", at, t.Action)
		}
		if t.Action == types.WatchActionSyncExec && len(t.Exec.Command) == 0 {
			return nil, fmt.Errorf("%s: sync+exec needs exec.command", at)
		}
	case types.WatchActionRebuild:
		if s.Build == nil {
			return nil, fmt.Errorf("%s: rebuild needs the service's build section", at)
		}
	case types.WatchActionRestart:
	default:
		return nil, fmt.Errorf("%s: action %q: expected sync, rebuild, restart, sync+restart or sync+exec", at, t.Action)
	}
	if !filepath.IsAbs(t.Path) {
		return nil, fmt.Errorf("%s: path %q is not resolved", at, t.Path)
	}
	tr := &trigger{service: s.Name, Trigger: t}
	var err error
	if tr.ignore, err = patternmatcher.New(t.Ignore); err != nil {
		return nil, fmt.Errorf("%s.ignore: %w", at, err)
	}
	if len(t.Include) > 0 {
		if tr.include, err = patternmatcher.New(t.Include); err != nil {
			return nil, fmt.Errorf("%s.include: %w", at, err)
		}
	}
	return tr, nil
}

// matching are the changed paths under t's path that its ignore patterns leave and its
// include patterns (when it has some) take, relative to that path.
func (t *trigger) matching(changed []string) []string {
	var out []string
	for _, p := range changed {
		rel, err := filepath.Rel(t.Path, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		if rel == "." {
			// The watched directory itself (its mode, its times): what it holds is
			// unchanged, and a file trigger's own change keeps its ".".
			if st, err := os.Stat(t.Path); err == nil && st.IsDir() {
				continue
			}
		}
		if rel != "." {
			if ignored, _ := t.ignore.MatchesOrParentMatches(rel); ignored {
				continue
			}
			if t.include != nil {
				if ok, _ := t.include.MatchesOrParentMatches(rel); !ok {
					continue
				}
			}
		}
		out = append(out, rel)
	}
	return out
}

// apply runs t's action for the changed files (relative to t's path).
func (r *Runner) apply(ctx context.Context, t *trigger, files []string) error {
	if t.Action == types.WatchActionRebuild {
		r.progress().note(fmt.Sprintf("Rebuilding service %q after changes were detected", t.service))
		return r.Up(ctx, UpOptions{Services: []string{t.service}, NoDeps: true, Build: true, ForceRecreate: true})
	}
	cs, err := r.Pick(ctx, []string{t.service})
	if err != nil {
		return err
	}
	cs = slices.DeleteFunc(cs, func(c api.ContainerSummary) bool { return c.Status != "running" })
	if t.Action != types.WatchActionRestart {
		r.progress().note(fmt.Sprintf("Syncing service %q after %d changes were detected", t.service, len(files)))
		for _, c := range cs {
			if err := r.sync(ctx, c, t, files); err != nil {
				return fmt.Errorf("container %s: %w", c.Name, err)
			}
		}
	}
	switch t.Action {
	case types.WatchActionRestart, types.WatchActionSyncRestart:
		r.progress().note(fmt.Sprintf("Restarting service %q after changes were detected", t.service))
		return parallel(cs, func(c api.ContainerSummary) error { return r.C.ContainerRestart(ctx, c.ID, nil) })
	case types.WatchActionSyncExec:
		return parallel(cs, func(c api.ContainerSummary) error { return r.execHook(ctx, c, t.Exec) })
	}
	return nil
}

// sync copies each file (relative to t's path) that exists into c at t's target, in one
// archive unpacked at the container's root (so that missing directories of the target
// are made), and removes from c each one that is gone.
func (r *Runner) sync(ctx context.Context, c api.ContainerSummary, t *trigger, files []string) error {
	var gone, present []string
	for _, rel := range files {
		if _, err := os.Lstat(filepath.Join(t.Path, rel)); errors.Is(err, fs.ErrNotExist) {
			gone = append(gone, path.Join(t.Target, filepath.ToSlash(rel)))
		} else {
			present = append(present, rel)
		}
	}
	if len(present) > 0 {
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			for _, rel := range present {
				dst := strings.TrimPrefix(path.Join(t.Target, filepath.ToSlash(rel)), "/")
				if err := tarTree(tw, filepath.Join(t.Path, rel), dst); err != nil {
					pw.CloseWithError(err)
					return
				}
			}
			pw.CloseWithError(tw.Close())
		}()
		err := r.C.ArchivePut(ctx, c.ID, "/", pr)
		pr.Close()
		if err != nil {
			return fmt.Errorf("copy to %s: %w", t.Target, err)
		}
	}
	if len(gone) > 0 {
		return r.execHook(ctx, c, types.ServiceHook{Command: append([]string{"rm", "-rf", "--"}, gone...)})
	}
	return nil
}

// execHook runs h's command in c and waits for it; a non-zero exit is an error.
func (r *Runner) execHook(ctx context.Context, c api.ContainerSummary, h types.ServiceHook) error {
	req := &api.ExecRequest{ID: c.ID, Command: h.Command, User: h.User, WorkingDir: h.WorkingDir}
	for k, v := range h.Environment {
		if v != nil {
			req.Env = append(req.Env, k+"="+*v)
		}
	}
	rs, err := r.C.Exec(ctx, req, nil, func(string, []byte) error { return nil })
	if err != nil {
		return err
	}
	if rs.Result != nil && rs.Result.ExitCode != 0 {
		return fmt.Errorf("%s exited with code %d", strings.Join(h.Command, " "), rs.Result.ExitCode)
	}
	return nil
}

// tarTree writes src (a file, a link or a directory with what it holds) to tw, its top
// entry named name.
func tarTree(tw *tar.Writer, src, name string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		h.Name = path.Join(name, filepath.ToSlash(rel))
		h.Uname, h.Gname = "", "" // the host's names mean nothing in the container
		if info.IsDir() {
			h.Name += "/"
		}
		if !info.Mode().IsRegular() {
			return tw.WriteHeader(h)
		}
		if info.Size() > maxBufferedSync {
			return tarLarge(tw, h, p)
		}
		// An editor may be writing the file still: the header says the size read, not
		// the size stat saw (a tar entry must hold exactly its size).
		body, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone meanwhile: the next batch removes it
		}
		if err != nil {
			return err
		}
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		_, err = tw.Write(body)
		return err
	})
}

// maxBufferedSync is the largest file sync reads whole before writing its entry.
const maxBufferedSync = 16 << 20

// tarLarge streams a large file's entry of the size stat saw: one that changed size
// meanwhile fails this sync, and the change it is in the middle of brings the next.
func tarLarge(tw *tar.Writer, h *tar.Header, p string) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = io.CopyN(tw, f, h.Size)
	return err
}

// treeWatcher follows the files under the paths added to it (directories recursively,
// new ones as they come) through inotify.
type treeWatcher struct {
	f    *os.File // the inotify instance, read through the runtime's poller: close ends a read
	mu   sync.Mutex
	dirs map[int]string // watch descriptor -> the path it watches
}

func newTreeWatcher() (*treeWatcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	return &treeWatcher{f: os.NewFile(uintptr(fd), "inotify"), dirs: map[int]string{}}, nil
}

const watchMask = unix.IN_CLOSE_WRITE | unix.IN_CREATE | unix.IN_DELETE | unix.IN_MOVED_FROM |
	unix.IN_MOVED_TO | unix.IN_ATTRIB | unix.IN_DELETE_SELF | unix.IN_MODIFY

// add watches p: a directory and every directory below it, or a file through its
// directory (an editor that saves by renaming replaces the file a watch of its own would
// follow).
func (w *treeWatcher) add(p string) error {
	if st, err := os.Stat(p); err == nil && !st.IsDir() {
		return w.watch(filepath.Dir(p))
	}
	return filepath.WalkDir(p, func(q string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		return w.watch(q)
	})
}

// watch follows the entries of directory dir (not those below it).
func (w *treeWatcher) watch(dir string) error {
	wd, err := unix.InotifyAddWatch(int(w.f.Fd()), dir, watchMask)
	if err != nil {
		return err
	}
	w.mu.Lock()
	w.dirs[wd] = dir
	w.mu.Unlock()
	return nil
}

// run sends each changed path until ctx ends (close ends the read).
func (w *treeWatcher) run(ctx context.Context, changes chan<- string) error {
	stop := context.AfterFunc(ctx, func() { w.f.Close() })
	defer stop()
	buf := make([]byte, 64<<10)
	for ctx.Err() == nil {
		n, err := w.f.Read(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("inotify: %w", err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			nameBytes := buf[off+unix.SizeofInotifyEvent : off+unix.SizeofInotifyEvent+int(ev.Len)]
			off += unix.SizeofInotifyEvent + int(ev.Len)
			w.mu.Lock()
			dir, ok := w.dirs[int(ev.Wd)]
			w.mu.Unlock()
			if !ok {
				continue
			}
			p := dir
			if name := strings.TrimRight(string(nameBytes), "\x00"); name != "" {
				p = filepath.Join(dir, name)
			}
			if ev.Mask&unix.IN_CREATE != 0 && ev.Mask&unix.IN_ISDIR != 0 {
				w.add(p) // a new directory: follow what comes into it
			}
			if ev.Mask&unix.IN_IGNORED != 0 {
				w.mu.Lock()
				delete(w.dirs, int(ev.Wd))
				w.mu.Unlock()
				continue
			}
			select {
			case changes <- p:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return nil
}

func (w *treeWatcher) close() { w.f.Close() }
