package ctrreq

import (
	"encoding/json"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/netport"
)

// TestNormalizeConfig: each wire form lands in the Config parsed, once.
func TestNormalizeConfig(t *testing.T) {
	tests := []struct {
		name string
		set  func(r *api.CreateRequest)
		get  func(c *ctrconfig.Config) any
		want any
	}{
		{"publish ip:host:ctr", func(r *api.CreateRequest) {
			r.Publish = []api.PortBinding{{HostIP: "127.0.0.1", HostPort: 8080, ContainerPort: 80}}
		}, func(c *ctrconfig.Config) any { return c.Publish },
			[]netport.Port{{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: 8080, ContainerPort: 80, Proto: "tcp"}}},
		{"publish 0.0.0.0 is every address", func(r *api.CreateRequest) {
			r.Publish = []api.PortBinding{{HostIP: "0.0.0.0", ContainerPort: 53, Protocol: "UDP"}}
		}, func(c *ctrconfig.Config) any { return c.Publish }, []netport.Port{{ContainerPort: 53, Proto: "udp"}}},
		{"original ports map", func(r *api.CreateRequest) { r.Ports = map[string]int{"8081": 81, "0": 82} },
			func(c *ctrconfig.Config) any { return c.Publish },
			[]netport.Port{{ContainerPort: 82, Proto: "tcp"}, {HostPort: 8081, ContainerPort: 81, Proto: "tcp"}}},
		{"memory MiB folds into bytes", func(r *api.CreateRequest) { r.Memory = 64 },
			func(c *ctrconfig.Config) any { return c.Memory }, int64(64 << 20)},
		{"memory bytes win", func(r *api.CreateRequest) { r.Memory, r.MemoryBytes = 64, 100<<20 },
			func(c *ctrconfig.Config) any { return c.Memory }, int64(100 << 20)},
		{"shm MiB folds into bytes", func(r *api.CreateRequest) { r.ShmSize = 128 },
			func(c *ctrconfig.Config) any { return c.ShmSize }, int64(128 << 20)},
		{"limits as numbers", func(r *api.CreateRequest) {
			r.CPUs, r.CPUShares, r.PidsLimit, r.MemorySwap, r.MemoryBytes = 1.5, 512, 100, -1, 8<<20
		}, func(c *ctrconfig.Config) any { return []any{c.CPUs, c.CPUShares, c.PidsLimit, c.MemorySwap} },
			[]any{1.5, int64(512), int64(100), int64(-1)}},
		{"original cpu percent kept apart", func(r *api.CreateRequest) { r.CPU = 50 },
			func(c *ctrconfig.Config) any { return []float64{c.CPUPercent, c.CPUs} }, []float64{50, 0}},
		{"original cpuset", func(r *api.CreateRequest) { r.Cpuset = "0" },
			func(c *ctrconfig.Config) any { return c.CpusetCpus }, "0"},
		{"restart default", func(r *api.CreateRequest) {},
			func(c *ctrconfig.Config) any { return c.Restart }, ctrconfig.RestartPolicy{Name: "no"}},
		{"restart on-failure:3", func(r *api.CreateRequest) { r.Restart = "on-failure:3" },
			func(c *ctrconfig.Config) any { return c.Restart }, ctrconfig.RestartPolicy{Name: "on-failure", MaxRetries: 3}},
		{"ulimits parsed", func(r *api.CreateRequest) { r.Ulimits = []string{"nofile=1024:2048", "core=-1"} },
			func(c *ctrconfig.Config) any { return c.Ulimits },
			[]ctrconfig.Ulimit{{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 2048}, {Type: "RLIMIT_CORE", Soft: ctrconfig.RLimitInfinity, Hard: ctrconfig.RLimitInfinity}}},
		{"healthcheck durations", func(r *api.CreateRequest) {
			r.Healthcheck = &api.Healthcheck{Test: []string{"CMD", "true"}, Interval: int64(2 * time.Second), Timeout: int64(time.Second), Retries: 2}
		}, func(c *ctrconfig.Config) any { return *c.Healthcheck },
			ctrconfig.Healthcheck{Test: []string{"CMD", "true"}, Interval: 2 * time.Second, Timeout: time.Second, Retries: 2}},
		{"devices parsed", func(r *api.CreateRequest) { r.Devices = []string{"/dev/fuse", "/dev/sda:/dev/xvdc:r"} },
			func(c *ctrconfig.Config) any { return c.Devices },
			[]ctrconfig.Device{{Host: "/dev/fuse", Container: "/dev/fuse", Perms: "rwm"}, {Host: "/dev/sda", Container: "/dev/xvdc", Perms: "r"}}},
		{"gpus parsed", func(r *api.CreateRequest) { r.GPUs = "device=0,1" },
			func(c *ctrconfig.Config) any { return *c.GPUs }, ctrconfig.GPURequest{IDs: []string{"0", "1"}}},
		{"no gpus", func(r *api.CreateRequest) {}, func(c *ctrconfig.Config) any { return c.GPUs }, (*ctrconfig.GPURequest)(nil)},
		{"mounts cleaned, type defaulted", func(r *api.CreateRequest) {
			r.Mounts = []api.MountRequest{{Target: "/data/"}, {Type: "tmpfs", Target: "/t", TmpfsSize: 1 << 20}}
		}, func(c *ctrconfig.Config) any { return c.Mounts },
			[]ctrconfig.Mount{{Type: "volume", Target: "/data"}, {Type: "tmpfs", Target: "/t", TmpfsSize: 1 << 20}}},
		{"interactive is tty and stdin", func(r *api.CreateRequest) { r.Interactive = true },
			func(c *ctrconfig.Config) any { return []bool{c.Tty, c.Stdin} }, []bool{true, true}},
		{"network default", func(r *api.CreateRequest) {}, func(c *ctrconfig.Config) any { return c.Network }, "bridge"},
		{"expose expanded", func(r *api.CreateRequest) { r.Expose = []string{"8000-8001", "53/udp"} },
			func(c *ctrconfig.Config) any { return c.Expose }, []string{"8000/tcp", "8001/tcp", "53/udp"}},
		{"seccomp profile moved out of security_opt", func(r *api.CreateRequest) {
			r.SecurityOpt = []string{`seccomp={"defaultAction":"SCMP_ACT_ALLOW"}`, "no-new-privileges"}
		}, func(c *ctrconfig.Config) any { return []any{c.SecurityOpt, string(c.SeccompProfile)} },
			[]any{[]string{"no-new-privileges"}, `{"defaultAction":"SCMP_ACT_ALLOW"}`}},
		{"env kept in order", func(r *api.CreateRequest) { r.Env = []string{"B=2", "A=1", "BARE"} },
			func(c *ctrconfig.Config) any { return c.Env }, []string{"B=2", "A=1", "BARE"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := api.CreateRequest{Image: "busybox"}
			tt.set(&r)
			c, _, err := Normalize(r, ctrconfig.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if got := tt.get(&c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// A record's create request as the daemon before Config wrote it migrates to the Config a
// create of the same request makes now, and a refused one names its field.
func TestMigrate(t *testing.T) {
	legacy := `{"image":"busybox","name":"old","command":["sh"],"hostname":"oldhost","env":["A=1"],
		"publish":[{"host_ip":"127.0.0.1","host_port":41380,"container_port":80,"protocol":"tcp"},{"host_port":0,"container_port":7000,"protocol":"tcp"}],
		"publish_all":true,"expose":["7000/tcp"],"network":"bridge","memory_bytes":67108864,"cpus":0.5,"pids_limit":100,
		"ulimits":["nofile=1024:2048"],"restart":"on-failure:3","healthcheck":{"test":["CMD-SHELL","true"],"interval":2000000000},
		"stop_timeout":7,"log_driver":"local","log_opts":{"max-file":"5","max-size":"20971520"}}`
	got, err := Migrate([]byte(legacy))
	if err != nil {
		t.Fatal(err)
	}
	var req api.CreateRequest
	json.Unmarshal([]byte(legacy), &req)
	want, _, _ := Normalize(req, ctrconfig.Options{})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Migrate\n got %+v\nwant %+v", got, want)
	}
	if got.Restart != (ctrconfig.RestartPolicy{Name: "on-failure", MaxRetries: 3}) || got.Healthcheck.Interval != 2*time.Second ||
		got.Memory != 64<<20 || got.Publish[0].HostIP != netip.MustParseAddr("127.0.0.1") || got.Ulimits[0].Soft != 1024 {
		t.Errorf("Migrate parsed %+v", got)
	}
	for _, bad := range []struct{ doc, field string }{
		{`{"image":"busybox","memory_bytes":-5}`, "memory_bytes"},
		{`{"image":"","name":"x"}`, "image"},
	} {
		var fe *ctrconfig.FieldError
		if _, err := Migrate([]byte(bad.doc)); !errors.As(err, &fe) || fe.Field != bad.field {
			t.Errorf("Migrate(%s) = %v, want a refusal of %s", bad.doc, err, bad.field)
		}
	}
	if _, err := Migrate([]byte(`{"image":`)); err == nil {
		t.Error("a torn request migrated")
	}
}
