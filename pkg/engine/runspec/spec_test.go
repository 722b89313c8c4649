package runspec

import (
	"errors"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/spec"
)

const testID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// TestBuild: each case changes one thing of a plain bridge container (busybox's config,
// default capabilities, the daemon's host namespaces) and checks what that makes of the spec.
func TestBuild(t *testing.T) {
	nofile := spec.RlimitResources["RLIMIT_NOFILE"]
	v1 := func(p string, limit int64) *spec.WorkloadCgroup {
		return &spec.WorkloadCgroup{Version: 1, Dir: "/sys/fs/cgroup/pids/" + p + "/workload", Limit: limit}
	}
	for _, c := range []struct {
		name  string
		conf  func(*ctrconfig.Config)
		ctr   func(*Container)
		host  func(*Host)
		err   error // the kind of error wanted
		check func(t *testing.T, s *spec.Spec)
	}{
		{name: "plain", check: func(t *testing.T, s *spec.Spec) {
			want := []string{"PATH=/bin", "HOSTNAME=web"}
			if !reflect.DeepEqual(s.Process.Env, want) || s.Process.Cwd != "/" || s.Process.User != "" || s.Hostname != "web" {
				t.Errorf("process %+v hostname %q", s.Process, s.Hostname)
			}
			if s.HostsPath != "/d/hosts" || s.ResolvPath != "/d/resolv.conf" || s.HostnamePath != "/d/hostname" {
				t.Errorf("etc files %q %q %q", s.HostsPath, s.ResolvPath, s.HostnamePath)
			}
			if s.Rootfs.Upper != "/d/upper" || s.Rootfs.Work != "/d/work" || !reflect.DeepEqual(s.Rootfs.Lower, []string{"/l/top", "/l/base"}) {
				t.Errorf("rootfs %+v", s.Rootfs)
			}
			if !s.Process.NoNewPrivs || len(s.Seccomp) == 0 || s.UserNS != nil || s.Namespaces != nil || s.StopSignal != "SIGTERM" {
				t.Errorf("confinement: nnp %v seccomp %d userns %v ns %v stop %q", s.Process.NoNewPrivs, len(s.Seccomp), s.UserNS, s.Namespaces, s.StopSignal)
			}
			if slices.Contains(s.Process.Capabilities, "CAP_SYS_ADMIN") || !slices.Contains(s.Process.Capabilities, "CAP_CHOWN") {
				t.Errorf("capabilities %q", s.Process.Capabilities)
			}
			if s.CgroupPath != "minibox/"+testID || len(s.Mounts) != 1 || s.Mounts[0].Destination != "/data" {
				t.Errorf("cgroup %q mounts %+v", s.CgroupPath, s.Mounts)
			}
		}},
		{name: "the configuration's variables win over the image's; TERM with a tty",
			conf: func(c *ctrconfig.Config) { c.Env = []string{"A=conf", "HOSTNAME=h"}; c.Tty = true },
			ctr:  func(c *Container) { c.Image.Env = []string{"PATH=/img", "A=img", "B=img"} },
			check: func(t *testing.T, s *spec.Spec) {
				if want := []string{"PATH=/img", "A=conf", "B=img", "HOSTNAME=h", "TERM=xterm"}; !reflect.DeepEqual(s.Process.Env, want) {
					t.Errorf("env %q, want %q", s.Process.Env, want)
				}
			}},
		{name: "no PATH anywhere", ctr: func(c *Container) { c.Image = nil },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Process.Env[0] != DefaultPath {
					t.Errorf("env %q", s.Process.Env)
				}
			}},
		{name: "the image's directory, user and stop signal",
			ctr: func(c *Container) {
				c.Image.WorkingDir, c.Image.User, c.Image.StopSignal = "/srv", "1000:1000", "SIGQUIT"
			},
			check: func(t *testing.T, s *spec.Spec) {
				if s.Process.Cwd != "/srv" || s.Process.User != "1000:1000" || s.StopSignal != "SIGQUIT" {
					t.Errorf("cwd %q user %q stop %q", s.Process.Cwd, s.Process.User, s.StopSignal)
				}
			}},
		{name: "the configuration's over the image's",
			conf: func(c *ctrconfig.Config) { c.WorkingDir, c.User, c.StopSignal = "/app", "nobody", "SIGINT" },
			ctr:  func(c *Container) { c.Image.WorkingDir, c.Image.User, c.Image.StopSignal = "/srv", "1000", "SIGQUIT" },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Process.Cwd != "/app" || s.Process.User != "nobody" || s.StopSignal != "SIGINT" {
					t.Errorf("cwd %q user %q stop %q", s.Process.Cwd, s.Process.User, s.StopSignal)
				}
			}},
		{name: "a relative working directory", ctr: func(c *Container) { c.Image.WorkingDir = "srv" }, err: errdefs.ErrInvalid},
		{name: "a name that is no host name", ctr: func(c *Container) { c.Name = "my_web" },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Hostname != testID[:12] {
					t.Errorf("hostname %q", s.Hostname)
				}
			}},
		{name: "--uts host", conf: func(c *ctrconfig.Config) { c.UTS = ctrconfig.NSHost },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Hostname != "the-host" || s.Namespaces[spec.NSUTS] != spec.NSHost {
					t.Errorf("hostname %q namespaces %v", s.Hostname, s.Namespaces)
				}
			}},
		{name: "--network host keeps the host's /etc files", conf: func(c *ctrconfig.Config) { c.Network = "host" },
			check: func(t *testing.T, s *spec.Spec) {
				if s.HostsPath != "" || s.ResolvPath != "" || s.HostnamePath != "" || s.Network != "host" {
					t.Errorf("etc files %q %q %q", s.HostsPath, s.ResolvPath, s.HostnamePath)
				}
			}},
		{name: "--privileged", conf: func(c *ctrconfig.Config) { c.Privileged = true },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Seccomp != nil || s.Process.NoNewPrivs || !s.Privileged || !slices.Contains(s.Process.Capabilities, "CAP_SYS_ADMIN") {
					t.Errorf("seccomp %d nnp %v caps %d", len(s.Seccomp), s.Process.NoNewPrivs, len(s.Process.Capabilities))
				}
			}},
		{name: "seccomp=unconfined and no-new-privileges=false",
			conf: func(c *ctrconfig.Config) { c.SecurityOpt = []string{"seccomp=unconfined", "no-new-privileges=false"} },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Seccomp != nil || s.Process.NoNewPrivs {
					t.Errorf("seccomp %d nnp %v", len(s.Seccomp), s.Process.NoNewPrivs)
				}
			}},
		{name: "a seccomp profile that does not parse", conf: func(c *ctrconfig.Config) { c.SeccompProfile = []byte(`{"defaultAction": 7}`) }, err: errdefs.ErrInvalid},
		{name: "an unknown capability", conf: func(c *ctrconfig.Config) { c.CapAdd = []string{"CAP_NOPE"} }, err: errdefs.ErrInvalid},
		{name: "the daemon's --userns auto", host: func(h *Host) { h.UserNS = "auto" },
			check: func(t *testing.T, s *spec.Spec) {
				if s.UserNS == nil || *s.UserNS != (spec.IDMap{HostID: 100000, Size: 65536}) {
					t.Errorf("userns %+v", s.UserNS)
				}
			}},
		{name: "--userns host over the daemon's auto", conf: func(c *ctrconfig.Config) { c.UserNS = "host" }, host: func(h *Host) { h.UserNS = "auto" },
			check: func(t *testing.T, s *spec.Spec) {
				if s.UserNS != nil {
					t.Errorf("userns %+v", s.UserNS)
				}
			}},
		{name: "--ulimit within and above the host's hard limit",
			conf: func(c *ctrconfig.Config) {
				c.Ulimits = []ctrconfig.Ulimit{{Type: "RLIMIT_NOFILE", Soft: 50000, Hard: 60000}, {Type: "RLIMIT_NPROC", Soft: 10, Hard: 20}}
			},
			check: func(t *testing.T, s *spec.Spec) {
				want := []spec.Rlimit{{Type: "RLIMIT_NOFILE", Soft: 20000, Hard: 20000}, {Type: "RLIMIT_NPROC", Soft: 10, Hard: 20}}
				if !reflect.DeepEqual(s.Process.Rlimits, want) {
					t.Errorf("rlimits %+v, want %+v", s.Process.Rlimits, want)
				}
			}},
		{name: "--pids-limit beside init (v2)", conf: func(c *ctrconfig.Config) { c.PidsLimit = 50 },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Workload != nil || s.Resources.PidsLimit != 50+InitPids || s.Resources.WorkloadApart {
					t.Errorf("workload %+v pids %d", s.Workload, s.Resources.PidsLimit)
				}
			}},
		{name: "--pids-limit in a workload cgroup (v1)", conf: func(c *ctrconfig.Config) { c.PidsLimit = 50 }, host: func(h *Host) { h.Workload = v1 },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Workload == nil || s.Workload.Limit != 50 || s.Resources.PidsLimit != 50 || !s.Resources.WorkloadApart {
					t.Errorf("workload %+v pids %d", s.Workload, s.Resources.PidsLimit)
				}
			}},
		{name: "no workload cgroup in a user namespace", conf: func(c *ctrconfig.Config) { c.PidsLimit = 50; c.UserNS = "auto" }, host: func(h *Host) { h.Workload = v1 },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Workload != nil || s.Resources.PidsLimit != 50+InitPids {
					t.Errorf("workload %+v pids %d", s.Workload, s.Resources.PidsLimit)
				}
			}},
		{name: "--cpus", conf: func(c *ctrconfig.Config) { c.CPUs = 1.5; c.Memory = 64 << 20 },
			check: func(t *testing.T, s *spec.Spec) {
				if s.Resources.CPUQuota != 150000 || s.Resources.Memory != 64<<20 {
					t.Errorf("resources %+v", s.Resources)
				}
			}},
		{name: "--ipc shareable and --pid host", conf: func(c *ctrconfig.Config) { c.IPC = ctrconfig.NSShareable; c.PID = ctrconfig.NSHost },
			check: func(t *testing.T, s *spec.Spec) {
				if s.ShmPath != "/d/shm" || s.NoShm || !reflect.DeepEqual(s.Namespaces, map[string]string{spec.NSPID: spec.NSHost}) {
					t.Errorf("shm %q %v namespaces %v", s.ShmPath, s.NoShm, s.Namespaces)
				}
			}},
		{name: "--ipc none", conf: func(c *ctrconfig.Config) { c.IPC = ctrconfig.NSNone },
			check: func(t *testing.T, s *spec.Spec) {
				if !s.NoShm || s.ShmPath != "" {
					t.Errorf("shm %q %v", s.ShmPath, s.NoShm)
				}
			}},
		{name: "--ipc host", conf: func(c *ctrconfig.Config) { c.IPC = ctrconfig.NSHost },
			check: func(t *testing.T, s *spec.Spec) {
				if s.ShmPath != "/dev/shm" || s.Namespaces[spec.NSIPC] != spec.NSHost {
					t.Errorf("shm %q namespaces %v", s.ShmPath, s.Namespaces)
				}
			}},
		{name: "devices, GPU driver and groups",
			conf: func(c *ctrconfig.Config) { c.GroupAdd = []string{"video"} },
			ctr: func(c *Container) {
				c.Devices = Devices{Nodes: []spec.Device{{HostPath: "/dev/fuse", Path: "/dev/fuse"}}, Rules: []string{"c 10:229 rwm"}, Driver: &spec.Driver{Dirs: []string{"/usr/lib"}}}
			},
			check: func(t *testing.T, s *spec.Spec) {
				if len(s.Devices) != 1 || !reflect.DeepEqual(s.Resources.Devices, []string{"c 10:229 rwm"}) || s.Driver == nil || !reflect.DeepEqual(s.Process.GroupAdd, []string{"video"}) {
					t.Errorf("devices %+v rules %q driver %+v groups %q", s.Devices, s.Resources.Devices, s.Driver, s.Process.GroupAdd)
				}
			}},
		{name: "--rm and --read-only", conf: func(c *ctrconfig.Config) { c.AutoRemove = true; c.ReadOnly = true },
			check: func(t *testing.T, s *spec.Spec) {
				if !s.AutoRemove || !s.Rootfs.Volatile || !s.Rootfs.ReadOnly {
					t.Errorf("rootfs %+v autoremove %v", s.Rootfs, s.AutoRemove)
				}
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := &ctrconfig.Config{Image: "busybox", Name: "web", Network: "bridge"}
			ctr := &Container{
				ID: testID, Name: "web", Dir: "/d", Conf: conf, Image: &ocispec.ImageConfig{Env: []string{"PATH=/bin"}},
				Args: []string{"sh"}, Lower: []string{"/l/top", "/l/base"}, CgroupPath: "minibox/" + testID,
				Mounts: []spec.Mount{{Type: "volume", Source: "/v/data", Destination: "/data", IDMap: true}},
			}
			host := &Host{UserNS: "host", SubUIDBase: 100000, SubUIDCount: 65536, Hostname: "the-host",
				RlimitMax: func(res int) (uint64, bool) { return 20000, res == nofile }}
			if c.conf != nil {
				c.conf(conf)
			}
			if c.ctr != nil {
				c.ctr(ctr)
			}
			if c.host != nil {
				c.host(host)
			}
			s, err := Build(ctr, host)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.ID != testID || s.Dir != "/d" || !reflect.DeepEqual(s.Process.Args, []string{"sh"}) {
				t.Errorf("id %q dir %q args %q", s.ID, s.Dir, s.Process.Args)
			}
			c.check(t, s)
		})
	}
}

