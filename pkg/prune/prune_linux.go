package prune

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const lockSuffix = ".lock"

// HoldLayer marks build cache key as in use by a running build until release is called: a
// shared flock on layers/<key>.lock, which prune cannot take exclusively. After taking it
// the builder must check that layers/<key> still exists (a prune may have just removed it).
func HoldLayer(root, key string) (release func(), err error) {
	f, err := os.OpenFile(filepath.Join(root, "layers", key+lockSuffix), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return func() { f.Close() }, nil
}

// HoldCacheMount marks cache-mounts/<name> as in use by a running RUN until release: a
// shared flock on cache-mounts/<name>.lock. Taken before the directory is made, so a
// prune either removed it before (the RUN makes a new one) or leaves it alone.
func HoldCacheMount(root, name string) (release func(), err error) {
	dir := filepath.Join(root, cacheMountsDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(filepath.Join(dir, name+lockSuffix), os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH); err != nil {
		f.Close()
		return nil, &os.PathError{Op: "flock", Path: f.Name(), Err: err}
	}
	return func() { f.Close() }, nil
}

// layerLocked reports whether a build holds layers/<key>.lock.
func layerLocked(layersDir, key string) bool {
	f, err := os.Open(filepath.Join(layersDir, key+lockSuffix))
	if err != nil {
		return false
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return true
	}
	unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return false
}

// isStale reports a FUSE mount whose server is gone: statfs gives ENOTCONN (stat would be
// answered from the kernel's attribute cache). A server that does not answer within two
// seconds is alive but stuck: not stale, and prune leaves it (the goroutine stays blocked
// until the kernel gives up, which is better than prune hanging).
func isStale(dir string) bool {
	done := make(chan error, 1)
	go func() {
		var st unix.Statfs_t
		done <- unix.Statfs(dir, &st)
	}()
	select {
	case err := <-done:
		return errors.Is(err, unix.ENOTCONN)
	case <-time.After(2 * time.Second):
		return false
	}
}

// isMount reports whether dir is a mount point (another device than its parent). Called
// after isStale, so a dead FUSE mount never reaches the stat here.
func isMount(dir string) bool {
	var a, b unix.Stat_t
	if unix.Lstat(dir, &a) != nil || unix.Lstat(filepath.Dir(dir), &b) != nil {
		return false
	}
	return a.Dev != b.Dev
}

// detach unmounts dir lazily if it is a mount point; a plain directory is left alone.
func detach(dir string) error {
	err := unix.Unmount(dir, unix.MNT_DETACH)
	if err == nil || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOENT) {
		return nil // EINVAL: not a mount point
	}
	return &os.PathError{Op: "umount", Path: dir, Err: err}
}

// Busy returns a function reporting whether a path under root is held by this process: an
// open file descriptor (a blob being written, an unpack's directory fds) or a mount point
// (a build's overlay) at or below it.
func Busy(root string) func(path string) bool {
	var held []string
	if ents, err := os.ReadDir("/proc/self/fd"); err == nil {
		for _, e := range ents {
			if t, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name())); err == nil && strings.HasPrefix(t, root) {
				held = append(held, strings.TrimSuffix(t, " (deleted)"))
			}
		}
	}
	if f, err := os.Open("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if fields := strings.Fields(sc.Text()); len(fields) > 4 && strings.HasPrefix(unescape(fields[4]), root) {
				held = append(held, unescape(fields[4]))
			}
		}
		f.Close()
	}
	return func(path string) bool {
		for _, h := range held {
			if h == path || strings.HasPrefix(h, path+"/") {
				return true
			}
		}
		return false
	}
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			ok := true
			for _, c := range s[i+1 : i+4] {
				if c < '0' || c > '7' {
					ok = false
				}
				v = v*8 + byte(c-'0')
			}
			if ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// counter sums the disk blocks of inodes whose every link it has seen.
type counter struct {
	inodes map[[2]uint64]*inode
	other  int64 // directories and symlinks: freed with their one name
}

type inode struct {
	seen, nlink uint64
	bytes       int64
}

func newCounter() *counter { return &counter{inodes: map[[2]uint64]*inode{}} }

func (c *counter) walk(path string) {
	filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		var st syscall.Stat_t
		if err := syscall.Lstat(p, &st); err != nil {
			return nil
		}
		bytes := st.Blocks * 512
		if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
			c.other += bytes
			return nil
		}
		k := [2]uint64{st.Dev, st.Ino}
		in := c.inodes[k]
		if in == nil {
			in = &inode{nlink: uint64(st.Nlink), bytes: bytes}
			c.inodes[k] = in
		}
		in.seen++
		return nil
	})
}

func (c *counter) merge(o *counter) {
	c.other += o.other
	for k, in := range o.inodes {
		if have := c.inodes[k]; have != nil {
			have.seen += in.seen
		} else {
			cp := *in
			c.inodes[k] = &cp
		}
	}
}

func (c *counter) freed() int64 {
	n := c.other
	for _, in := range c.inodes {
		if in.seen >= in.nlink {
			n += in.bytes
		}
	}
	return n
}

// DiskBytes is the allocated disk bytes under paths, each inode counted once however many
// of its links the paths hold. Symlinks are not followed, mounts below are walked.
func DiskBytes(paths ...string) int64 {
	c := newCounter()
	for _, p := range paths {
		c.walk(p)
	}
	n := c.other
	for _, in := range c.inodes {
		n += in.bytes
	}
	return n
}
