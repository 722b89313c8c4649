package ctrio

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/inroot"
)

// ---- top ----------------------------------------------------------------------------

// TopResult is `top`: ps -ef's columns, one row per process of the container, host PIDs.
type TopResult struct {
	Titles    []string
	Processes [][]string
}

// Top lists the processes pids (a running container's, those in its cgroup) as ps -ef
// shows them, in PID order; one that ended meanwhile is left out.
func Top(pids []int) *TopResult {
	pids = slices.Clone(pids)
	sort.Ints(pids)
	res := &TopResult{Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}}
	for _, pid := range pids {
		if row, err := psRow(pid); err == nil {
			res.Processes = append(res.Processes, row)
		}
	}
	return res
}

// clockTicks is USER_HZ, 100 on every Linux the kernel ABI supports for /proc.
const clockTicks = 100

// psRow reads one process's ps -ef columns from /proc.
func psRow(pid int) ([]string, error) {
	dir := "/proc/" + strconv.Itoa(pid)
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return nil, err
	}
	// comm may hold spaces and parentheses: the fields start after the last ')'.
	end := strings.LastIndexByte(string(stat), ')')
	if end < 0 {
		return nil, errors.New("bad stat")
	}
	comm := string(stat[strings.IndexByte(string(stat), '(')+1 : end])
	f := strings.Fields(string(stat[end+1:]))
	if len(f) < 20 {
		return nil, errors.New("short stat")
	}
	ppid := f[1]
	utime, _ := strconv.ParseUint(f[11], 10, 64)
	stime, _ := strconv.ParseUint(f[12], 10, 64)
	start, _ := strconv.ParseUint(f[19], 10, 64)
	uid := "?"
	if st, err := os.ReadFile(dir + "/status"); err == nil {
		for _, l := range strings.Split(string(st), "\n") {
			if v, ok := strings.CutPrefix(l, "Uid:"); ok {
				if fs := strings.Fields(v); len(fs) > 0 {
					uid = fs[0]
				}
			}
		}
	}
	cmd := comm
	if b, err := os.ReadFile(dir + "/cmdline"); err == nil && len(b) > 0 {
		cmd = strings.TrimSpace(strings.ReplaceAll(strings.TrimRight(string(b), "\x00"), "\x00", " "))
	}
	// C: CPU use over the process's life, in percent, as ps computes it.
	c := "0"
	var up float64
	if b, err := os.ReadFile("/proc/uptime"); err == nil {
		up, _ = strconv.ParseFloat(strings.Fields(string(b))[0], 64)
		if life := up - float64(start)/clockTicks; life > 0 {
			c = strconv.Itoa(int(float64(utime+stime) / clockTicks / life * 100))
		}
	}
	started := time.Now().Add(-time.Duration((up - float64(start)/clockTicks) * float64(time.Second)))
	stimeCol := started.Format("15:04")
	if time.Since(started) > 24*time.Hour {
		stimeCol = started.Format("Jan02")
	}
	cpu := (utime + stime) / clockTicks
	return []string{uid, strconv.Itoa(pid), ppid, c, stimeCol, "?",
		fmt.Sprintf("%02d:%02d:%02d", cpu/3600, cpu/60%60, cpu%60), cmd}, nil
}

// ---- diff -----------------------------------------------------------------------------

// Change kinds, as `docker diff` prints them.
const (
	ChangeModify = "C"
	ChangeAdd    = "A"
	ChangeDelete = "D"
)

// Change is one path that differs between a container's filesystem and its image.
type Change struct {
	Kind string
	Path string
}

// Changes lists what a container changed in its filesystem, its overlay's upper directory
// upper over the image's layers lower: A for a path the image lacks, C for one it has, D for
// a whiteout. Sorted by path.
func Changes(upper string, lower []string) ([]Change, error) {
	var lowerFDs []int
	for _, d := range lower {
		if fd, err := inroot.OpenRoot(d); err == nil {
			lowerFDs = append(lowerFDs, fd)
			defer unix.Close(fd)
		}
	}
	inImage := func(p string) bool {
		for _, fd := range lowerFDs {
			if cfd, err := inroot.Openat2(fd, strings.TrimPrefix(p, "/"), unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, unix.RESOLVE_IN_ROOT|unix.RESOLVE_NO_MAGICLINKS); err == nil {
				unix.Close(cfd)
				return true
			}
		}
		return false
	}
	upperFD, err := inroot.OpenRoot(upper)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return []Change{}, nil
		}
		return nil, err
	}
	defer unix.Close(upperFD)
	out := []Change{}
	err = inroot.Walk(upperFD, "/", func(fd int, name string, st *inroot.Stat) error {
		if name == "/" {
			return nil
		}
		if hiddenFromDiff[name] {
			return nil // the daemon's own bind-mount targets, as Docker hides them
		}
		// A whiteout is a 0/0 character device: the path was deleted.
		if st.Mode()&fs.ModeCharDevice != 0 && st.Rdev() == 0 {
			out = append(out, Change{ChangeDelete, name})
			return nil
		}
		kind := ChangeAdd
		if inImage(name) {
			kind = ChangeModify
		}
		out = append(out, Change{kind, name})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// HiddenFromDiff says whether the container path p is one the daemon bind-mounts over
// for each run: not a change of the container's (diff and commit leave it out).
func HiddenFromDiff(p string) bool { return hiddenFromDiff[p] }

var hiddenFromDiff = map[string]bool{"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true}

// ---- export ---------------------------------------------------------------------------

// ExportContainer writes the container's filesystem as a tar (entries relative, as
// `docker export`): the image with the container's changes, without its volumes, bind
// mounts and kernel filesystems (their mount points are kept, empty).
func (f *Files) ExportContainer(ctx context.Context, ref string, w io.Writer) error {
	return f.rootfs.WithRootfs(ctx, ref, func(root int) error {
		rootSt, err := inroot.Fstat(root, ".")
		if err != nil {
			return err
		}
		tw := tar.NewWriter(w)
		if err := inroot.TarTreeOneFS(tw, root, ".", rootSt.Dev()); err != nil {
			return err
		}
		return tw.Close()
	})
}
