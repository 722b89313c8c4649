package minibox

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/minibox/minibox/pkg/api/client"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"golang.org/x/sys/unix"
)

// CpCmd is `cp [-L] <src> <dst>`: one side <ctr>:<path>, the other a host path or "-"
// (a tar stream), with Docker's rules for what lands where.
type CpCmd struct {
	Archive bool   `short:"a" help:"Keep the files' owners (uid and gid) as they are; without it what goes into a container belongs to its root, as Docker's cp makes it."`
	Follow  bool   `short:"L" name:"follow-link" help:"Follow a symbolic link in the source."`
	Src     string `arg:"" name:"src" help:"<ctr>:<path>, a host path, or - (a tar on stdin)."`
	Dst     string `arg:"" name:"dst" help:"<ctr>:<path>, a host path, or - (a tar on stdout)."`
}

// splitCtrPath reads <ctr>:<path>. Like Docker, anything starting with / or . is a host
// path even when it holds a colon, and so is a first part holding a slash.
func splitCtrPath(s string) (ctr, p string, ok bool) {
	if s == "-" || strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") {
		return "", s, false
	}
	c, rest, found := strings.Cut(s, ":")
	if !found || c == "" || strings.Contains(c, "/") {
		return "", s, false
	}
	if rest == "" {
		rest = "/"
	}
	if !strings.HasPrefix(rest, "/") {
		rest = "/" + rest // container paths are relative to its root, as Docker's
	}
	return c, rest, true
}

// copyContents is Docker's "src/." form: the directory's contents, not the directory.
func copyContents(p string) bool {
	return p == "." || strings.HasSuffix(p, "/.")
}

func (c *CpCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	sc, sp, sok := splitCtrPath(c.Src)
	dc, dp, dok := splitCtrPath(c.Dst)
	switch {
	case sok && dok:
		return usageError("cp between two containers is not supported; copy to the host first")
	case !sok && !dok:
		return usageError("cp needs <container>:<path> on one side (minibox cp web:/etc/hosts ./hosts)")
	case sok:
		return c.fromContainer(ctx, cl, out, sc, sp, c.Dst)
	}
	return c.toContainer(ctx, cl, c.Src, dc, dp)
}

// ---- container -> host -------------------------------------------------------------

func (c *CpCmd) fromContainer(ctx context.Context, cl *client.Client, out *Output, ctr, src, dst string) error {
	srcDir := strings.HasSuffix(src, "/")
	contents := copyContents(src)
	cleanSrc := path.Clean(src)
	if c.Follow {
		resolved, err := resolveInContainer(ctx, cl, ctr, cleanSrc)
		if err != nil {
			return err
		}
		cleanSrc = resolved
	}
	body, st, err := cl.ArchiveGet(ctx, ctr, cleanSrc)
	if err != nil {
		return err
	}
	defer body.Close()
	if dst == "-" {
		_, err := io.Copy(out.Stdout, body)
		return err
	}
	isDir := fs.FileMode(st.Mode).IsDir()
	if srcDir && !isDir {
		return fmt.Errorf("%s:%s is not a directory", ctr, src)
	}
	root := path.Base(cleanSrc)
	di, err := os.Stat(dst)
	switch {
	case err == nil && di.IsDir():
		if contents && isDir {
			return extractTar(body, dst, root, "")
		}
		return extractTar(body, dst, root, root)
	case err == nil:
		if isDir {
			return fmt.Errorf("cannot copy directory %s:%s onto file %s", ctr, src, dst)
		}
		return extractTar(body, filepath.Dir(dst), root, filepath.Base(dst))
	case errors.Is(err, fs.ErrNotExist):
		if strings.HasSuffix(dst, string(filepath.Separator)) && !isDir {
			return fmt.Errorf("destination directory %s does not exist; create it or drop the trailing /", dst)
		}
		parent := filepath.Dir(filepath.Clean(dst))
		if pi, err := os.Stat(parent); err != nil || !pi.IsDir() {
			return fmt.Errorf("destination %s: its directory %s does not exist", dst, parent)
		}
		return extractTar(body, parent, root, filepath.Base(filepath.Clean(dst)))
	default:
		return err
	}
}

// resolveInContainer follows p while it is a symbolic link (-L), through the daemon's stat.
func resolveInContainer(ctx context.Context, cl *client.Client, ctr, p string) (string, error) {
	for range 40 {
		st, err := cl.ArchiveStat(ctx, ctr, p)
		if err != nil {
			return "", err
		}
		if fs.FileMode(st.Mode)&fs.ModeSymlink == 0 || st.LinkTarget == "" {
			return p, nil
		}
		t := st.LinkTarget
		if !path.IsAbs(t) {
			t = path.Join(path.Dir(p), t)
		}
		p = path.Clean(t)
	}
	return "", fmt.Errorf("%s:%s: too many levels of symbolic links", ctr, p)
}

