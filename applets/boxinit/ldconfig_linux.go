package boxinit

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/mount"
)

// ldconfigPaths are where images keep ldconfig (Debian, Ubuntu's wrapper; Fedora, whose
// /sbin is a symlink). Looked up after pivot_root, so only in the container's root.
var ldconfigPaths = []string{"/sbin/ldconfig", "/usr/sbin/ldconfig"}

// splitLdconfig takes a read-only root's final remount off the plan when the image's
// ldconfig must run first (it writes /etc/ld.so.cache): start remounts after it.
func (in *initProc) splitLdconfig(plan []mount.Mount) []mount.Mount {
	d := in.s.Driver
	if d == nil || !d.Ldconfig || !in.s.Rootfs.ReadOnly || len(plan) == 0 {
		return plan
	}
	last := plan[len(plan)-1]
	if last.Target != "/" || last.Root != "" || last.Flags&unix.MS_REMOUNT == 0 {
		return plan
	}
	in.remountRO = &last
	return plan[:len(plan)-1]
}

// ldconfig runs the image's ldconfig, as the NVIDIA container toolkit does after it binds
// the driver's libraries in, so that the loader's cache knows them. It runs as the
// container's root with the container's capabilities, no_new_privs and seccomp filter,
// in the workload's cgroup: it is the image's code, confined as an exec is. An image
// without ldconfig (busybox, musl) is left as it is: the libraries' names are there as
// symlinks. Then a read-only root gets its remount.
func (in *initProc) ldconfig() error {
	s := in.s
	if s.Driver == nil || !s.Driver.Ldconfig {
		return nil
	}
	if err := in.runLdconfig(); err != nil {
		return err
	}
	if in.remountRO != nil {
		if err := mount.Apply([]mount.Mount{*in.remountRO}); err != nil {
			return err
		}
		in.remountRO = nil
	}
	return nil
}

func (in *initProc) runLdconfig() error {
	s := in.s
	path := ""
	for _, p := range ldconfigPaths {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			path = p
			break
		}
	}
	if path == "" {
		return nil
	}
	null, err := os.OpenFile("/dev/null", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	defer r.Close()
	pid, err := spawn(&proc{
		path: path, args: []string{path}, env: []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, dir: "/",
		id:   &identity{UID: 0, GID: 0, Home: "/root"},
		caps: s.Process.Capabilities, noNewPrivs: s.Process.NoNewPrivs, seccomp: s.Seccomp,
		files: []uintptr{null.Fd(), null.Fd(), w.Fd()}, cg: in.wcg,
	})
	w.Close()
	if err != nil {
		return &runError{codeSetup, fmt.Errorf("--gpus: %s: %w", path, err)}
	}
	var msg bytes.Buffer
	io.Copy(&msg, io.LimitReader(r, 4096))
	io.Copy(io.Discard, r)
	var ws unix.WaitStatus
	for {
		_, err = unix.Wait4(pid, &ws, 0, nil)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return &runError{codeSetup, fmt.Errorf("--gpus: wait for %s: %w", path, err)}
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return &runError{codeSetup, fmt.Errorf("--gpus: the image's %s failed (%s): %s", path, exitText(ws), strings.TrimSpace(msg.String()))}
	}
	return nil
}

func exitText(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "signal " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}
