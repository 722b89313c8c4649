package boxinit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/reexec"
	"github.com/minibox/minibox/pkg/rsstrim"
	"github.com/minibox/minibox/pkg/shimapi"
	"github.com/minibox/minibox/pkg/spec"
)

// Once its workload runs and it has been quiet for a while, init executes itself afresh
// (reexec): the new process keeps what reaping, forwarding and execs need (the channel,
// the workload's PID, the execs running, the identity, the working directory, the
// workload cgroup) and none of what setting up the container left behind (the decoded
// spec, the mount code's allocations, threads). It never
// collects (GOGC=off), so that garbage would otherwise stay for the container's whole
// life: about 0.3 MB of a container's 1.8 MB. It decodes the spec again only at its first
// exec.
//
// The shim holds its signals and messages to init meanwhile (MsgPause, MsgPaused,
// MsgResumed): between execve and the new runtime's handlers, a signal from the shim's
// (parent) PID namespace would take its default action on init. One sent from inside the
// container meanwhile is ignored by the kernel (PID 1 without a handler).

// stateEnv names, in a resumed init's environment, the descriptor its state comes in.
const stateEnv = "MINIBOX_INIT_STATE"

// reexecQuiet is how long init waits with nothing to do, its workload running, before it
// executes itself afresh: a short-lived workload ends before.
const reexecQuiet = rsstrim.PairQuiet

var (
	msgPause   = []byte(`{"type":"` + shimapi.MsgPause + `"}`)
	msgResumed = []byte(`{"type":"` + shimapi.MsgResumed + `"}`)
)

// openSelf opens init's own executable while /proc is still the host's: after the
// workload starts, a path through the container's /proc could lead elsewhere.
func openSelf() int {
	fd, err := unix.Open("/proc/self/exe", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return fd
}

// reexec executes init afresh with its state; it returns only if it could not.
func (in *initProc) reexec() error {
	if in.exe < 0 || in.raw == nil {
		return errors.New("no executable or spec to resume from")
	}
	var inherit []int // descriptors the new process takes; closed here if execve fails
	defer func() {
		for _, fd := range inherit {
			unix.Close(fd)
		}
	}()
	memfd := func(name string, b []byte) (int, error) {
		fd, err := unix.MemfdCreate(name, 0) // inherited: no MFD_CLOEXEC
		if err != nil {
			return -1, err
		}
		inherit = append(inherit, fd)
		for len(b) > 0 {
			n, err := unix.Write(fd, b)
			if err != nil {
				return -1, err
			}
			b = b[n:]
		}
		return fd, nil
	}
	// dup gives the new process a descriptor of f (without close-on-exec).
	dup := func(fd uintptr) (int, error) {
		nfd, err := unix.FcntlInt(fd, unix.F_DUPFD, 3)
		if err != nil {
			return -1, err
		}
		inherit = append(inherit, nfd)
		return nfd, nil
	}
	var st bytes.Buffer
	put := func(k string, v any) { fmt.Fprintf(&st, "%s=%v\n", k, v) }
	chFd, err := in.ch.Dup()
	if err != nil {
		return err
	}
	inherit = append(inherit, chFd)
	put("channel", chFd)
	specFd, err := memfd("minibox-spec", in.raw)
	if err != nil {
		return err
	}
	put("spec", specFd)
	if len(in.s.Seccomp) > 0 {
		fd, err := memfd("minibox-seccomp", in.s.Seccomp)
		if err != nil {
			return err
		}
		put("seccomp", fd)
	}
	put("workload", in.workload)
	put("cwd", in.cwd)
	if id := in.id; id != nil {
		groups := make([]string, len(id.Groups))
		for i, g := range id.Groups {
			groups[i] = strconv.Itoa(g)
		}
		put("uid", id.UID)
		put("gid", id.GID)
		put("groups", strings.Join(groups, ","))
		put("home", id.Home)
	}
	if c := in.wcg; c != nil {
		for _, f := range []struct {
			key string
			f   *os.File
		}{{"cg-tasks", c.tasks}, {"cg-parent", c.parent}, {"cg-max", c.max}} {
			if f.f == nil {
				continue
			}
			fd, err := dup(f.f.Fd())
			if err != nil {
				return err
			}
			put(f.key, fd)
		}
		put("cg-limit", c.limit)
	}
	for pid, id := range in.execs {
		put("exec", strconv.Itoa(pid)+":"+id)
	}
	stateFd, err := memfd("minibox-init-state", st.Bytes())
	if err != nil {
		return err
	}
	env := append(os.Environ(), stateEnv+"="+strconv.Itoa(stateFd))
	return execveat(in.exe, []string{initName}, env)
}

// execveat executes the file open at fd (execveat(2) with AT_EMPTY_PATH: no path in
// the container is looked up).
func execveat(fd int, argv, env []string) error {
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return err
	}
	empty := []byte{0}
	_, _, errno := syscall.Syscall6(unix.SYS_EXECVEAT, uintptr(fd), uintptr(unsafe.Pointer(&empty[0])),
		uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])), unix.AT_EMPTY_PATH, 0)
	return os.NewSyscallError("execveat", errno)
}

