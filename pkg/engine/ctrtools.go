package engine

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/runspec"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/oci"
)

// ---- top ----------------------------------------------------------------------------

// TopResult is `top`: ps -ef's columns, one row per process of the container, host PIDs.
type TopResult struct {
	Titles    []string
	Processes [][]string
}

// ContainerTop lists the processes of a running container: those in its cgroup.
func (e *Engine) ContainerTop(ref string) (*TopResult, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	r := e.snapshot(c)
	e.cmu.RLock()
	running := c.shim != nil
	e.cmu.RUnlock()
	if !running {
		return nil, errdefs.Conflict(fmt.Sprintf("container %s is not running", r.Name))
	}
	pids, err := e.cg.Pids(cgroupPath(r.ID))
	if err != nil {
		return nil, err
	}
	sort.Ints(pids)
	res := &TopResult{Titles: []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}}
	for _, pid := range pids {
		if row, err := psRow(pid); err == nil {
			res.Processes = append(res.Processes, row)
		}
	}
	return res, nil
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

// ---- image history --------------------------------------------------------------------

// HistoryItem is one step of an image's history; History lists them newest first.
type HistoryItem struct {
	ID        string // the image's ID on the newest step, "<missing>" below it (Docker's)
	Created   time.Time
	CreatedBy string
	Comment   string
	Size      int64 // the step's layer (compressed, as stored); 0 for a step without one
	Tags      []string
}

// ImageHistory lists the steps that built an image.
func (e *Engine) ImageHistory(ref string) ([]HistoryItem, error) {
	img, err := e.Images.Resolve(ref)
	if err != nil {
		return nil, err
	}
	var out []HistoryItem
	layer := 0
	hist := img.Config.History
	if len(hist) == 0 { // an imported image: one step per layer
		for range img.Layers {
			out = append(out, HistoryItem{CreatedBy: "", Comment: "imported"})
		}
		for i := range out {
			out[i].Size = img.Layers[i].Size
			if img.Config.Created != nil {
				out[i].Created = *img.Config.Created
			}
		}
	} else {
		for _, h := range hist {
			it := HistoryItem{CreatedBy: h.CreatedBy, Comment: h.Comment}
			if h.Created != nil {
				it.Created = *h.Created
			}
			if !h.EmptyLayer && layer < len(img.Layers) {
				it.Size = img.Layers[layer].Size
				layer++
			}
			out = append(out, it)
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	for i := range out {
		out[i].ID = "<missing>"
	}
	if len(out) > 0 {
		out[0].ID = img.ID.String()
		if img.Name != "" {
			out[0].Tags = []string{oci.Familiar(img.Name)}
		}
	}
	return out, nil
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

// ContainerChanges lists what the container changed in its filesystem (its overlay's
// upper directory): A for a path the image lacks, C for one it has, D for a whiteout.
// Sorted by path.
func (e *Engine) ContainerChanges(ctx context.Context, ref string) ([]Change, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	r := e.snapshot(c)
	lower, err := e.containerLayerDirs(ctx, &r)
	if err != nil {
		return nil, err
	}
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
	upper, err := inroot.OpenRoot(filepath.Join(e.ctrDir(r.ID), "upper"))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return []Change{}, nil
		}
		return nil, err
	}
	defer unix.Close(upper)
	out := []Change{}
	err = inroot.Walk(upper, "/", func(fd int, name string, st *inroot.Stat) error {
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

// hiddenFromDiff are files the daemon bind-mounts over, not the container's changes.
var hiddenFromDiff = map[string]bool{"/etc/hosts": true, "/etc/hostname": true, "/etc/resolv.conf": true}

// ---- export ---------------------------------------------------------------------------

// ExportContainer writes the container's filesystem as a tar (entries relative, as
// `docker export`): the image with the container's changes, without its volumes, bind
// mounts and kernel filesystems (their mount points are kept, empty).
func (e *Engine) ExportContainer(ctx context.Context, ref string, w io.Writer) error {
	return e.withRootfs(ctx, ref, func(root int) error {
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

// ---- update ---------------------------------------------------------------------------

// UpdateOptions are the limits `update` changes; nil fields stay as they are.
type UpdateOptions struct {
	MemoryBytes *int64
	MemorySwap  *int64
	CPUs        *float64
	CPUShares   *int64
	CPUQuota    *int64
	CPUPeriod   *int64
	CpusetCpus  *string
	PidsLimit   *int64
	Restart     *string
}

// UpdateContainer changes a container's limits and restart policy: checked as create
// checks them, applied to the running container's cgroup at once, and kept for its next
// starts. It returns create's warnings (limits this host cannot apply).
func (e *Engine) UpdateContainer(ref string, u UpdateOptions) ([]string, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	c.op.Lock()
	defer c.op.Unlock()
	r := e.snapshot(c)
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	res := r.Conf.Resources
	set(&res.Memory, u.MemoryBytes)
	set(&res.MemorySwap, u.MemorySwap)
	set(&res.CPUShares, u.CPUShares)
	set(&res.CPUQuota, u.CPUQuota)
	set(&res.CPUPeriod, u.CPUPeriod)
	set(&res.PidsLimit, u.PidsLimit)
	if u.CPUs != nil {
		res.CPUs, res.CPUPercent = *u.CPUs, 0
	}
	if u.CpusetCpus != nil {
		res.CpusetCpus = *u.CpusetCpus
	}
	if err := ctrconfig.CheckResources(&res, ctrconfig.HostOptions(), "cpuset_cpus"); err != nil {
		return nil, err
	}
	restart := r.Conf.Restart
	if u.Restart != nil {
		name, max, err := ctrconfig.ParseRestart(*u.Restart)
		if err != nil {
			return nil, ctrconfig.Bad("restart", "%v", err)
		}
		if name != "no" && r.Conf.AutoRemove {
			return nil, ctrconfig.Bad("restart", "%q cannot be used with --rm (auto_remove); drop one of them", *u.Restart)
		}
		restart = ctrconfig.RestartPolicy{Name: name, MaxRetries: max}
	}
	warnings := e.host.Cgroup.Warnings(runspec.Resources(&res))
	e.cmu.RLock()
	running := c.shim != nil
	e.cmu.RUnlock()
	if running {
		res := runspec.Resources(&res)
		if u.MemoryBytes != nil && *u.MemoryBytes == 0 {
			res.Memory = -1 // 0 in update lifts the limit
		}
		if err := e.cg.Update(cgroupPath(r.ID), res); err != nil {
			return nil, fmt.Errorf("update the running container's limits: %w", err)
		}
	}
	e.update(c, func(rec *Record) {
		rec.Conf.Resources, rec.Conf.Restart = res, restart
	})
	if err := e.saveState(); err != nil {
		return nil, err
	}
	e.containerEvent(&r, "update", nil)
	return warnings, nil
}
