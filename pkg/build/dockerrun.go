package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/build/graph"
	"github.com/minibox/minibox/pkg/build/ignore"
	"github.com/minibox/minibox/pkg/build/layerview"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/spec"
	"golang.org/x/sys/unix"
)

// CacheMountsDir holds RUN --mount=type=cache directories, kept across builds.
const CacheMountsDir = "cache-mounts"

// stepText names a Dockerfile instruction in errors: its position and its first line.
func stepText(ip graph.Instr) string {
	s := ip.In.Raw
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return fmt.Sprintf("%s: %s", ip.In.Pos, s)
}

// dockerRun runs a Dockerfile RUN: its argv (shell form already wrapped), its mounts,
// its network.
func (bx *blockRun) dockerRun(ctx context.Context, ip graph.Instr) error {
	dk := ip.Step
	var mounts []spec.Mount
	env := dk.Env
	defer os.RemoveAll(filepath.Join(bx.dir, "secrets"))
	for i, m := range dk.Mounts {
		switch m.Type {
		case "secret":
			mnt, v, err := bx.secret(i, m)
			if err != nil {
				return fmt.Errorf("%s: %w", stepText(ip), err)
			}
			if mnt != nil {
				mounts = append(mounts, *mnt)
			}
			if v != "" {
				env = append(append([]string(nil), env...), m.Env+"="+v)
			}
		case "cache":
			dir, release, err := bx.bld.cacheMount(m)
			if err != nil {
				return fmt.Errorf("%s: --mount=type=cache: %w", stepText(ip), err)
			}
			defer release()
			mounts = append(mounts, spec.Mount{Type: "bind", Source: dir, Destination: m.Target})
		case "tmpfs":
			mounts = append(mounts, spec.Mount{Type: "tmpfs", Destination: m.Target})
		case "bind":
			src, err := bx.bindSource(i, m)
			if err != nil {
				return fmt.Errorf("%s: --mount=type=bind: %w", stepText(ip), err)
			}
			mounts = append(mounts, spec.Mount{Type: "bind", Source: src, Destination: m.Target, ReadOnly: m.ReadOnly})
		}
	}
	for _, sc := range dk.Scripts {
		dir := filepath.Join(bx.dir, "pipes")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		p := filepath.Join(dir, strings.ReplaceAll(sc.Name, "/", "_"))
		if err := os.WriteFile(p, []byte(sc.Data), 0o755); err != nil {
			return err
		}
		mounts = append(mounts, spec.Mount{Type: "bind", Source: p, Destination: path.Join("/dev/pipes", sc.Name), ReadOnly: true})
	}
	bx.mounts, bx.network = mounts, dk.Network
	code, err := bx.container(ctx, dk.Argv, env, ip.State.Workdir, ip.State.User)
	bx.mounts, bx.network = nil, ""
	bx.cleanMountTargets(dk.Mounts)
	if err != nil {
		return fmt.Errorf("%s: %w", stepText(ip), err)
	}
	if code != 0 {
		return fmt.Errorf("%s: exited with code %d", stepText(ip), code)
	}
	return nil
}

// secret writes a build secret to a file of its own in the block's directory (outside
// the layer; removed after the RUN) to be bind-mounted read-only, and returns its value
// when the RUN asks for it as a variable. A secret that was not given is skipped unless
// required.
func (bx *blockRun) secret(i int, m graph.Mount) (*spec.Mount, string, error) {
	data, ok := bx.req.Secrets[m.CacheID]
	if !ok {
		if m.Required {
			return nil, "", fmt.Errorf("--mount=type=secret: secret %q is required but was not given (minibox build --secret id=%s,src=FILE)", m.CacheID, m.CacheID)
		}
		return nil, "", nil
	}
	var v string
	if m.Env != "" {
		v = string(data)
	}
	if m.Target == "" {
		return nil, v, nil
	}
	dir := filepath.Join(bx.dir, "secrets")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	p := filepath.Join(dir, strconv.Itoa(i))
	os.Remove(p)
	if err := os.WriteFile(p, data, 0o400); err != nil {
		return nil, "", err
	}
	uid, gid, mode := 0, 0, fs.FileMode(0o400)
	if m.UID != nil {
		uid = int(*m.UID)
	}
	if m.GID != nil {
		gid = int(*m.GID)
	}
	if m.Mode != nil {
		mode = fs.FileMode(*m.Mode) & fs.ModePerm
	}
	if err := os.Lchown(p, uid, gid); err != nil {
		return nil, "", err
	}
	if err := os.Chmod(p, mode); err != nil {
		return nil, "", err
	}
	return &spec.Mount{Type: "bind", Source: p, Destination: m.Target, ReadOnly: true}, v, nil
}

