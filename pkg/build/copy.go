package build

import (
	"bufio"
	"fmt"
	"golang.org/x/sys/unix"
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
	"github.com/minibox/minibox/pkg/build/parse"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/inroot"
)

// ctxView is the build context: a directory with symlinks resolved, minus .miniboxignore.
type ctxView struct {
	root   string
	ignore *ignore.Rules
}

func (c *ctxView) abs(rel string) string { return filepath.Join(c.root, filepath.FromSlash(rel)) }

// copySrc is one matched COPY source.
type copySrc struct {
	rel    string // in the context or the FROM block's view
	follow bool   // the source itself is a symlink: copy what it points at, under its name
	name   string // base name for "dst/" targets
	// at is where the copy reads in the view: rel, or for a context source the context
	// path it resolves to on the host (checked to stay in the context).
	at string
}

// copySources expands a COPY's sources (globs allowed) against its origin. The caller
// closes the view.
func (bx *blockRun) copySources(ip graph.Instr) ([]copySrc, *layerview.View, error) {
	in := ip.In
	srcArgs := ip.Args[:len(ip.Args)-1]
	var out []copySrc
	if in.From != "" {
		from := bx.plan.ByName[in.From]
		v := bx.built.view(from)
		for _, s := range srcArgs {
			matches, err := v.Glob(layerview.CleanRel(s))
			if err != nil {
				v.Close()
				return nil, nil, fmt.Errorf("%s: COPY FROM=%s: bad pattern %q: %w", in.Pos, in.From, s, errdefs.ErrInvalid)
			}
			if len(matches) == 0 {
				v.Close()
				return nil, nil, fmt.Errorf("%s: COPY FROM=%s: %s not found in block %s", in.Pos, in.From, s, in.From)
			}
			for _, m := range matches {
				r, err := v.Resolve(m, true)
				if err != nil {
					v.Close()
					return nil, nil, fmt.Errorf("%s: COPY FROM=%s: %s: %w", in.Pos, in.From, m, err)
				}
				out = append(out, copySrc{rel: r, at: r, name: path.Base("/" + m)})
			}
		}
		return out, v, nil
	}
	cv := bx.ctxView()
	ctxFS := layerview.New([]string{cv.root})
	srcs, err := ctxSources(in, cv, ctxFS, srcArgs)
	if err != nil {
		ctxFS.Close()
		return nil, nil, err
	}
	return srcs, ctxFS, nil
}

func ctxSources(in *parse.Instr, cv *ctxView, ctxFS *layerview.View, srcArgs []string) ([]copySrc, error) {
	var out []copySrc
	for _, s := range srcArgs {
		clean := path.Clean(filepath.ToSlash(s))
		if clean == ".." || strings.HasPrefix(clean, "../") {
			return nil, fmt.Errorf("%s: COPY source %s is outside the build context: %w", in.Pos, s, errdefs.ErrInvalid)
		}
		matches, err := ctxFS.Glob(layerview.CleanRel(clean))
		if err != nil {
			return nil, fmt.Errorf("%s: COPY: bad pattern %q: %w", in.Pos, s, errdefs.ErrInvalid)
		}
		n := 0
		excluded := false
		for _, m := range matches {
			if cv.ignore.Excluded(m) && !(cv.ignore.Descend(m) && isDirAt(cv.abs(m))) {
				excluded = true
				continue
			}
			src := copySrc{rel: m, at: m, name: path.Base("/" + m)}
			if m != "" {
				real, err := filepath.EvalSymlinks(cv.abs(m))
				if err != nil {
					return nil, fmt.Errorf("%s: COPY source %s: %w", in.Pos, s, err)
				}
				if real != cv.root && !strings.HasPrefix(real, cv.root+string(filepath.Separator)) {
					return nil, fmt.Errorf("%s: COPY source %s is outside the build context: %w", in.Pos, s, errdefs.ErrInvalid)
				}
				src.at = filepath.ToSlash(strings.TrimPrefix(strings.TrimPrefix(real, cv.root), string(filepath.Separator)))
				if fi, err := os.Lstat(cv.abs(m)); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
					src.follow = true
				}
			}
			out = append(out, src)
			n++
		}
		if n == 0 {
			why := "not found in the build context"
			if excluded {
				why = "excluded by " + ignore.MiniBoxFile
			}
			return nil, fmt.Errorf("%s: COPY source %s %s: %w", in.Pos, s, why, errdefs.ErrInvalid)
		}
	}
	return out, nil
}

