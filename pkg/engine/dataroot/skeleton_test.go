package dataroot

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// On ext4 the directories whose entries are unrelated (one a container each) carry the
// allocator's top-directory flag, so that a container's directory and all a start creates
// in it go to a block group of their own; the others do not.
func TestSkeletonSpreadsUnrelatedEntries(t *testing.T) {
	root := t.TempDir()
	var st unix.Statfs_t
	if err := unix.Statfs(root, &st); err != nil {
		t.Fatal(err)
	}
	if st.Type != unix.EXT4_SUPER_MAGIC {
		t.Skipf("%s is not on ext4 (type %#x): the flag is ext2/3/4's", root, st.Type)
	}
	if err := MakeSkeleton(root); err != nil {
		t.Fatal(err)
	}
	flagOf := func(dir string) bool {
		fd, err := unix.Open(filepath.Join(root, dir), unix.O_RDONLY|unix.O_DIRECTORY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		flags, err := unix.IoctlGetUint32(fd, unix.FS_IOC_GETFLAGS)
		if err != nil {
			t.Fatal(err)
		}
		return flags&fsTopdirFlag != 0
	}
	for _, d := range []string{"containers", "tmp"} {
		if !flagOf(d) {
			t.Errorf("%s: no top-directory flag", d)
		}
	}
	if flagOf("layers") {
		t.Error("layers: top-directory flag set")
	}
	// Idempotent: a daemon's next start finds the flag set.
	if err := MakeSkeleton(root); err != nil || !flagOf("containers") {
		t.Errorf("second MakeSkeleton: %v, flag %v", err, flagOf("containers"))
	}
}