// cacheMount returns the directory of a cache mount, made on first use, held (against a
// prune of the build cache) until release.
func (bld *Builder) cacheMount(m graph.Mount) (dir string, release func(), err error) {
	sum := sha256.Sum256([]byte(m.CacheID))
	name := hex.EncodeToString(sum[:])
	release = func() {}
	if bld.HoldCacheMount != nil {
		if release, err = bld.HoldCacheMount(name); err != nil {
			return "", nil, err
		}
	}
	dir = filepath.Join(bld.Root, CacheMountsDir, name)
	if err := bld.makeCacheMount(m, dir); err != nil {
		release()
		return "", nil, err
	}
	return dir, release, nil
}

func (bld *Builder) makeCacheMount(m graph.Mount, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		if os.IsExist(err) {
			return nil
		}
		return err
	}
	uid, gid := 0, 0
	if m.UID != nil {
		uid = int(*m.UID)
	}
	if m.GID != nil {
		gid = int(*m.GID)
	}
	if err := os.Lchown(dir, uid, gid); err != nil {
		return err
	}
	if m.Mode != nil {
		return os.Chmod(dir, fs.FileMode(*m.Mode)&fs.ModePerm)
	}
	return nil
}

// bindSource copies what a bind mount shows (from the context, or from a stage) into the
// block's directory: a RUN may write to it (rw) without touching its origin, and reads a
// tree resolved inside its root.
func (bx *blockRun) bindSource(i int, m graph.Mount) (string, error) {
	var src *layerview.View
	var ign *ignore.Rules
	if m.From != "" {
		src = bx.built.view(bx.plan.ByName[m.From])
	} else {
		src = layerview.New([]string{bx.ctxView().root})
		ign = bx.ctxView().ignore
	}
	defer src.Close()
	rel, err := src.Resolve(layerview.CleanRel(m.Source), true)
	if err != nil {
		return "", err
	}
	if ign.Excluded(rel) {
		return "", fmt.Errorf("source %s is excluded by the ignore file", m.Source)
	}
	fi, err := src.Lstat(rel)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", m.Source, err)
	}
	dir := filepath.Join(bx.dir, fmt.Sprintf("mount-%d", i))
	os.RemoveAll(dir)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	n, err := src.Lookup(rel, false)
	if err != nil {
		return "", fmt.Errorf("source %s: %w", m.Source, err)
	}
	defer n.Close()
	target := layerview.New([]string{dir})
	defer target.Close()
	c := &copier{upper: dir, target: target, ignore: ign, fromCtx: ign != nil}
	if !fi.IsDir() {
		c.uid, c.gid = layerview.Owner(fi)
	}
	if err := c.copy(src, n, rel, "m", true); err != nil {
		return "", err
	}
	if fi.IsDir() {
		// The top directory keeps its mode (copy makes a new one 0755 otherwise).
		os.Chmod(filepath.Join(dir, "m"), fi.Mode()&fs.ModePerm)
	}
	return filepath.Join(dir, "m"), nil
}

