package seccomp

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

const childEnv = "MINIBOX_SECCOMP_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(child())
	}
	os.Exit(m.Run())
}

// child loads filters on its locked thread and reports what each syscall returned, one
// "name errno" line each. It runs in a fresh process so the filter dies with it.
func child() int {
	runtime.LockOSThread()
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		fmt.Println("no_new_privs", err)
		return 1
	}
	// A profile whose answers no kernel gives on its own: getppid fails with EXFULL.
	mine := &Profile{DefaultAction: ActAllow, Syscalls: []Syscall{
		{Names: []string{"getppid"}, Action: ActErrno, ErrnoRet: errno(uint(unix.EXFULL))}}}
	for _, p := range []*Profile{mine, Default()} {
		prog, err := Compile(p, []string{"CAP_CHOWN", "CAP_SETUID", "CAP_SETGID"})
		if err == nil {
			err = Load(prog)
		}
		if err != nil {
			fmt.Println("load", err)
			return 1
		}
	}
	dir, _ := os.MkdirTemp("", "seccomp-test")
	defer os.Remove(dir)
	report := func(name string, err error) {
		var e unix.Errno
		if errors.As(err, &e) {
			fmt.Println(name, unix.ErrnoName(e))
		} else {
			fmt.Println(name, "ok")
		}
	}
	_, _, e := unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
	report("getppid", errnoOrNil(e))
	report("getpid", nil) // reached at all: allowed syscalls still run
	report("mount", unix.Mount("none", dir, "tmpfs", 0, ""))
	report("unshare", unix.Unshare(unix.CLONE_NEWUTS))
	_, _, e = unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
	report("clone3", errnoOrNil(e))
	_, _, e = unix.RawSyscall(unix.SYS_KEYCTL, 0, 0, 0)
	report("keyctl", errnoOrNil(e))
	// clone with CLONE_NEWUSER and no stack or handler: the filter must answer first.
	_, _, e = unix.RawSyscall(unix.SYS_CLONE, unix.CLONE_NEWUSER|uintptr(unix.SIGCHLD), 0, 0)
	report("clone_newuser", errnoOrNil(e))
	return 0
}

func errnoOrNil(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

func TestLoad(t *testing.T) {
	needAMD64(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if f := strings.Fields(l); len(f) == 2 {
			got[f[0]] = f[1]
		}
	}
	for name, want := range map[string]string{
		"getppid": "EXFULL", "getpid": "ok", "mount": "EPERM", "unshare": "EPERM",
		"clone3": "ENOSYS", "keyctl": "EPERM", "clone_newuser": "EPERM",
	} {
		if got[name] != want {
			t.Errorf("%s under the filter: %q, want %s\n%s", name, got[name], want, out)
		}
	}
}
