package build

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/layerview"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/spec"
)

// RunFunc runs a container to completion and returns its exit code; the daemon passes
// container.RunOnce, tests a fake.
type RunFunc func(ctx context.Context, s *spec.Spec, stdout, stderr io.Writer) (int, error)

// blockRun is one block being built.
type blockRun struct {
	bld   *Builder
	plan  *graph.Plan
	built built // what the blocks before it produced
	req   *Request
	bp    *graph.Block
	dir   string // tmp/build-*/<block>: upper/, work/, hosts, resolv.conf, hostname
	upper string
	work  string
	lower []string // top first
	out   *lineWriter
	// A Dockerfile RUN's mounts and network ("" = host), for the next container.
	mounts  []spec.Mount
	network string
	// tmp is the build's temporary directory; downloads are ADD's fetched URLs.
	tmp       string
	downloads map[string]download1
}

func (bx *blockRun) ctxView() *ctxView { return bx.req.ctx }

// view is the block's root as its build container sees it; the caller closes it.
func (bx *blockRun) view() *layerview.View {
	return layerview.New(append([]string{bx.upper}, bx.lower...))
}

// blockOut is what building a block produced: its cache key and its layer.
type blockOut struct {
	key   string
	entry *cacheEntry
}

// built maps each block of a build to what it produced. Its keys are set before the
// build starts; each value is written by its block alone, and read by the blocks that
// wait for it, after it finished.
type built map[*graph.Block]*blockOut

// lowerDirs is a block's overlay lowers: its NEED closure (top first) over its base.
func (b built) lowerDirs(bp *graph.Block) []string {
	var out []string
	for i := len(bp.Closure) - 1; i >= 0; i-- {
		out = append(out, b[bp.Closure[i]].entry.diff())
	}
	if bp.Base != nil {
		out = append(out, bp.Base.Dirs...)
	}
	return out
}

// view is a finished block's whole filesystem, for COPY FROM=; the caller closes it.
func (b built) view(bp *graph.Block) *layerview.View {
	return layerview.New(append([]string{b[bp].entry.diff()}, b.lowerDirs(bp)...))
}

// runInstrs executes the block's instructions in order, then AUTO-DEPS.
func (bx *blockRun) runInstrs(ctx context.Context) error {
	for _, ip := range bx.bp.Instrs {
		if err := ctx.Err(); err != nil {
			return err
		}
		var err error
		switch ip.In.Keyword {
		case "RUN":
			if ip.Step != nil {
				err = bx.dockerRun(ctx, ip)
				break
			}
			err = bx.run(ctx, ip, ip.In.Raw, ip.State.User)
		case "ADD":
			if err = bx.dockerAdd(ctx, ip); err == nil {
				err = bx.copyExtras(ctx, ip)
			}
		case "COPY":
			if len(ip.Args) > 1 {
				err = bx.runCopy(ip)
			}
			if err == nil {
				err = bx.copyExtras(ctx, ip)
			}
		case "WORKDIR":
			c := &copier{upper: bx.upper, target: bx.view()}
			err = c.mkdirAll(layerview.CleanRel(ip.Args[0]), nil)
			c.target.Close()
			if err == nil {
				break
			}
			// A relative WORKDIR was joined when planning; use the state after it.
			err = fmt.Errorf("%s: WORKDIR %s: %w", ip.In.Pos, ip.Args[0], err)
		case "PKG":
			err = bx.pkg(ctx, ip)
		}
		if err != nil {
			return err
		}
	}
	if bx.bp.AutoDeps {
		return bx.autoDeps(ctx)
	}
	return nil
}

// run runs cmd with /bin/sh -c in a build container.
func (bx *blockRun) run(ctx context.Context, ip graph.Instr, cmd, user string) error {
	argv := []string{"/bin/sh", "-c", cmd}
	if sh := bx.plan.File.Shell; len(sh) > 0 {
		argv = append(append([]string(nil), sh...), cmd)
	}
	code, err := bx.container(ctx, argv, bx.plan.RunEnv(ip.State), ip.State.Workdir, user)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", ip.In.Pos, ip.In.Keyword, err)
	}
	if code != 0 {
		return fmt.Errorf("%s: %s exited with code %d", ip.In.Pos, ip.In.Keyword, code)
	}
	return nil
}