// extractTar writes a tar whose root entry is root into dir: the root renamed to newRoot,
// or, when newRoot is "", only its contents. The extractor of image layers does the
// writing, with dir as the root it resolves in (openat2 RESOLVE_IN_ROOT): no entry lands
// outside dir, whatever links the destination or the archive hold. Files take the
// caller's owner; device nodes are not copied to the host.
func extractTar(r io.Reader, dir, root, newRoot string) error {
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: dir, Err: err}
	}
	defer unix.Close(fd)
	rename := func(name string) (string, bool, error) {
		n := path.Clean(strings.TrimPrefix(name, "./"))
		if path.IsAbs(n) || n == ".." || strings.HasPrefix(n, "../") {
			return "", false, fmt.Errorf("archive entry %q points outside its directory", name)
		}
		rest := ""
		switch {
		case n == root || root == "/" && n == ".":
		case strings.HasPrefix(n, root+"/"):
			rest = n[len(root)+1:]
		case root == "/" || root == ".":
			rest = n
		default:
			return "", false, fmt.Errorf("archive entry %q is not under %q", name, root)
		}
		if newRoot == "" {
			// The root itself is dir: only its contents are written.
			return rest, rest != "", nil
		}
		return path.Join(newRoot, rest), true, nil
	}
	err = image.ExtractInRoot(context.Background(), r, fd, "/", image.ExtractOptions{Rename: rename, AsCaller: true})
	if err != nil {
		return fmt.Errorf("copy into %s: %w", dir, err)
	}
	return nil
}

// ---- host -> container -------------------------------------------------------------

func (c *CpCmd) toContainer(ctx context.Context, cl *client.Client, src, ctr, dst string) error {
	if src == "-" {
		// A tar on stdin goes into the directory dst as it is.
		return cl.ArchivePut(ctx, ctr, dst, os.Stdin)
	}
	stat := os.Lstat
	if c.Follow {
		stat = os.Stat
	}
	si, err := stat(src)
	if err != nil {
		return fmt.Errorf("%s: %w", src, unwrapPath(err))
	}
	srcIsDir := si.IsDir()
	if strings.HasSuffix(src, "/") && !srcIsDir {
		return fmt.Errorf("%s is not a directory", src)
	}
	contents := copyContents(src) && srcIsDir
	cleanDst := path.Clean(dst)
	dstDir, name := "", ""
	dst0, err := cl.ArchiveStat(ctx, ctr, cleanDst)
	switch {
	case err == nil && fs.FileMode(dst0.Mode).IsDir():
		dstDir = cleanDst
		if !contents {
			name = filepath.Base(filepath.Clean(src))
		}
	case err == nil:
		if srcIsDir {
			return fmt.Errorf("cannot copy directory %s onto file %s:%s", src, ctr, dst)
		}
		dstDir, name = path.Dir(cleanDst), path.Base(cleanDst)
	case errors.Is(err, errdefs.ErrNotFound):
		if strings.HasSuffix(dst, "/") && !srcIsDir {
			return fmt.Errorf("destination directory %s:%s does not exist; create it or drop the trailing /", ctr, dst)
		}
		dstDir, name = path.Dir(cleanDst), path.Base(cleanDst)
	default:
		return err
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(writeTar(pw, src, name, c.Follow, c.Archive)) }()
	err = cl.ArchivePut(ctx, ctr, dstDir, pr)
	pr.CloseWithError(errors.New("upload ended"))
	return err
}

// writeTar writes src as a tar whose root entry is name ("" = src's contents at the top),
// owned by root as Docker's cp does unless keepOwners (cp -a). With follow the root is
// read through a link.
func writeTar(w io.Writer, src, name string, follow, keepOwners bool) error {
	tw := tar.NewWriter(w)
	type ino struct{ dev, ino uint64 }
	links := map[ino]string{}
	root := filepath.Clean(src)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var fi fs.FileInfo
		if p == root && follow {
			fi, err = os.Stat(p)
		} else {
			fi, err = os.Lstat(p)
		}
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		entry := path.Join(name, filepath.ToSlash(rel))
		if rel == "." {
			entry = name
		}
		if entry == "" || entry == "." {
			return nil // contents only: no root entry
		}
		link := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = entry
		if fi.IsDir() {
			h.Name += "/"
		}
		setOwner(h, keepOwners)
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && fi.Mode().IsRegular() && st.Nlink > 1 {
			k := ino{uint64(st.Dev), st.Ino}
			if first, seen := links[k]; seen {
				h.Typeflag, h.Linkname, h.Size = tar.TypeLink, first, 0
			} else {
				links[k] = entry
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		if p == root && follow && fi.IsDir() && d.Type()&fs.ModeSymlink != 0 {
			// WalkDir does not descend through a link: walk the target under this name.
			return walkLinkedDir(tw, p, entry, keepOwners)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}

// setOwner makes h root's, or (keep) leaves its numeric owners: the host's names mean
// nothing in the container.
func setOwner(h *tar.Header, keep bool) {
	if !keep {
		h.Uid, h.Gid = 0, 0
	}
	h.Uname, h.Gname = "", ""
}

// walkLinkedDir writes the contents of the directory a -L root link points to.
func walkLinkedDir(tw *tar.Writer, link, entry string, keepOwners bool) error {
	target, err := filepath.EvalSymlinks(link)
	if err != nil {
		return err
	}
	return filepath.WalkDir(target, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == target {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		l := ""
		if fi.Mode()&fs.ModeSymlink != 0 {
			l, _ = os.Readlink(p)
		}
		h, err := tar.FileInfoHeader(fi, l)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(target, p)
		h.Name = path.Join(entry, filepath.ToSlash(rel))
		if fi.IsDir() {
			h.Name += "/"
		}
		setOwner(h, keepOwners)
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = io.Copy(tw, f)
			return err
		}
		return nil
	})
}