func TestUnpacked(t *testing.T) {
	if got := Unpacked("/r", nil); got != nil {
		t.Errorf("no layers: %q", got)
	}
	layers := []ocispec.Descriptor{{Digest: "sha256:aaaa"}, {Digest: "sha256:bbbb"}}
	if got, want := Unpacked("/r", layers), []string{"/r/extracted/bbbb", "/r/extracted/aaaa"}; !reflect.DeepEqual(got, want) {
		t.Errorf("%q, want %q (top first)", got, want)
	}
}

// TestJoin: another container's IPC and PID namespaces, by its init's PID; refusals as
// Docker's.
func TestJoin(t *testing.T) {
	for _, c := range []struct {
		name, kind string
		d          Donor
		err        error
		ns, shm    string
	}{
		{name: "shareable IPC", kind: spec.NSIPC, d: Donor{ID: "b", Name: "db", Dir: "/c/b", IPC: ctrconfig.NSShareable, InitPID: 42}, ns: "/proc/42/ns/ipc", shm: "/c/b/shm"},
		{name: "host IPC", kind: spec.NSIPC, d: Donor{ID: "b", Name: "db", IPC: ctrconfig.NSHost, InitPID: 42}, ns: "/proc/42/ns/ipc", shm: "/dev/shm"},
		{name: "private IPC", kind: spec.NSIPC, d: Donor{ID: "b", Name: "db", InitPID: 42}, err: errdefs.ErrConflict},
		{name: "PID", kind: spec.NSPID, d: Donor{ID: "b", Name: "db", InitPID: 42}, ns: "/proc/42/ns/pid"},
		{name: "not running", kind: spec.NSPID, d: Donor{ID: "b", Name: "db"}, err: errdefs.ErrConflict},
		{name: "itself", kind: spec.NSPID, d: Donor{ID: "a", Name: "web", InitPID: 42}, err: errdefs.ErrInvalid},
	} {
		s := &spec.Spec{ID: "a"}
		err := Join(s, c.kind, c.d)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%s: error %v, want %v", c.name, err, c.err)
			}
			continue
		}
		if err != nil || s.Namespaces[c.kind] != c.ns || s.ShmPath != c.shm {
			t.Errorf("%s: %v namespaces %v shm %q", c.name, err, s.Namespaces, s.ShmPath)
		}
	}
}

