package boxinit

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/caps"
	"github.com/minibox/minibox/pkg/seccomp"
	"github.com/minibox/minibox/pkg/spec"
	"github.com/minibox/minibox/pkg/stackgrow"
	"github.com/minibox/minibox/pkg/timerslack"
)

// proc is one process init forks: the workload or an exec.
type proc struct {
	path       string
	args, env  []string
	dir        string
	id         *identity
	caps       []string
	noNewPrivs bool
	seccomp    []byte
	files      []uintptr
	tty        bool
	// cgroupNS roots the process's cgroup view at init's cgroup, where the daemon has put
	// it by now (a namespace made at clone time would be rooted at the shim's cgroup).
	cgroupNS    bool
	cgroupMount bool // mount /sys/fs/cgroup (the workload, once)
	privileged  bool
	// cg is the workload cgroup the process is forked into (nil: init's own).
	cg *workloadCgroup
}

// spawn forks p from a fresh thread that takes on p's namespace, credentials,
// capabilities, no_new_privs and seccomp filter (all per thread), then dies with them:
// init's own threads keep their privileges for the next exec.
func spawn(p *proc) (int, error) { return prepare(p).fork() }

// spawner is a thread that has taken on a process's namespace, credentials, capabilities
// and seccomp filter, and waits to fork it.
type spawner struct {
	start chan struct{}
	done  chan spawned
	cg    *workloadCgroup
}

type spawned struct {
	pid int
	err error
}

func prepare(p *proc) *spawner {
	sp := &spawner{start: make(chan struct{}), done: make(chan spawned, 1), cg: p.cg}
	go sp.run(p)
	return sp
}

// run is the spawner's goroutine. Its thread is never unlocked: the runtime ends it with
// the goroutine. Not the main thread, though, which the runtime never ends: its task is
// the process's face (the credentials, namespaces and seccomp state /proc/<pid> and ps
// show), and it would keep p's for good. The main goroutine is not locked to it, so a
// spawner may land there: it then hands over to a goroutine that cannot (the main thread
// runs only its locked goroutine meanwhile) and gives the thread back.
func (sp *spawner) run(p *proc) {
	runtime.LockOSThread()
	if unix.Gettid() == unix.Getpid() {
		locked := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			close(locked)
			sp.prepareAndFork(p)
		}()
		<-locked
		runtime.UnlockOSThread()
		return
	}
	sp.prepareAndFork(p)
}

// prepareAndFork prepares the calling (locked) thread for p and forks p from it on the word.
func (sp *spawner) prepareAndFork(p *proc) {
	stackgrow.To4K() // mountCgroups reaches it
	if err := p.prepareThread(); err != nil {
		sp.done <- spawned{err: err}
		return
	}
	<-sp.start
	pid, err := p.forkExec()
	if p.cg != nil {
		// Back to init's cgroup before anyone hears of the child: the workload's count
		// is its own from here on.
		if lerr := p.cg.leave(); lerr != nil && err == nil {
			err = lerr
		}
	}
	sp.done <- spawned{pid, err}
}

// fork starts the process (or returns why the thread could not be prepared).
func (sp *spawner) fork() (int, error) {
	if sp.cg != nil {
		defer sp.cg.forking()()
	}
	close(sp.start)
	r := <-sp.done
	return r.pid, r.err
}

// prepareThread gives the calling (locked) thread p's timer slack, cgroup namespace,
// capabilities, credentials, no_new_privs and seccomp filter.
func (p *proc) prepareThread() error {
	if err := timerslack.ForWorkload(); err != nil {
		return fmt.Errorf("prctl(PR_SET_TIMERSLACK): %w", err)
	}
	if p.cg != nil {
		// First: the cgroup namespace below is then rooted at the workload cgroup, whose
		// pids.max the container sees as its own.
		if err := p.cg.enter(); err != nil {
			return err
		}
	}
	if p.cgroupNS {
		if err := unix.Unshare(unix.CLONE_NEWCGROUP); err != nil {
			return fmt.Errorf("unshare cgroup namespace: %w", err)
		}
		if p.cgroupMount {
			if err := mountCgroups(!p.privileged); err != nil {
				return err
			}
		}
	}
	set := p.caps
	if set == nil {
		set = caps.Default()
	}
	set = held(set)
	if !p.noNewPrivs {
		// Without no_new_privs the kernel takes a filter only from a CAP_SYS_ADMIN holder:
		// load it while we still are one (runc's order), before the drop below.
		if err := seccomp.Load(p.seccomp); err != nil {
			return fmt.Errorf("load seccomp filter: %w", err)
		}
	}
	if err := caps.Apply(set, p.id.UID, p.id.GID, p.id.Groups); err != nil {
		return err
	}
	if p.noNewPrivs {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
		}
		// Last: the filter binds this thread too, and the fork below must still be allowed.
		if err := seccomp.Load(p.seccomp); err != nil {
			return fmt.Errorf("load seccomp filter: %w", err)
		}
	}
	return nil
}