// container runs argv in a build container over the block's overlay.
func (bx *blockRun) container(ctx context.Context, argv, env []string, cwd, user string) (int, error) {
	if bx.bld.Run == nil {
		return 0, fmt.Errorf("this daemon cannot run build containers: %w", errdefs.ErrUnavailable)
	}
	lower := bx.lower
	if len(lower) == 0 {
		// overlayfs needs a lower directory; scratch has none.
		empty := filepath.Join(bx.dir, "empty")
		os.MkdirAll(empty, 0o755)
		lower = []string{empty}
	}
	work := filepath.Join(bx.dir, "work")
	os.RemoveAll(work)
	if err := os.Mkdir(work, 0o700); err != nil {
		return 0, err
	}
	// /tmp is 1777 in every build container; a base without one gets it in the layer.
	v := bx.view()
	_, err := v.Lstat("tmp")
	v.Close()
	if err != nil {
		if err := os.Mkdir(filepath.Join(bx.upper, "tmp"), 0o1777); err == nil {
			os.Chmod(filepath.Join(bx.upper, "tmp"), 0o1777)
		}
	}
	s := &spec.Spec{
		ID:       randomID(),
		Dir:      bx.dir,
		Rootfs:   spec.Rootfs{Lower: lower, Upper: bx.upper, Work: work},
		Hostname: "minibox-build",
		Network:  "host",
		Mounts:   bx.mounts,
		Process: spec.Process{
			Args: argv, Env: env, Cwd: cwd, User: user,
			Capabilities: bx.bld.caps,
			// Init loads seccomp after dropping CAP_SYS_ADMIN, which the kernel only
			// allows under no_new_privs.
			NoNewPrivs: true,
			Rlimits:    []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 1048576, Hard: 1048576}},
		},
		Seccomp:      bx.bld.seccomp,
		HostsPath:    filepath.Join(bx.dir, "hosts"),
		ResolvPath:   filepath.Join(bx.dir, "resolv.conf"),
		HostnamePath: filepath.Join(bx.dir, "hostname"),
	}
	if bx.network != "" {
		s.Network = bx.network
	}
	code, err := bx.bld.Run(ctx, s, bx.out, bx.out)
	bx.out.flush()
	bx.cleanMountpoints()
	return code, err
}

// mountpoints are created in the upper dir by the runtime when the base lacks them; they
// must not enter the layer.
var mountpoints = []string{"etc/hosts", "etc/resolv.conf", "etc/hostname", "proc", "dev", "sys", "dev/shm", "dev/pts"}

func (bx *blockRun) cleanMountpoints() {
	low := layerview.New(bx.lower)
	defer low.Close()
	// The build container wrote the upper dir: "etc" there may be a symlink to anywhere
	// on the host. Each name is looked at and removed on its parent's fd, reached
	// without following any symlink.
	ufd, err := inroot.OpenRoot(bx.upper)
	if err != nil {
		return
	}
	defer unix.Close(ufd)
	for i := len(mountpoints) - 1; i >= 0; i-- {
		removePlaceholder(ufd, low, mountpoints[i])
	}
	// Their parents, when creating the mountpoint is all that happened to them: made for
	// it, or copied up unchanged (same mode and owner as below, nothing inside).
	for _, d := range []string{"dev", "etc"} {
		p := filepath.Join(bx.upper, d)
		fi, err := os.Lstat(p)
		if err != nil || !fi.IsDir() || layerview.IsOpaque(p) {
			continue
		}
		if lfi, err := low.Lstat(d); err == nil {
			u1, g1 := layerview.Owner(fi)
			u2, g2 := layerview.Owner(lfi)
			if lfi.Mode() != fi.Mode() || u1 != u2 || g1 != g2 {
				continue
			}
		}
		os.Remove(p) // only if empty
	}
}

