package ctrconfig

import (
	"errors"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func TestNetworkName(t *testing.T) {
	for _, ok := range []string{"a", "net-1", "Front", "proj_default", "a_b-c", strings.Repeat("x", 63)} {
		if err := NetworkName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "-a", "a-", "_a", "a_", "a.b", "a b", strings.Repeat("x", 64), "bridge", "host", "none", "default"} {
		if err := NetworkName(bad); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("%q: err = %v, want invalid", bad, err)
		}
	}
}

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

func TestParseRestartAndUlimit(t *testing.T) {
	for in, want := range map[string]string{"": "no/0", "no": "no/0", "always": "always/0", "on-failure": "on-failure/0", "on-failure:5": "on-failure/5"} {
		p, n, err := ParseRestart(in)
		if err != nil || p+"/"+string(rune('0'+n)) != want {
			t.Errorf("ParseRestart(%q) = %s %d %v, want %s", in, p, n, err, want)
		}
	}
	u, err := ParseUlimit("NOFILE=-1:unlimited")
	if err != nil || u.Type != "RLIMIT_NOFILE" || u.Soft != RLimitInfinity || u.Hard != RLimitInfinity {
		t.Errorf("ParseUlimit = %+v, %v", u, err)
	}
}