// isDirAt reports a directory (a context path, for the ignore rules: not followed).
func isDirAt(p string) bool {
	fi, err := os.Lstat(p)
	return err == nil && fi.IsDir()
}

// copier writes COPY results into a block's upper directory.
type copier struct {
	upper    string
	target   *layerview.View // upper + lowers: what the build container sees
	uid, gid int
	chmod    fs.FileMode
	hasMode  bool
	ignore   *ignore.Rules // context only
	fromCtx  bool
}

// runCopy executes one COPY instruction.
func (bx *blockRun) runCopy(ip graph.Instr) error {
	in := ip.In
	srcs, src, err := bx.copySources(ip)
	if err != nil {
		return err
	}
	defer src.Close()
	c := &copier{upper: bx.upper, target: bx.view(), fromCtx: in.From == ""}
	defer c.target.Close()
	if c.fromCtx {
		c.ignore = bx.ctxView().ignore
	}
	if in.Chown != "" {
		if c.uid, c.gid, err = lookupOwner(c.target, in.Chown); err != nil {
			return fmt.Errorf("%s: COPY --chown: %w", in.Pos, err)
		}
	}
	if in.Chmod != "" {
		m, _ := strconv.ParseUint(in.Chmod, 8, 32)
		c.chmod, c.hasMode = fs.FileMode(m)&fs.ModePerm|modeBits(m), true
	}
	dst := ip.Args[len(ip.Args)-1]
	dirDst := strings.HasSuffix(dst, "/") || len(srcs) > 1 || dst == "." || strings.HasSuffix(dst, "/.")
	if !path.IsAbs(dst) {
		dst = path.Join(ip.State.Workdir, dst)
	}
	dst = layerview.CleanRel(dst)
	for _, s := range srcs {
		// at is resolved already (no symlink in it), so the node is what it names.
		n, err := src.Lookup(s.at, false)
		if err != nil {
			return fmt.Errorf("%s: COPY %s: %w", in.Pos, s.rel, err)
		}
		err = c.copyTop(src, n, s, dst, dirDst)
		n.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", in.Pos, err)
		}
	}
	return nil
}

// copyTop copies one source node to dst, into it when dst is (or is to be) a directory.
func (c *copier) copyTop(src *layerview.View, n *layerview.Node, s copySrc, dst string, dirDst bool) error {
	target := dst
	if !n.Stat().IsDir() {
		isDir := dirDst
		if !isDir {
			if r, err := c.target.Resolve(dst, true); err == nil {
				if tfi, err := c.target.Lstat(r); err == nil && tfi.IsDir() {
					isDir = true
				}
			}
		}
		if isDir {
			target = layerview.Join(dst, s.name)
		}
	}
	if err := c.copy(src, n, s.at, target, true); err != nil {
		return fmt.Errorf("COPY %s to /%s: %w", s.rel, target, err)
	}
	return nil
}

func modeBits(m uint64) fs.FileMode {
	var out fs.FileMode
	if m&0o4000 != 0 {
		out |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		out |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		out |= fs.ModeSticky
	}
	return out
}