// writeNetFiles writes the generated /etc/hosts, resolv.conf and hostname.
func writeNetFiles(dir string) error {
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil || len(bytes.TrimSpace(resolv)) == 0 {
		resolv = []byte("nameserver 8.8.8.8\n")
	}
	files := map[string][]byte{
		"hosts":       []byte("127.0.0.1\tlocalhost minibox-build\n::1\tlocalhost ip6-localhost ip6-loopback\n"),
		"resolv.conf": resolv,
		"hostname":    []byte("minibox-build\n"),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// pkg installs packages with the first package manager the base has.
func (bx *blockRun) pkg(ctx context.Context, ip graph.Instr) error {
	v := bx.view()
	defer v.Close()
	has := func(p string) bool {
		r, err := v.Resolve(p, true)
		if err != nil {
			return false
		}
		fi, err := v.Lstat(r)
		return err == nil && !fi.IsDir()
	}
	var script string
	names := ip.Args
	quoteAll := func(format string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			name, ver, ok := strings.Cut(n, "@")
			if ok {
				n = fmt.Sprintf(format, name, ver)
			}
			out[i] = shellQuote(n)
		}
		return out
	}
	switch {
	case has("sbin/apk") || has("usr/sbin/apk") || has("bin/apk"):
		script = "apk add --no-cache " + strings.Join(quoteAll("%s=%s*"), " ")
	case has("usr/bin/apt-get") || has("bin/apt-get"):
		script = "export DEBIAN_FRONTEND=noninteractive; apt-get update && apt-get install -y --no-install-recommends " +
			strings.Join(quoteAll("%s=%s*"), " ") + " && rm -rf /var/lib/apt/lists/*"
	default:
		for _, m := range []string{"dnf", "microdnf", "yum"} {
			if has("usr/bin/"+m) || has("bin/"+m) {
				script = m + " install -y " + strings.Join(quoteAll("%s-%s*"), " ") + " && " + m + " clean all"
				break
			}
		}
	}
	if script == "" {
		return fmt.Errorf("%s: PKG needs apk, apt-get or dnf; %s has none", ip.In.Pos, bx.bp.Base.Ref)
	}
	bx.out.engine("---> pkg: " + script)
	return bx.run(ctx, ip, script, "0")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.=+*:/@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// autoDeps installs dependencies for the manifests present in WORKDIR.
func (bx *blockRun) autoDeps(ctx context.Context) error {
	st := bx.bp.End
	v := bx.view()
	defer v.Close()
	found := false
	for _, m := range []struct{ file, tool, cmd string }{
		{"package.json", "npm", "npm install"},
		{"requirements.txt", "pip", "pip install -r requirements.txt"},
		{"go.mod", "go", "go mod download"},
		{"Cargo.toml", "cargo", "cargo build"},
	} {
		if _, err := v.Lstat(layerview.Join(layerview.CleanRel(st.Workdir), m.file)); err != nil {
			continue
		}
		found = true
		tool, cmd := m.tool, m.cmd
		if !bx.inPath(v, st, tool) {
			if tool == "pip" && bx.inPath(v, st, "pip3") {
				tool, cmd = "pip3", "pip3 install -r requirements.txt"
			} else {
				return fmt.Errorf("AUTO-DEPS found %s but %s is not in the image", m.file, tool)
			}
		}
		bx.out.engine(fmt.Sprintf("---> auto-deps: detected %s → running %s", m.file, cmd))
		ip := graph.Instr{In: autoInstr(bx.bp), State: st}
		if err := bx.run(ctx, ip, cmd, st.User); err != nil {
			return err
		}
	}
	if !found {
		bx.out.engine("---> auto-deps: no package.json, requirements.txt, go.mod or Cargo.toml in " + st.Workdir)
	}
	return nil
}

func (bx *blockRun) inPath(v *layerview.View, st graph.State, tool string) bool {
	pathEnv, _ := st.Env.Get("PATH")
	for _, d := range strings.Split(pathEnv, ":") {
		if d == "" {
			continue
		}
		r, err := v.Resolve(layerview.Join(layerview.CleanRel(d), tool), true)
		if err != nil {
			continue
		}
		if fi, err := v.Lstat(r); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return true
		}
	}
	return false
}

// lineWriter turns container output into log events, one per line, keeping the last
// lines for the failure report.
type lineWriter struct {
	mu    sync.Mutex
	block string
	emit  func(block, line string)
	buf   []byte
	last  []string
}

const lastLines = 20

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(strings.TrimSuffix(string(w.buf[:i]), "\r"))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (w *lineWriter) line(s string) {
	w.last = append(w.last, s)
	if len(w.last) > lastLines {
		w.last = w.last[len(w.last)-lastLines:]
	}
	w.emit(w.block, s)
}

// flush emits a last line that had no newline.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

// engine logs a builder line under the block's name.
func (w *lineWriter) engine(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.line(s)
}

func (w *lineWriter) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.last...)
}

// removePlaceholder removes m (relative to the upper dir's fd ufd) when the runtime only
// made it to mount on: an empty file or an empty directory that the lower layers lack.
// The build container wrote the upper dir, so m's parents may be symlinks to anywhere on
// the host: the parent is reached without following any, and m removed on its fd.
func removePlaceholder(ufd int, low *layerview.View, m string) {
	dfd := ufd
	if dir := layerview.ParentRel(m); dir != "" {
		var err error
		if dfd, err = inroot.Openat2(ufd, dir, unix.O_PATH|unix.O_DIRECTORY, layerview.NameResolve); err != nil {
			return
		}
		defer unix.Close(dfd)
	}
	name := path.Base(m)
	var st unix.Stat_t
	if err := unix.Fstatat(dfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return
	}
	if _, err := low.Lstat(m); err == nil {
		return
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == 0:
		unix.Unlinkat(dfd, name, 0)
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		unix.Unlinkat(dfd, name, unix.AT_REMOVEDIR) // only if empty
	}
}
