package boxinit

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

// identity is who a process runs as.
type identity struct {
	UID, GID int
	Groups   []int // supplementary
	Home     string
}

// errNoUser is the "cannot run" (126) failure of an unknown user or group.
type errNoUser struct{ msg string }

func (e *errNoUser) Error() string { return e.msg }

// lookupUser resolves "user[:group]" (names or numbers) from the container's passwd and
// group files, as Docker does: a numeric uid not in passwd runs with gid 0 and HOME "/";
// an unknown name is an error.
func lookupUser(spec string, passwd, group func() (io.ReadCloser, error)) (*identity, error) {
	u, g, hasGroup := strings.Cut(spec, ":")
	if u == "" {
		u = "0"
	}
	id := &identity{Home: "/"}
	name := ""
	uid, uidErr := strconv.Atoi(u)
	found := false
	if err := scan(passwd, func(f []string) bool {
		if len(f) < 7 {
			return false
		}
		n, err := strconv.Atoi(f[2])
		if err != nil || !(f[0] == u || uidErr == nil && n == uid) {
			return false
		}
		gid, _ := strconv.Atoi(f[3])
		id.UID, id.GID, id.Home, name, found = n, gid, f[5], f[0], true
		return true
	}); err != nil && uidErr != nil {
		return nil, &errNoUser{fmt.Sprintf("unable to find user %s: %v", u, err)}
	}
	if !found {
		if uidErr != nil || uid < 0 {
			return nil, &errNoUser{fmt.Sprintf("unable to find user %s: no matching entries in passwd file", u)}
		}
		id.UID, id.GID = uid, 0
	}
	if hasGroup {
		gid, gidErr := strconv.Atoi(g)
		gfound := false
		scan(group, func(f []string) bool {
			if len(f) < 3 {
				return false
			}
			n, err := strconv.Atoi(f[2])
			if err != nil || !(f[0] == g || gidErr == nil && n == gid) {
				return false
			}
			id.GID, gfound = n, true
			return true
		})
		if !gfound {
			if gidErr != nil || gid < 0 {
				return nil, &errNoUser{fmt.Sprintf("unable to find group %s: no matching entries in group file", g)}
			}
			id.GID = gid
		}
	}
	if name != "" {
		seen := map[int]bool{id.GID: true}
		scan(group, func(f []string) bool {
			if len(f) < 4 {
				return false
			}
			n, err := strconv.Atoi(f[2])
			if err != nil || seen[n] {
				return false
			}
			for _, m := range strings.Split(f[3], ",") {
				if m == name {
					id.Groups, seen[n] = append(id.Groups, n), true
					break
				}
			}
			return false
		})
	}
	return id, nil
}

// withGroups returns id with the --group-add groups (names from the container's group
// file, or numbers) among its supplementary groups.
func withGroups(id *identity, add []string, group func() (io.ReadCloser, error)) (*identity, error) {
	if len(add) == 0 {
		return id, nil
	}
	out := *id
	out.Groups = append([]int(nil), id.Groups...)
	for _, g := range add {
		gid, err := strconv.Atoi(g)
		if err != nil {
			found := false
			scan(group, func(f []string) bool {
				if len(f) < 3 || f[0] != g {
					return false
				}
				gid, err = strconv.Atoi(f[2])
				found = err == nil
				return true
			})
			if !found {
				return nil, &errNoUser{fmt.Sprintf("unable to find group %s: no matching entries in group file", g)}
			}
		}
		if gid < 0 {
			return nil, &errNoUser{fmt.Sprintf("unable to find group %s: not a group ID", g)}
		}
		if !slices.Contains(out.Groups, gid) {
			out.Groups = append(out.Groups, gid)
		}
	}
	return &out, nil
}

// scan calls fn with the colon-separated fields of each line until it returns true.
func scan(open func() (io.ReadCloser, error), fn func([]string) bool) error {
	r, err := open()
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		if fn(strings.Split(line, ":")) {
			return nil
		}
	}
	return sc.Err()
}

// lookPath finds file in the PATH of env, inside the container (init has pivoted).
// The error is the 127 "not found" one.
func lookPath(file string, env []string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + file
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("exec: %q: executable file not found in $PATH", file)
}

// withDefault adds key=val to env unless key is set.
func withDefault(env []string, key, val string) []string {
	for _, e := range env {
		if strings.HasPrefix(e, key+"=") {
			return env
		}
	}
	return append(env[:len(env):len(env)], key+"="+val)
}