// copy copies n, src's rel (a file, symlink or directory's contents), to dst in the upper
// dir, reading only through n's fds. A top-level directory's contents are copied into
// dst, which keeps its own mode (or is made 0755); directories below it keep theirs.
func (c *copier) copy(src *layerview.View, n *layerview.Node, rel string, dst string, top bool) error {
	fi := n.Stat()
	switch {
	case fi.IsDir():
		var dirFi fs.FileInfo // nil: a top-level directory keeps dst's mode
		if !top {
			dirFi = fi
		}
		if err := c.mkdirAll(dst, dirFi); err != nil {
			return err
		}
		names, err := src.List(n, rel)
		if err != nil {
			return err
		}
		for _, name := range names {
			child := layerview.Join(rel, name)
			excluded := c.fromCtx && c.ignore.Excluded(child)
			if excluded && !c.ignore.Descend(child) {
				continue
			}
			cn, err := src.ChildOf(n, name)
			if err != nil {
				return fmt.Errorf("/%s: %w", child, err)
			}
			if excluded && !(cn.Stat().IsDir() && c.keepsSome(src, cn, child)) {
				cn.Close()
				continue
			}
			err = c.copy(src, cn, child, layerview.Join(dst, name), false)
			cn.Close()
			if err != nil {
				return err
			}
		}
		return nil
	case fi.Mode()&fs.ModeSymlink != 0:
		target, err := inroot.Readlink(n.FD())
		if err != nil {
			return &os.PathError{Op: "readlink", Path: "/" + rel, Err: err}
		}
		up, err := c.prepare(dst)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, up); err != nil {
			return err
		}
		return os.Lchown(up, c.uid, c.gid)
	case fi.Mode().IsRegular():
		up, err := c.prepare(dst)
		if err != nil {
			return err
		}
		in, err := inroot.OpenFile(n.FD(), "/"+rel)
		if err != nil {
			return err
		}
		defer in.Close()
		return c.writeFile(in, up, fi)
	}
	return nil // sockets, fifos, devices: nothing a context should carry
}

// keepsSome reports whether the excluded directory n (at rel) holds anything an
// exception of the ignore file takes back; only then is it copied, with just that.
func (c *copier) keepsSome(src *layerview.View, n *layerview.Node, rel string) bool {
	names, err := src.List(n, rel)
	if err != nil {
		return false
	}
	for _, name := range names {
		child := layerview.Join(rel, name)
		if !c.ignore.Excluded(child) {
			return true
		}
		if !c.ignore.Descend(child) {
			continue
		}
		cn, err := src.ChildOf(n, name)
		if err != nil {
			continue
		}
		keep := cn.Stat().IsDir() && c.keepsSome(src, cn, child)
		cn.Close()
		if keep {
			return true
		}
	}
	return false
}

