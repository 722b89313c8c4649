// Package dataroot is the data root's layout, and the clearing at a daemon's start of what
// a previous daemon left half-done in it: tmp/ (with the build containers and warm shims
// running there) and build cache locks whose entries never landed.
package dataroot

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/engine/rundir"
	"github.com/minibox/minibox/pkg/shimclient"
	"github.com/minibox/minibox/pkg/shimfiles"
)

// Skeleton is the data root's directory tree with modes; tmp/ and containers/ hold
// secrets and half-written data, so they are private.
var Skeleton = []struct {
	Path string
	Mode os.FileMode
}{
	{".", 0o711}, {"blobs", 0o755}, {"blobs/sha256", 0o755}, {"extracted", 0o755},
	{"lazy", 0o755}, {"cache", 0o700}, {"layers", 0o700}, {"tmp", 0o700},
	{"containers", 0o711}, {"volumes", 0o755}, {"volumes/.meta", 0o700}, {"seccomp", 0o700},
	{"networks", 0o700},
}

// unrelatedEntries are the directories of the data root whose entries have nothing to do
// with each other: a container's directory each, a build's or a warm shim pair's.
var unrelatedEntries = []string{"containers", "tmp"}

// MakeSkeleton creates the data root's directories (idempotent).
func MakeSkeleton(root string) error {
	for _, d := range Skeleton {
		p := filepath.Join(root, d.Path)
		if err := os.MkdirAll(p, d.Mode); err != nil {
			return err
		}
		if err := os.Chmod(p, d.Mode); err != nil {
			return err
		}
	}
	for _, d := range unrelatedEntries {
		spreadEntries(filepath.Join(root, d))
	}
	return nil
}

// fsTopdirFlag is FS_TOPDIR_FL (chattr +T): the directory is the top of unrelated
// hierarchies.
const fsTopdirFlag = 0x00020000

// spreadEntries asks ext2/3/4 to place dir's subdirectories apart, each in a block group
// with room (the Orlov allocator's top-level rule), rather than near dir; the files and
// directories made inside one then follow it. Otherwise every container's directory, and
// all a start creates in it (its files, the overlay's upper and work directories and the
// entries overlayfs makes there at each mount), lands in the group of the data root, which
// it shares with whatever else churns there (tests under /tmp). On ext4 without a journal
// the allocator skips each inode freed in the last minutes (recently_deleted), one block
// lookup each: in a group that has freed thousands, each new inode cost 0.3-0.5 ms, and a
// start makes about twenty. Other filesystems have no such flag: any error is ignored.
func spreadEntries(dir string) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
	if err != nil || flags&fsTopdirFlag != 0 {
		return
	}
	unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, int(flags|fsTopdirFlag))
}

// ClearTmp empties tmp/: nothing in it survives a daemon. The build containers a killed
// daemon left running in it go first.
//
// Each entry is first renamed (to clearingPrefix+name), and only then searched for shims'
// records. A build shim the killed daemon started just before it died may run only now: it
// records itself in its directory (by its path) before it makes anything there. One that
// recorded in time moved along with its directory and is found and ended; one that comes
// later finds no directory and exits, and cannot create tmp/build-* again behind us.
func ClearTmp(root string, log *slog.Logger) error {
	dir := filepath.Join(root, "tmp")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var names []string
	for _, ent := range ents {
		name := ent.Name()
		if !strings.HasPrefix(name, clearingPrefix) {
			if err := os.Rename(filepath.Join(dir, name), filepath.Join(dir, clearingPrefix+name)); err != nil {
				log.Warn("clear tmp", "entry", name, "err", err)
			} else {
				name = clearingPrefix + name
			}
		}
		names = append(names, name)
	}
	var records []string // entries that may hold shims' records: not a directory in the trash
	for _, name := range names {
		if !strings.HasPrefix(strings.TrimPrefix(name, clearingPrefix), rundir.TrashPrefix) {
			records = append(records, name)
		}
	}
	endBuildLeftovers(dir, records, log)
	for _, name := range names {
		// A mount left there is unmounted, not emptied.
		if err := rundir.DetachMountsUnder(filepath.Join(dir, name)); err != nil {
			log.Warn("clear tmp", "entry", name, "err", err)
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
			log.Warn("clear tmp", "entry", name, "err", err)
		}
	}
	return nil
}

// clearingPrefix names a tmp/ entry a starting daemon is removing (one a daemon killed
// while it started did not finish is removed by the next).
const clearingPrefix = ".clearing-"

// endBuildLeftovers ends the build containers of a daemon that died during a build (and the
// warm shim pairs it was making, recorded the same way), one per block directory
// (tmp/<entry>/<block>, where the shim records itself, or, from an older daemon, listens).
// Their shims end them as soon as their daemon is gone: this is for a shim that could not
// (stopped, stuck), and before the directories they work in go.
func endBuildLeftovers(tmp string, entries []string, log *slog.Logger) {
	var recs, socks []string
	for _, ent := range entries {
		r, _ := filepath.Glob(filepath.Join(tmp, ent, "*", shimfiles.PIDFile))
		s, _ := filepath.Glob(filepath.Join(tmp, ent, "*", shimfiles.SocketName))
		recs, socks = append(recs, r...), append(socks, s...)
	}
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for _, p := range append(recs, socks...) {
		d := filepath.Dir(p)
		if seen[d] {
			continue
		}
		seen[d] = true
		what := "a build container"
		if filepath.Base(filepath.Dir(d)) == clearingPrefix+"warm" {
			what = "a warm shim pair" // recorded under tmp/warm by the warm pool
		}
		// Together: each may wait for its processes' exit.
		wg.Go(func() {
			n, err := shimclient.EndLeftover(d, 10*time.Second)
			if err != nil {
				log.Warn("end "+what+" left by the previous daemon", "dir", d, "err", err)
			}
			if n > 0 {
				log.Info("ended "+what+" left by the previous daemon", "dir", d, "processes", n)
			}
		})
	}
	wg.Wait()
}

// RemoveStaleBuildLocks removes the layers/<key>.lock files whose cache entry never landed:
// a build holds its keys' locks from its start, and one cut short leaves them. No build runs
// yet to hold one; a lock beside its entry stays (prune removes the two together).
func RemoveStaleBuildLocks(root string, log *slog.Logger) {
	locks, _ := filepath.Glob(filepath.Join(root, "layers", "*.lock"))
	for _, l := range locks {
		if _, err := os.Lstat(strings.TrimSuffix(l, ".lock")); !errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.Remove(l); err != nil {
			log.Warn("remove a stale build cache lock", "path", l, "err", err)
		}
	}
}
