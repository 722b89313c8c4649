package ctrconfig

import (
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/api"
)

func TestParseDevice(t *testing.T) {
	for in, want := range map[string]Device{
		"/dev/fuse":             {"/dev/fuse", "/dev/fuse", "rwm"},
		"/dev/fuse:r":           {"/dev/fuse", "/dev/fuse", "r"},
		"/dev/sda:/dev/xvdc":    {"/dev/sda", "/dev/xvdc", "rwm"},
		"/dev/sda:/dev/xvdc:rw": {"/dev/sda", "/dev/xvdc", "rw"},
	} {
		if got, err := ParseDevice(in); err != nil || got != want {
			t.Errorf("ParseDevice(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"dev/fuse", "/dev/fuse:rwx", "/dev/a:/dev/b:rr", "/dev/a:/b:r:x", "/dev/a:rel:r", "/"} {
		if _, err := ParseDevice(in); err == nil {
			t.Errorf("ParseDevice(%q) accepted", in)
		}
	}
}

func TestParseGPUs(t *testing.T) {
	for in, want := range map[string]GPURequest{
		"all": {Count: -1}, "2": {Count: 2}, "count=all": {Count: -1}, "count=1": {Count: 1},
		`"device=0,2"`: {IDs: []string{"0", "2"}}, "device=1,capabilities=utility": {IDs: []string{"1"}},
		"driver=nvidia": {Count: -1},
	} {
		got, err := ParseGPUs(in)
		if err != nil || got.Count != want.Count || strings.Join(got.IDs, ",") != strings.Join(want.IDs, ",") {
			t.Errorf("ParseGPUs(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"0", "bogus", "count=0", "device=a", "driver=amd", "count=1,device=0"} {
		if _, err := ParseGPUs(in); err == nil {
			t.Errorf("ParseGPUs(%q) accepted", in)
		}
	}
}

func TestShareChecks(t *testing.T) {
	ok := []api.CreateRequest{
		{IPC: "shareable"}, {IPC: "container:db"}, {PID: "host"}, {PID: "container:db"}, {UTS: "host"},
		{CgroupNS: "host"}, {GroupAdd: []string{"audio", "42"}}, {VolumesFrom: []string{"db:ro"}},
		{Links: []string{"db:database"}}, {MemoryReservation: 64 << 20, MemoryBytes: 128 << 20},
		{Devices: []string{"/dev/fuse"}}, {GPUs: "all"},
	}
	for _, r := range ok {
		r.Image = "busybox"
		if _, _, err := Normalize(r, Options{}); err != nil {
			t.Errorf("Normalize(%+v): %v", r, err)
		}
	}
	bad := map[string]api.CreateRequest{
		"ipc":                {IPC: "bogus"},
		"pid":                {PID: "private"},
		"uts":                {UTS: "container:x"},
		"cgroupns":           {CgroupNS: "shareable"},
		"hostname":           {UTS: "host", Hostname: "h"},
		"group_add[0]":       {GroupAdd: []string{"a:b"}},
		"volumes_from[0]":    {VolumesFrom: []string{"db:rx"}},
		"links[0]":           {Links: []string{"db"}, Network: "host"},
		"memory_reservation": {MemoryReservation: 64 << 20, MemoryBytes: 32 << 20},
		"devices[0]":         {Devices: []string{"/dev/fuse:x"}},
		"gpus":               {GPUs: "0"},
	}
	for field, r := range bad {
		r.Image = "busybox"
		_, _, err := Normalize(r, Options{})
		fe, isField := err.(*FieldError)
		if !isField || fe.Field != field {
			t.Errorf("Normalize(%+v) = %v; want an error naming %s", r, err, field)
		}
	}
	r := api.CreateRequest{Image: "busybox", PID: "host", UserNS: "auto"}
	if _, _, err := Normalize(r, Options{}); err == nil || !strings.Contains(err.Error(), "userns auto") {
		t.Errorf("--pid host with --userns auto: %v", err)
	}
}
