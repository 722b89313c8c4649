package layerview

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/inroot"
)

// View is a read-only merge of layer directories, top first, as overlayfs would show
// them: a whiteout hides the name below it, an opaque directory or a non-directory
// everything below it. COPY FROM=, PKG and AUTO-DEPS read through it without mounting
// anything.
//
// The layers hold what RUN steps wrote, symlinks included, so nothing here joins a layer
// path and hands it to the host's lookup (which would follow a symlink in a lower layer
// out of the tree). A lookup goes one name at a time from fds of the layer directories,
// and a symlink is read and followed inside the merged view, as the container's kernel
// would follow it in its root.
type View struct {
	layers []string
	roots  []int // O_PATH fds of layers, opened on first use
	root   *inroot.Stat
	err    error
}

// New is a view of layers (top first); Close releases it.
func New(layers []string) *View { return &View{layers: layers} }

func (v *View) open() error {
	if v.roots != nil || v.err != nil {
		return v.err
	}
	for _, l := range v.layers {
		fd, err := inroot.OpenRoot(l)
		if err != nil {
			v.Close()
			v.err = err
			return err
		}
		v.roots = append(v.roots, fd)
	}
	if len(v.roots) == 0 {
		v.roots = []int{}
		v.root = &inroot.Stat{}
		return nil
	}
	v.root, v.err = inroot.Fstat(v.roots[0], "/")
	return v.err
}

// Close releases the layers' fds.
func (v *View) Close() {
	if v == nil {
		return
	}
	for _, fd := range v.roots {
		unix.Close(fd)
	}
	v.roots = nil
}

// Node is one name of the merged view: its topmost copy and, for a directory, every
// layer's copy that overlayfs merges into it, top first (dirs[0] is fd).
type Node struct {
	fd     int
	st     *inroot.Stat
	dirs   []int
	shared bool // the view's roots: not closed with the node
}

func (n *Node) Close() {
	if n == nil || n.shared {
		return
	}
	if n.dirs == nil {
		unix.Close(n.fd)
		return
	}
	for _, fd := range n.dirs {
		unix.Close(fd)
	}
}

// FD is the node's topmost copy, opened O_PATH (or as a directory), valid until Close.
func (n *Node) FD() int { return n.fd }

// Stat is the node's topmost copy's stat.
func (n *Node) Stat() *inroot.Stat { return n.st }

// ChildOf looks name up in the directory n, as overlayfs merges it.
func (v *View) ChildOf(n *Node, name string) (*Node, error) { return v.child(n.dirs, name) }

// NameResolve opens a single name below a layer directory fd: never through a symlink or
// out of the directory, whatever the name is.
const NameResolve = unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS

// child looks name up in the merged directory dirs, as overlayfs does.
func (v *View) child(dirs []int, name string) (*Node, error) {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") {
		return nil, &fs.PathError{Op: "lookup", Path: name, Err: fs.ErrInvalid}
	}
	var n *Node
	for _, d := range dirs {
		fd, err := inroot.Openat2(d, name, unix.O_PATH|unix.O_NOFOLLOW, NameResolve)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			n.Close()
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		st, err := inroot.Fstat(fd, name)
		if err != nil {
			unix.Close(fd)
			n.Close()
			return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
		}
		if n == nil {
			if IsWhiteout(st) {
				unix.Close(fd)
				return nil, fs.ErrNotExist
			}
			n = &Node{fd: fd, st: st}
			if !st.IsDir() {
				return n, nil
			}
			n.dirs = []int{fd}
			if isOpaqueFd(fd) {
				return n, nil
			}
			continue
		}
		// Below a directory only directories merge; anything else (a whiteout, a file,
		// a symlink) hides the layers under it.
		if !st.IsDir() {
			unix.Close(fd)
			break
		}
		n.dirs = append(n.dirs, fd)
		if isOpaqueFd(fd) {
			break
		}
	}
	if n == nil {
		return nil, fs.ErrNotExist
	}
	return n, nil
}