func TestCheckNamespaces(t *testing.T) {
	exists := func(ref string) error {
		if ref == "db" {
			return nil
		}
		return errdefs.NotFound("no such container: " + ref)
	}
	for _, c := range []struct {
		conf   ctrconfig.Config
		userns string
		err    string
	}{
		{conf: ctrconfig.Config{IPC: "container:db", PID: ctrconfig.NSHost}, userns: "host"},
		{conf: ctrconfig.Config{PID: "container:gone"}, userns: "host", err: "pid container:gone: no such container"},
		{conf: ctrconfig.Config{UTS: ctrconfig.NSHost}, userns: "auto", err: "pass --userns host to share the UTS namespace"},
		{conf: ctrconfig.Config{UTS: ctrconfig.NSHost, UserNS: "host"}, userns: "auto"},
	} {
		err := CheckNamespaces(&c.conf, c.userns, exists)
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%+v under %s: %v, want %q", c.conf, c.userns, err, c.err)
		}
	}
}

// TestDevices: a --device is resolved on this host, symlinks followed, with its numbers in
// the cgroup rule; what is no device node names the field at create.
func TestDevices(t *testing.T) {
	conf := &ctrconfig.Config{Devices: []ctrconfig.Device{{Host: "/dev/null", Container: "/dev/xnull", Perms: "rw"}}}
	d, err := ResolveDevices(conf, t.TempDir())
	var st unix.Stat_t
	if err := unix.Stat("/dev/null", &st); err != nil {
		t.Fatal(err)
	}
	want := []string{"c " + strconv.FormatUint(uint64(unix.Major(st.Rdev)), 10) + ":" + strconv.FormatUint(uint64(unix.Minor(st.Rdev)), 10) + " rw"}
	if err != nil || !reflect.DeepEqual(d.Nodes, []spec.Device{{HostPath: "/dev/null", Path: "/dev/xnull"}}) || !reflect.DeepEqual(d.Rules, want) {
		t.Errorf("%+v %v, want rules %q", d, err, want)
	}
	conf.Devices = append(conf.Devices, ctrconfig.Device{Host: "/etc/passwd", Container: "/dev/x", Perms: "r"})
	var fe *ctrconfig.FieldError
	if err := CheckDevices(conf, "/"); !errors.As(err, &fe) || fe.Field != "devices[1]" || !strings.Contains(err.Error(), "not a device node") {
		t.Errorf("a regular file: %v", err)
	}
	if _, err := ResolveDevices(conf, "/"); !errors.Is(err, errdefs.ErrInvalid) {
		t.Errorf("a regular file at start: %v", err)
	}
}