// resume is a re-executed init: it reads its state, tells the shim it is back, and goes
// on reaping, forwarding and starting execs.
func resume(state string) error {
	reexec.NameSelf(initName) // the kernel named us after the descriptor we ran from
	reaperAttrs()             // execve kept them; set again all the same, as the first start did
	os.Unsetenv(stateEnv)
	sigc := make(chan os.Signal, 128)
	notifyAll(sigc, false)
	in, err := readState(state)
	if err != nil {
		return &errdefs.ExitError{Code: codeSetup, Err: fmt.Errorf("resume: %w", err)}
	}
	in.trim = rsstrim.NewTrimmer(rsstrim.PairQuiet)
	go in.trim.Run()
	msgs := make(chan incoming, 4)
	go in.read(msgs)
	if err := in.ch.SendRaw(msgResumed); err != nil {
		return &errdefs.ExitError{Code: codeSetup, Silent: true}
	}
	// Children that ended while we were executing: their SIGCHLD came before our handler.
	if done, err := in.reaped(); done {
		return err
	}
	return in.loop(msgs, sigc)
}

// readState reads what reexec passed in the descriptor state names.
func readState(state string) (*initProc, error) {
	fd, err := strconv.Atoi(state)
	if err != nil {
		return nil, fmt.Errorf("state descriptor %q", state)
	}
	f := os.NewFile(uintptr(fd), "init-state")
	defer f.Close()
	if _, err := f.Seek(0, 0); err != nil {
		return nil, err
	}
	in := &initProc{execs: map[int]string{}, exe: -1, resumed: true}
	// Each descriptor is ours alone: close-on-exec, or an exec would inherit it.
	file := func(v, name string) (*os.File, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			return nil, fmt.Errorf("%s descriptor %q", name, v)
		}
		unix.CloseOnExec(n)
		return os.NewFile(uintptr(n), name), nil
	}
	var id identity
	hasID := false
	var cg workloadCgroup
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "=")
		var err error
		switch k {
		case "channel":
			var cf *os.File
			if cf, err = file(v, "init-channel"); err == nil {
				in.ch, err = shimapi.NewChannel(cf)
			}
		case "spec":
			in.specFile, err = file(v, "spec")
		case "seccomp":
			in.seccompFile, err = file(v, "seccomp")
		case "workload":
			in.workload, err = strconv.Atoi(v)
		case "cwd":
			in.cwd = v
		case "uid":
			id.UID, err = strconv.Atoi(v)
			hasID = true
		case "gid":
			id.GID, err = strconv.Atoi(v)
		case "groups":
			for _, g := range strings.Split(v, ",") {
				if g == "" {
					continue
				}
				n, gerr := strconv.Atoi(g)
				if gerr != nil {
					err = gerr
					break
				}
				id.Groups = append(id.Groups, n)
			}
		case "home":
			id.Home = v
		case "cg-tasks":
			cg.tasks, err = file(v, "workload-cgroup-tasks")
		case "cg-parent":
			cg.parent, err = file(v, "workload-cgroup-parent")
		case "cg-max":
			cg.max, err = file(v, "workload-cgroup-max")
		case "cg-limit":
			cg.limit, err = strconv.ParseInt(v, 10, 64)
		case "exec":
			p, eid, _ := strings.Cut(v, ":")
			var pid int
			if pid, err = strconv.Atoi(p); err == nil {
				in.execs[pid] = eid
			}
		}
		if err != nil {
			return nil, fmt.Errorf("state %s: %w", k, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if in.ch == nil || in.specFile == nil || in.workload <= 0 {
		return nil, errors.New("incomplete state")
	}
	if hasID {
		in.id = &id
	}
	if cg.tasks != nil && cg.parent != nil {
		in.wcg = &cg
	}
	return in, nil
}

// spec returns the container's spec: a resumed init decodes it at its first exec.
func (in *initProc) spec() (*spec.Spec, error) {
	if in.s != nil || in.specFile == nil {
		return in.s, nil
	}
	if _, err := in.specFile.Seek(0, 0); err != nil {
		return nil, err
	}
	s, err := spec.Decode(in.specFile)
	if err != nil {
		return nil, err
	}
	if in.seccompFile != nil {
		if _, err := in.seccompFile.Seek(0, 0); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(in.seccompFile); err != nil {
			return nil, fmt.Errorf("seccomp program: %w", err)
		}
		s.Seccomp = b.Bytes()
	}
	in.s = s
	return s, nil
}