func (c *copier) writeFile(in *os.File, to string, fi fs.FileInfo) error {
	out, err := os.OpenFile(to, os.O_CREATE|os.O_EXCL|os.O_WRONLY|unix.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	if err := os.Lchown(to, c.uid, c.gid); err != nil {
		return err
	}
	// chmod after chown: chown clears setuid bits.
	return os.Chmod(to, c.mode(fi))
}

func (c *copier) mode(fi fs.FileInfo) fs.FileMode {
	if c.hasMode {
		return c.chmod
	}
	return fi.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// prepare resolves dst's directory inside the container root (symlinks cannot lead out),
// creates it in the upper dir, clears whatever the upper dir has at the name (a whiteout
// or an older file) and returns the path to create.
func (c *copier) prepare(dst string) (string, error) {
	dir, err := c.target.Resolve(layerview.ParentRel(dst), true)
	if err != nil {
		return "", err
	}
	if err := c.mkdirAll(dir, nil); err != nil {
		return "", err
	}
	name := path.Base("/" + dst)
	up := filepath.Join(c.upper, filepath.FromSlash(dir), name)
	if fi, err := os.Lstat(up); err == nil {
		if fi.IsDir() {
			if err := os.Remove(up); err != nil {
				return "", fmt.Errorf("cannot replace directory /%s with a file", layerview.Join(dir, name))
			}
		} else if err := os.Remove(up); err != nil {
			return "", err
		}
	}
	return up, nil
}

// mkdirAll makes rel a directory in the upper dir, with every missing parent. A parent
// that exists below keeps its mode and owner (as overlayfs' copy-up would); a new one is
// root's 0755; one a whiteout deleted comes back opaque. fi, when set, is the source
// directory whose mode the last component takes.
func (c *copier) mkdirAll(rel string, fi fs.FileInfo) error {
	rel, err := c.target.Resolve(rel, true)
	if err != nil {
		return err
	}
	parts := strings.Split(rel, "/")
	cur := ""
	for i, p := range parts {
		if p == "" {
			continue
		}
		cur = layerview.Join(cur, p)
		last := i == len(parts)-1
		up := filepath.Join(c.upper, filepath.FromSlash(cur))
		ufi, err := os.Lstat(up)
		if err == nil && ufi.IsDir() {
			if last && fi != nil {
				if err := c.own(up, fi); err != nil {
					return err
				}
			}
			continue
		}
		opaque := false
		if err == nil {
			if !layerview.IsWhiteout(ufi) {
				return fmt.Errorf("/%s exists and is not a directory", cur)
			}
			os.Remove(up)
			opaque = true
		}
		mode, uid, gid := fs.FileMode(0o755), 0, 0
		if !opaque {
			if lfi, err := c.target.Lstat(cur); err == nil {
				if !lfi.IsDir() {
					return fmt.Errorf("/%s exists and is not a directory", cur)
				}
				mode = lfi.Mode() & (fs.ModePerm | fs.ModeSticky | fs.ModeSetgid)
				uid, gid = layerview.Owner(lfi)
			}
		}
		if err := os.Mkdir(up, 0o700); err != nil {
			return err
		}
		if opaque {
			if err := layerview.SetOpaque(up); err != nil {
				return err
			}
		}
		if last && fi != nil {
			if err := c.own(up, fi); err != nil {
				return err
			}
			continue
		}
		if err := os.Lchown(up, uid, gid); err != nil {
			return err
		}
		if err := os.Chmod(up, mode); err != nil {
			return err
		}
	}
	return nil
}

func (c *copier) own(p string, fi fs.FileInfo) error {
	if err := os.Lchown(p, c.uid, c.gid); err != nil {
		return err
	}
	return os.Chmod(p, c.mode(fi))
}

// lookupOwner resolves "user[:group]" (names or numbers) in the container's /etc files.
func lookupOwner(v *layerview.View, spec string) (int, int, error) {
	u, g, hasGroup := strings.Cut(spec, ":")
	uid, gid := -1, -1
	if n, err := strconv.Atoi(u); err == nil {
		uid, gid = n, n
	} else {
		ent, err := lookupEtc(v, "etc/passwd", u)
		if err != nil {
			return 0, 0, err
		}
		if uid, err = strconv.Atoi(ent[2]); err != nil {
			return 0, 0, fmt.Errorf("bad uid for %s in /etc/passwd", u)
		}
		if gid, err = strconv.Atoi(ent[3]); err != nil {
			return 0, 0, fmt.Errorf("bad gid for %s in /etc/passwd", u)
		}
	}
	if hasGroup {
		if n, err := strconv.Atoi(g); err == nil {
			gid = n
		} else {
			ent, err := lookupEtc(v, "etc/group", g)
			if err != nil {
				return 0, 0, err
			}
			if gid, err = strconv.Atoi(ent[2]); err != nil {
				return 0, 0, fmt.Errorf("bad gid for %s in /etc/group", g)
			}
		}
	}
	return uid, gid, nil
}

func lookupEtc(v *layerview.View, file, name string) ([]string, error) {
	n, err := v.Lookup(file, true)
	if err != nil || !n.Stat().Mode().IsRegular() {
		n.Close()
		return nil, fmt.Errorf("no /%s in the image to find %q: %w", file, name, errdefs.ErrInvalid)
	}
	f, err := inroot.OpenFile(n.FD(), "/"+file)
	n.Close()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ent := strings.Split(sc.Text(), ":")
		if len(ent) >= 4 && ent[0] == name {
			return ent, nil
		}
		if len(ent) >= 3 && ent[0] == name && file == "etc/group" {
			return ent, nil
		}
	}
	return nil, fmt.Errorf("unknown user or group %q (not in /%s): %w", name, file, errdefs.ErrInvalid)
}