// forkExec forks and execs p from the prepared thread.
func (p *proc) forkExec() (int, error) {
	pid, err := syscall.ForkExec(p.path, p.args, &syscall.ProcAttr{
		Dir:   p.dir,
		Env:   p.env,
		Files: p.files,
		// Its own session: a tty becomes its controlling terminal, and its process group
		// the terminal's foreground group.
		Sys: &syscall.SysProcAttr{Setsid: true, Setctty: p.tty, Ctty: 0},
	})
	if err != nil {
		return 0, execError(p.args[0], err)
	}
	return pid, nil
}

func execError(name string, err error) error {
	err = fmt.Errorf("exec: %q: %w", name, err)
	switch {
	case errors.Is(err, unix.ENOENT):
		return &runError{codeNotFound, err}
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM), errors.Is(err, unix.ENOEXEC),
		errors.Is(err, unix.EISDIR), errors.Is(err, unix.ENOTDIR):
		return &runError{codeNotRunable, err}
	}
	return &runError{codeSetup, err}
}

// openPty opens a pseudo-terminal pair in the container's own devpts (mounted with
// newinstance), so the workload's tty is a name the container can see.
func openPty() (master, slave *os.File, err error) {
	m, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, &os.PathError{Op: "open", Path: "/dev/ptmx", Err: err}
	}
	if err := unix.IoctlSetPointerInt(m, unix.TIOCSPTLCK, 0); err != nil {
		unix.Close(m)
		return nil, nil, fmt.Errorf("unlock pty: %w", err)
	}
	// TIOCGPTPEER opens the peer without a path lookup an image could redirect.
	r, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(m), unix.TIOCGPTPEER, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC)
	s := int(r)
	if errno != 0 { // before Linux 4.13: by name
		n, nerr := unix.IoctlGetInt(m, unix.TIOCGPTN)
		if nerr != nil {
			unix.Close(m)
			return nil, nil, fmt.Errorf("pty number: %w", nerr)
		}
		s, err = unix.Open("/dev/pts/"+strconv.Itoa(n), unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(m)
			return nil, nil, fmt.Errorf("open pty slave: %w", err)
		}
	}
	unix.CloseOnExec(s)
	return os.NewFile(uintptr(m), "pty-master"), os.NewFile(uintptr(s), "pty-slave"), nil
}

// bindConsole makes /dev/console the workload's terminal, as runc does.
func bindConsole(slave *os.File) error {
	target := "/dev/console"
	if _, err := os.Lstat(target); errors.Is(err, os.ErrNotExist) {
		f, err := os.OpenFile(target, os.O_CREATE|os.O_RDONLY, 0o600)
		if err != nil {
			return err
		}
		f.Close()
	}
	src := fmt.Sprintf("/proc/self/fd/%d", slave.Fd())
	if err := unix.Mount(src, target, "", unix.MS_BIND, ""); err != nil {
		return &os.PathError{Op: "bind console", Path: target, Err: err}
	}
	return nil
}

