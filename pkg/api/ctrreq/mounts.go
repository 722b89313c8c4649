package ctrreq

import (
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/lazyre"
)

var (
	// A tmpfs size: bytes, a k/m/g suffix or a percentage of memory (tmpfs(5)).
	tmpfsSizeRe = lazyre.New(`^[0-9]+[kKmMgG%]?$`)
)

// target checks a mount's container path and returns it cleaned: "/" itself is the
// root filesystem and cannot be a mount.
func target(field, p string) (string, error) {
	if err := absPath(field, p); err != nil {
		return "", err
	}
	p = path.Clean(p)
	if p == "/" {
		return "", bad(field, "cannot be / (the container's root)")
	}
	return p, nil
}

func checkMounts(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for i := range r.Mounts {
		m := &r.Mounts[i]
		f := idx("mounts", i)
		t, err := target(f+".target", m.Target)
		if err != nil {
			return err
		}
		m.Target = t
		if m.Type == "" {
			m.Type = "volume"
		}
		if m.Type != "tmpfs" && (m.TmpfsSize != 0 || m.TmpfsMode != 0) {
			return bad(f, "tmpfs_size and tmpfs_mode are for tmpfs mounts only")
		}
		switch m.Type {
		case "bind":
			if err := absPath(f+".source", m.Source); err != nil {
				return err
			}
		case "volume":
			if m.Source != "" && !ctrconfig.ValidVolumeName(m.Source) {
				return bad(f+".source", "%q is not a volume name: %s", m.Source, ctrconfig.VolumeNameRule)
			}
		case "tmpfs":
			if m.Source != "" {
				return bad(f+".source", "a tmpfs mount takes no source")
			}
			if m.TmpfsSize < 0 || m.TmpfsSize > ctrconfig.MaxBytes {
				return bad(f+".tmpfs_size", "%d: expected a number of bytes up to 1 PiB (0: the default)", m.TmpfsSize)
			}
			if m.TmpfsMode > 0o7777 {
				return bad(f+".tmpfs_mode", "%o: expected a mode up to 07777", m.TmpfsMode)
			}
		default:
			return bad(f+".type", "%q: expected bind, volume or tmpfs", m.Type)
		}
	}
	return nil
}

// checkVolumeMaps checks the original volumes (host path -> container path[:ro|rw]) and
// named_volumes (name -> container path[:ro|rw]).
func checkVolumeMaps(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for _, src := range slices.Sorted(maps.Keys(r.Volumes)) {
		f := key("volumes", src)
		if err := absPath(f, src); err != nil {
			return err
		}
		if _, err := target(f, trimMode(r.Volumes[src])); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(r.NamedVolumes)) {
		f := key("named_volumes", name)
		if !ctrconfig.ValidVolumeName(name) {
			return bad(f, "%q is not a volume name: %s", name, ctrconfig.VolumeNameRule)
		}
		if _, err := target(f, trimMode(r.NamedVolumes[name])); err != nil {
			return err
		}
	}
	return nil
}

func trimMode(t string) string {
	return strings.TrimSuffix(strings.TrimSuffix(t, ":ro"), ":rw")
}

// tmpfsFlags are the options the mount plan turns into flags; tmpfsData those the kernel's
// tmpfs takes as data, with their value's syntax.
var (
	tmpfsFlags = []string{"ro", "rw", "exec", "noexec", "nosuid", "nodev"}
	tmpfsData  = map[string]func(string) bool{
		"size":      tmpfsSizeRe.MatchString,
		"nr_blocks": tmpfsSizeRe.MatchString,
		"nr_inodes": tmpfsSizeRe.MatchString,
		"mode":      func(v string) bool { n, err := strconv.ParseUint(v, 8, 32); return err == nil && n <= 0o7777 },
		"uid":       func(v string) bool { _, err := strconv.ParseUint(v, 10, 32); return err == nil },
		"gid":       func(v string) bool { _, err := strconv.ParseUint(v, 10, 32); return err == nil },
	}
)

// checkTmpfs: "/path[:opt,opt=value]".
func checkTmpfs(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	for i, t := range r.Tmpfs {
		f := idx("tmpfs", i)
		p, opts, _ := strings.Cut(t, ":")
		if _, err := target(f, p); err != nil {
			return err
		}
		if opts == "" {
			continue
		}
		for _, o := range strings.Split(opts, ",") {
			k, v, hasV := strings.Cut(o, "=")
			valid, known := tmpfsData[k]
			switch {
			case !hasV && slices.Contains(tmpfsFlags, k):
			case hasV && known && valid(v):
			default:
				return bad(f, "option %q: expected ro, rw, exec, noexec, nosuid, nodev, size=N[k|m|g|%%], mode=OCTAL, uid=N, gid=N, nr_inodes=N or nr_blocks=N", o)
			}
		}
	}
	return nil
}
