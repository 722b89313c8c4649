package build

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// view is a read-only merge of layer directories, top first, as overlayfs would show
// them: a whiteout hides the name below it, an opaque directory everything below it.
// COPY FROM=, PKG and AUTO-DEPS read through it without mounting anything.
type view struct {
	layers []string
}

// find returns the layer holding rel (slash-separated, relative to the root) and its info.
func (v *view) find(rel string) (string, fs.FileInfo, error) {
	rel = cleanRel(rel)
	for _, l := range v.layers {
		fi, err := os.Lstat(filepath.Join(l, rel))
		if err == nil {
			if isWhiteout(fi) {
				return "", nil, fs.ErrNotExist
			}
			return l, fi, nil
		}
		if hidesBelow(l, rel) {
			return "", nil, fs.ErrNotExist
		}
	}
	return "", nil, fs.ErrNotExist
}

// hidesBelow reports whether layer l ends the search for rel: an ancestor there is
// opaque, a whiteout, or not a directory.
func hidesBelow(l, rel string) bool {
	dir := rel
	for dir != "" && dir != "." {
		dir = parentRel(dir)
		p := filepath.Join(l, dir)
		fi, err := os.Lstat(p)
		if err != nil {
			continue
		}
		if !fi.IsDir() || isOpaque(p) {
			return true
		}
		if dir == "" {
			break
		}
	}
	return false
}

func parentRel(rel string) string {
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		return rel[:i]
	}
	return ""
}

func cleanRel(rel string) string {
	rel = strings.TrimPrefix(path.Clean("/"+filepath.ToSlash(rel)), "/")
	return rel
}

// Lstat describes rel in the merged view.
func (v *view) Lstat(rel string) (fs.FileInfo, error) {
	_, fi, err := v.find(rel)
	return fi, err
}

// Real returns the on-disk path of rel's topmost copy.
func (v *view) Real(rel string) (string, error) {
	l, _, err := v.find(rel)
	if err != nil {
		return "", err
	}
	return filepath.Join(l, cleanRel(rel)), nil
}

// ReadDir lists directory rel, merged and sorted.
func (v *view) ReadDir(rel string) ([]string, error) {
	rel = cleanRel(rel)
	seen := map[string]bool{}
	var names []string
	found := false
	for _, l := range v.layers {
		p := filepath.Join(l, rel)
		fi, err := os.Lstat(p)
		if err != nil {
			if hidesBelow(l, rel) {
				break
			}
			continue
		}
		if !fi.IsDir() {
			if !found && !isWhiteout(fi) {
				return nil, &fs.PathError{Op: "readdir", Path: rel, Err: errors.New("not a directory")}
			}
			break
		}
		found = true
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if seen[e.Name()] {
				continue
			}
			seen[e.Name()] = true
			if e.Type()&fs.ModeCharDevice != 0 {
				if info, err := e.Info(); err == nil && isWhiteout(info) {
					continue
				}
			}
			names = append(names, e.Name())
		}
		if isOpaque(p) {
			break
		}
	}
	if !found {
		return nil, &fs.PathError{Op: "readdir", Path: rel, Err: fs.ErrNotExist}
	}
	sort.Strings(names)
	return names, nil
}

// Resolve follows symlinks in rel as if the view were the root directory: ".." and
// absolute links never leave it. The result names no symlink except, when follow is
// false, the last component.
func (v *view) Resolve(rel string, follow bool) (string, error) {
	parts := strings.Split(cleanRel(rel), "/")
	cur := ""
	links := 0
	for i := 0; i < len(parts); i++ {
		p := parts[i]
		if p == "" || p == "." {
			continue
		}
		if p == ".." {
			cur = parentRel(cur)
			continue
		}
		next := p
		if cur != "" {
			next = cur + "/" + p
		}
		last := i == len(parts)-1
		real, err := v.Real(next)
		if err != nil {
			// Missing: the rest is created by the caller, below cur.
			return cleanRel(strings.Join(append([]string{next}, parts[i+1:]...), "/")), nil
		}
		fi, err := os.Lstat(real)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 || (last && !follow) {
			cur = next
			continue
		}
		if links++; links > 40 {
			return "", &fs.PathError{Op: "resolve", Path: rel, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := os.Readlink(real)
		if err != nil {
			return "", err
		}
		rest := parts[i+1:]
		if strings.HasPrefix(target, "/") {
			cur = ""
		}
		parts = append(strings.Split(strings.Trim(target, "/"), "/"), rest...)
		i = -1
	}
	return cur, nil
}

// Glob expands pattern (slash-separated, relative) against the view, sorted.
func (v *view) Glob(pattern string) ([]string, error) {
	pattern = cleanRel(pattern)
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
				c := join(dir, part)
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
					next = append(next, join(dir, n))
				}
			}
		}
		cur = next
	}
	sort.Strings(cur)
	return cur, nil
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }

func join(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}