// cleanMountTargets removes what the runtime made in the layer only to mount on: an empty
// directory or file at a mount's target, and its empty parents, that the lower layers do
// not have.
func (bx *blockRun) cleanMountTargets(ms []graph.Mount) {
	low := layerview.New(bx.lower)
	defer low.Close()
	ufd, err := inroot.OpenRoot(bx.upper)
	if err != nil {
		return
	}
	defer unix.Close(ufd)
	for _, m := range ms {
		// The target, then the directories made only to hold it (/run/secrets, /run):
		// each goes only while empty and absent below.
		for rel := layerview.CleanRel(m.Target); rel != ""; rel = layerview.ParentRel(rel) {
			removePlaceholder(ufd, low, rel)
		}
	}
}

// dockerAdd is ADD of local sources: a tar archive (compressed or not) is unpacked into
// the destination directory, anything else copied as COPY does.
func (bx *blockRun) dockerAdd(ctx context.Context, ip graph.Instr) error {
	if len(ip.Args) < 2 {
		return nil // downloads and heredocs only
	}
	if !ip.Step.Unpack {
		return bx.runCopy(ip)
	}
	srcs, src, err := bx.copySources(ip)
	if err != nil {
		return err
	}
	defer src.Close()
	// A source is read through the view's fds, never by a host path looked up again.
	open := func(s copySrc) (*os.File, error) {
		n, err := src.Lookup(s.at, false)
		if err != nil {
			return nil, err
		}
		defer n.Close()
		if !n.Stat().Mode().IsRegular() {
			return nil, fmt.Errorf("%s is not a regular file", s.rel)
		}
		return inroot.OpenFile(n.FD(), "/"+s.at)
	}
	dst := ip.Args[len(ip.Args)-1]
	var plain []string
	var archives []copySrc
	for _, s := range srcs {
		if f, err := open(s); err == nil && isTarArchive(f) {
			archives = append(archives, s)
		} else {
			plain = append(plain, s.rel)
		}
	}
	if len(plain) > 0 {
		d := dst
		if len(srcs) > 1 && !strings.HasSuffix(d, "/") {
			d += "/"
		}
		cp := ip
		cp.Args = append(plain, d)
		if err := bx.runCopy(cp); err != nil {
			return err
		}
	}
	if !path.IsAbs(dst) {
		dst = path.Join(ip.State.Workdir, dst)
	}
	for i, a := range archives {
		staging := filepath.Join(bx.dir, fmt.Sprintf("add-%d", i))
		os.RemoveAll(staging)
		if err := os.Mkdir(staging, 0o755); err != nil {
			return err
		}
		f, err := open(a)
		if err != nil {
			return err
		}
		r, done, err := image.Decompress(f)
		if err == nil {
			err = image.Extract(ctx, r, staging, image.ExtractOptions{})
			done()
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: unpack %s: %w", stepText(ip), a.rel, err)
		}
		if err := bx.copyUnpacked(ip, staging, dst); err != nil {
			return fmt.Errorf("%s: unpack %s into %s: %w", stepText(ip), a.rel, dst, err)
		}
		os.RemoveAll(staging)
	}
	return nil
}

// copyUnpacked copies an unpacked archive's staging directory into the block at dst.
func (bx *blockRun) copyUnpacked(ip graph.Instr, staging, dst string) error {
	target := bx.view()
	defer target.Close()
	c := &copier{upper: bx.upper, target: target}
	if ip.In.Chown != "" {
		var err error
		if c.uid, c.gid, err = lookupOwner(target, ip.In.Chown); err != nil {
			return fmt.Errorf("ADD --chown: %w", err)
		}
	}
	sv := layerview.New([]string{staging})
	defer sv.Close()
	n, err := sv.Lookup("", false)
	if err != nil {
		return err
	}
	defer n.Close()
	return c.copy(sv, n, "", layerview.CleanRel(dst), true)
}

// isTarArchive reports a tar file, compressed (gzip, bzip2, xz, zstd) or not; it closes f.
func isTarArchive(f *os.File) bool {
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return false
	}
	r, done, err := image.Decompress(f)
	if err != nil {
		return false
	}
	defer done()
	var hdr [512]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return false
	}
	return bytes.HasPrefix(hdr[257:], []byte("ustar"))
}
