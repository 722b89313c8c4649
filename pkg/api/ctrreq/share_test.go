package ctrreq

import (
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
)

func TestShareChecks(t *testing.T) {
	ok := []api.CreateRequest{
		{IPC: "shareable"}, {IPC: "container:db"}, {PID: "host"}, {PID: "container:db"}, {UTS: "host"},
		{CgroupNS: "host"}, {GroupAdd: []string{"audio", "42"}}, {VolumesFrom: []string{"db:ro"}},
		{Links: []string{"db:database"}}, {MemoryReservation: 64 << 20, MemoryBytes: 128 << 20},
		{Devices: []string{"/dev/fuse"}}, {GPUs: "all"},
	}
	for _, r := range ok {
		r.Image = "busybox"
		if _, _, err := Normalize(r, ctrconfig.Options{}); err != nil {
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
		_, _, err := Normalize(r, ctrconfig.Options{})
		fe, isField := err.(*ctrconfig.FieldError)
		if !isField || fe.Field != field {
			t.Errorf("Normalize(%+v) = %v; want an error naming %s", r, err, field)
		}
	}
	r := api.CreateRequest{Image: "busybox", PID: "host", UserNS: "auto"}
	if _, _, err := Normalize(r, ctrconfig.Options{}); err == nil || !strings.Contains(err.Error(), "userns auto") {
		t.Errorf("--pid host with --userns auto: %v", err)
	}
}