// mountCgroups mounts the calling thread's cgroup view (its new namespace) at
// /sys/fs/cgroup: cgroup2 on a unified host, else a tmpfs with one mount per v1
// hierarchy (and the empty v2 tree of a hybrid host at unified/).
func mountCgroups(readonly bool) error {
	b, err := os.ReadFile("/proc/thread-self/cgroup")
	if err != nil {
		return err
	}
	const root = "/sys/fs/cgroup"
	var ro uintptr
	if readonly {
		ro = unix.MS_RDONLY
	}
	flags := uintptr(unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) == 1 && strings.HasPrefix(lines[0], "0::") {
		if err := unix.Mount("cgroup2", root, "cgroup2", flags|ro, ""); err != nil {
			return &os.PathError{Op: "mount cgroup2", Path: root, Err: err}
		}
		return nil
	}
	if err := unix.Mount("tmpfs", root, "tmpfs", flags, "mode=755,size=64k"); err != nil {
		return &os.PathError{Op: "mount tmpfs", Path: root, Err: err}
	}
	for _, l := range lines {
		f := strings.SplitN(l, ":", 3)
		if len(f) != 3 {
			continue
		}
		ctrl, fstype, data, dir := f[1], "cgroup", f[1], f[1]
		switch {
		case ctrl == "":
			fstype, data, dir = "cgroup2", "", "unified"
		case strings.HasPrefix(ctrl, "name="):
			data, dir = "none,"+ctrl, strings.TrimPrefix(ctrl, "name=")
		}
		target := root + "/" + dir
		if err := os.Mkdir(target, 0o755); err != nil && !os.IsExist(err) {
			return err
		}
		if err := unix.Mount("cgroup", target, fstype, flags|ro, data); err != nil {
			return &os.PathError{Op: "mount " + fstype + " " + data, Path: target, Err: err}
		}
		if strings.Contains(dir, ",") { // cpu,cpuacct: both names reach it
			for _, n := range strings.Split(dir, ",") {
				os.Symlink(dir, root+"/"+n)
			}
		}
	}
	if readonly {
		if err := unix.Mount("", root, "", unix.MS_REMOUNT|unix.MS_RDONLY|flags, "mode=755,size=64k"); err != nil {
			return &os.PathError{Op: "remount read-only", Path: root, Err: err}
		}
	}
	return nil
}

// setRlimits applies the spec's limits, with Docker's NOFILE 1048576 and CORE 0 unless
// the spec says otherwise. A limit above the hard one we hold is clamped to it: raising a
// hard limit needs CAP_SYS_RESOURCE, which a daemon in a container may lack.
func setRlimits(limits []spec.Rlimit) error {
	want := map[int]spec.Rlimit{
		unix.RLIMIT_NOFILE: {Type: "RLIMIT_NOFILE", Soft: 1048576, Hard: 1048576},
		unix.RLIMIT_CORE:   {Type: "RLIMIT_CORE"},
	}
	for _, l := range limits {
		r, ok := spec.RlimitResources[l.Type]
		if !ok {
			return fmt.Errorf("unknown rlimit %s", l.Type)
		}
		want[r] = l
	}
	for r, l := range want {
		lim := &syscall.Rlimit{Cur: l.Soft, Max: l.Hard}
		// syscall.Setrlimit, not unix: it also stops Go restoring its startup NOFILE in children.
		err := syscall.Setrlimit(r, lim)
		if errors.Is(err, unix.EPERM) {
			var cur syscall.Rlimit
			if syscall.Getrlimit(r, &cur) == nil {
				lim.Max = min(lim.Max, cur.Max)
				lim.Cur = min(lim.Cur, lim.Max)
				err = syscall.Setrlimit(r, lim)
			}
		}
		if err != nil {
			return fmt.Errorf("setrlimit %s: %w", l.Type, err)
		}
	}
	return nil
}

// setOOMScoreAdj sets init's score, inherited by everything it forks. Lowering it needs
// CAP_SYS_RESOURCE; without it the host's value stays (as with clamped rlimits).
func setOOMScoreAdj(v int) {
	os.WriteFile("/proc/self/oom_score_adj", []byte(strconv.Itoa(v)), 0)
}

// held drops from set what init's own bounding set lacks: nobody can grant a capability
// it was not given (root in a container host often lacks CAP_SYS_RESOURCE), and
// --privileged means "everything we have".
func held(set []string) []string {
	var out []string
	all := caps.All() // in capability-number order
	for _, name := range set {
		n := slices.Index(all, name)
		if n >= 0 {
			if ok, err := unix.PrctlRetInt(unix.PR_CAPBSET_READ, uintptr(n), 0, 0, 0); err == nil && ok == 0 {
				continue
			}
		}
		out = append(out, name)
	}
	return out
}
