package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minibox/minibox/pkg/plainfile"
)

// write puts value into a control file. O_CREATE only matters on a fake tree: cgroupfs
// files exist from mkdir on, and cgroupfs refuses to create others. Control files are read
// and written without the runtime's poller (pkg/plainfile): a warm pair's cgroup takes
// some twenty writes.
func write(dir, file, value string) error {
	p := filepath.Join(dir, file)
	fd, err := plainfile.Open(p, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if err := plainfile.WriteAll(fd, []byte(value)); err != nil {
		// The kernel's answer (EINVAL, EBUSY) is the useful part: keep it matchable.
		return fmt.Errorf("write %q to %s: %w", value, p, err)
	}
	return nil
}

func read(dir, file string) (string, error) {
	b, err := plainfile.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(b)), err
}

func exists(dir, file string) bool {
	_, err := os.Stat(filepath.Join(dir, file))
	return err == nil
}

// readUint reads a number; "max" (v2) is 0, meaning no limit.
func readUint(dir, file string) (uint64, error) {
	s, err := read(dir, file)
	if err != nil {
		return 0, err
	}
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
	}
	return n, nil
}

// keyValues reads "key value" lines (memory.stat, cpu.stat, memory.events, oom_control).
func keyValues(dir, file string) (map[string]uint64, error) {
	b, err := plainfile.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, err
	}
	m := map[string]uint64{}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	return m, nil
}

// pids reads cgroup.procs.
func pids(dir string) ([]int, error) {
	s, err := read(dir, "cgroup.procs")
	if err != nil {
		return nil, err
	}
	var out []int
	for _, f := range strings.Fields(s) {
		n, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("%s/cgroup.procs: %w", dir, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// treePids reads cgroup.procs of dir and of every cgroup below it (a container's workload
// child).
func treePids(dir string) ([]int, error) {
	out, err := pids(dir)
	if err != nil {
		return nil, err
	}
	kids, err := subdirs(dir)
	if err != nil {
		return nil, err
	}
	for _, k := range kids {
		p, err := treePids(filepath.Join(dir, k))
		if errors.Is(err, fs.ErrNotExist) { // a fake tree's cgroup without processes
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p...)
	}
	return out, nil
}

// mkdirs creates dir and its missing parents below root, calling init on each new one in
// order from the top (v1 cpuset must be filled level by level).
func mkdirs(root, rel string, init func(dir, parent string) error) error {
	dir := root
	for _, part := range strings.Split(rel, "/") {
		parent := dir
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err != nil {
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			return err
		}
		if init != nil {
			if err := init(dir, parent); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveTree removes a cgroup directory and its children, deepest first. rmdir fails with
// EBUSY while exiting tasks are still charged to the cgroup, so it is retried to a deadline.
// On cgroupfs the control files go with the directory; on a fake tree they are removed.
func RemoveTree(dir string, deadline time.Time) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := RemoveTree(filepath.Join(dir, e.Name()), deadline); err != nil {
				return err
			}
		}
	}
	cleaned := false
	backoff := time.Millisecond // a task still leaving: usually gone within a millisecond or two
	for {
		err := syscall.Rmdir(dir)
		switch {
		case err == nil, errors.Is(err, syscall.ENOENT):
			return nil
		case errors.Is(err, syscall.ENOTEMPTY) && !cleaned: // a fake tree: plain files
			for _, e := range ents {
				if !e.IsDir() {
					os.Remove(filepath.Join(dir, e.Name()))
				}
			}
			cleaned = true
		case errors.Is(err, syscall.EBUSY) && time.Now().Before(deadline):
			time.Sleep(backoff)
			backoff = min(backoff*2, 20*time.Millisecond)
		default:
			return &os.PathError{Op: "rmdir", Path: dir, Err: err}
		}
	}
}

// poll calls done until it reports true or the deadline passes.
func poll(what string, timeout time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := done()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: not done after %s", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// limit turns a kernel "no limit" value into 0: v1 reports PAGE_COUNTER_MAX pages in bytes.
func limit(n uint64) uint64 {
	if n >= math.MaxInt64/2 {
		return 0
	}
	return n
}

func itoa(n int64) string  { return strconv.FormatInt(n, 10) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }

// subdirs lists the directories in dir; a missing dir has none.
func subdirs(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
