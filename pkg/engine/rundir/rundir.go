// Package rundir handles the files of a container's directory on the host: /etc files
// rewritten only when they change, and removal that never deletes through a live mount.
package rundir

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/minibox/minibox/pkg/atomicfile"
)

// ReplaceIfChanged rewrites path unless it already holds b (a restart with the same
// address and names).
func ReplaceIfChanged(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	return atomicfile.Replace(path, b, 0o644)
}

// Remove removes a container directory, never through a live mount.
func Remove(dir string) error {
	if err := DetachMountsUnder(dir); err != nil {
		return err
	}
	if err := RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	return nil
}

// RemoveAll is os.RemoveAll with the top-level entries removed in parallel: where the
// filesystem is mounted with discard, each freed block (every directory, every file with
// data) waits for the disk, and a container directory frees a dozen.
func RemoveAll(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return os.RemoveAll(dir)
	}
	var wg sync.WaitGroup
	for _, ent := range ents {
		wg.Go(func() { os.RemoveAll(filepath.Join(dir, ent.Name())) })
	}
	wg.Wait()
	return os.RemoveAll(dir) // what is left, and dir itself
}

// DetachMountsUnder unmounts anything still mounted under dir (never deleting through a
// live mount).
func DetachMountsUnder(dir string) error {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		f := strings.Fields(lines[i])
		if len(f) > 4 && (f[4] == dir || strings.HasPrefix(f[4], dir+"/")) {
			if err := syscall.Unmount(f[4], syscall.MNT_DETACH); err != nil {
				return fmt.Errorf("unmount %s: %w", f[4], err)
			}
		}
	}
	return nil
}