// walk resolves rel as the container's kernel would in its root: ".." stops at the root,
// an absolute symlink starts again from it, and a symlink as the last component is
// followed only if follow. It returns the path reached (no symlink in it except perhaps
// the last component) and the node there, which the caller closes. A missing name ends
// the walk with a nil node and the path of what is missing (the rest unresolved), which
// is what a caller creating it needs.
func (v *View) walk(rel string, follow bool) (string, *Node, error) {
	if err := v.open(); err != nil {
		return "", nil, err
	}
	root := &Node{fd: -1, st: v.root, dirs: v.roots, shared: true}
	type step struct {
		name string
		n    *Node
	}
	var stack []step
	cur := func() *Node {
		if len(stack) == 0 {
			return root
		}
		return stack[len(stack)-1].n
	}
	curPath := func(more ...string) string {
		var parts []string
		for _, s := range stack {
			parts = append(parts, s.name)
		}
		return CleanRel(strings.Join(append(parts, more...), "/"))
	}
	closeAll := func() {
		for _, s := range stack {
			s.n.Close()
		}
		stack = nil
	}
	parts := strings.Split(CleanRel(rel), "/")
	links := 0
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		if p == "" || p == "." {
			continue
		}
		if p == ".." {
			if len(stack) > 0 {
				stack[len(stack)-1].n.Close()
				stack = stack[:len(stack)-1]
			}
			continue
		}
		parent := cur()
		if parent.dirs == nil {
			name := curPath()
			closeAll()
			return "", nil, &fs.PathError{Op: "lookup", Path: "/" + name, Err: unix.ENOTDIR}
		}
		n, err := v.child(parent.dirs, p)
		if errors.Is(err, fs.ErrNotExist) {
			missing := curPath(parts[i:]...)
			closeAll()
			return missing, nil, nil
		}
		if err != nil {
			closeAll()
			return "", nil, err
		}
		last := true
		for _, q := range parts[i+1:] {
			if q != "" && q != "." {
				last = false
				break
			}
		}
		if n.st.Mode()&fs.ModeSymlink == 0 || (last && !follow) {
			stack = append(stack, step{p, n})
			if len(curPath()) > unix.PathMax {
				closeAll()
				return "", nil, &fs.PathError{Op: "resolve", Path: rel, Err: unix.ENAMETOOLONG}
			}
			continue
		}
		target, err := inroot.Readlink(n.fd)
		n.Close()
		if err != nil {
			closeAll()
			return "", nil, &fs.PathError{Op: "readlink", Path: "/" + curPath(p), Err: err}
		}
		if links++; links > 40 {
			closeAll()
			return "", nil, &fs.PathError{Op: "resolve", Path: rel, Err: unix.ELOOP}
		}
		if strings.HasPrefix(target, "/") {
			closeAll()
		}
		parts = append(strings.Split(target, "/"), parts[i+1:]...)
		i = -1
	}
	reached := curPath()
	n := cur()
	for _, s := range stack[:max(len(stack)-1, 0)] {
		s.n.Close()
	}
	return reached, n, nil
}

// Lookup opens rel's node (resolved as walk does); the caller closes it.
func (v *View) Lookup(rel string, follow bool) (*Node, error) {
	_, n, err := v.walk(rel, follow)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, &fs.PathError{Op: "lstat", Path: "/" + CleanRel(rel), Err: fs.ErrNotExist}
	}
	return n, nil
}

// ParentRel is rel's directory ("" at the top).
func ParentRel(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

// CleanRel is a path as the view takes it: slash-separated, cleaned, relative to the root.
func CleanRel(rel string) string {
	rel = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(rel)), "/")
	return rel
}

// Lstat describes rel in the merged view; symlinks before the last component are followed
// inside the view.
func (v *View) Lstat(rel string) (fs.FileInfo, error) {
	n, err := v.Lookup(rel, false)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	return n.st, nil
}

// ReadDir lists directory rel, merged and sorted.
func (v *View) ReadDir(rel string) ([]string, error) {
	n, err := v.Lookup(rel, false)
	if err != nil {
		return nil, err
	}
	defer n.Close()
	if n.dirs == nil {
		return nil, &fs.PathError{Op: "readdir", Path: rel, Err: errors.New("not a directory")}
	}
	return v.List(n, rel)
}

// List is a directory node's merged entries, sorted: a whiteout hides its name below.
func (v *View) List(n *Node, rel string) ([]string, error) {
	seen := map[string]bool{}
	var names []string
	for _, d := range n.dirs {
		dfd, err := unix.Openat(d, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: rel, Err: err}
		}
		f := os.NewFile(uintptr(dfd), rel)
		ents, err := f.ReadDir(-1)
		f.Close()
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if seen[e.Name()] {
				continue
			}
			seen[e.Name()] = true
			if e.Type()&fs.ModeCharDevice != 0 {
				var st unix.Stat_t
				if unix.Fstatat(d, e.Name(), &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Rdev == 0 {
					continue
				}
			}
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

// Resolve follows symlinks in rel as if the view were the root directory: ".." and
// absolute links never leave it. The result names no symlink except, when follow is
// false, the last component; a missing path comes back as it is, for the caller to create.
func (v *View) Resolve(rel string, follow bool) (string, error) {
	p, n, err := v.walk(rel, follow)
	n.Close()
	return p, err
}

// Glob expands pattern (slash-separated, relative) against the view, sorted.
func (v *View) Glob(pattern string) ([]string, error) {
	pattern = CleanRel(pattern)
	if pattern == "" {
		return []string{""}, nil
	}
	if !hasMeta(pattern) {
		if _, err := v.Lstat(pattern); err != nil {
			return nil, nil
		}
		return []string{pattern}, nil
	}
	parts := strings.Split(pattern, "/")
	cur := []string{""}
	for _, part := range parts {
		var next []string
		for _, dir := range cur {
			if !hasMeta(part) {
				c := Join(dir, part)
				if _, err := v.Lstat(c); err == nil {
					next = append(next, c)
				}
				continue
			}
			names, err := v.ReadDir(dir)
			if err != nil {
				continue
			}
			for _, n := range names {
				if ok, err := path.Match(part, n); err != nil {
					return nil, err
				} else if ok {
					next = append(next, Join(dir, n))
				}
			}
		}
		cur = next
	}
	sort.Strings(cur)
	return cur, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

// Join is name in dir, both as the view takes them.
func Join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
