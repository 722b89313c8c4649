package netsvc

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

func etcIn(dir string) EtcFiles {
	return EtcFiles{Hosts: filepath.Join(dir, "hosts"), Resolv: filepath.Join(dir, "resolv.conf"), Hostname: filepath.Join(dir, "hostname")}
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEtcFilesOnTheDefaultBridge(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	dir := t.TempDir()
	f := etcIn(dir)
	req := EtcRequest{ID: ctrID('1'), Name: "web", Hostname: "h1", Mode: "bridge", Addr: netip.MustParseAddr("10.88.0.5"),
		Dir: dir, ExtraHosts: []string{"db:10.1.2.3", "host.docker.internal:host-gateway"}}
	if err := s.WriteEtcFiles(req, &f); err != nil {
		t.Fatal(err)
	}
	hosts := read(t, f.Hosts)
	for _, want := range []string{"10.88.0.5", "h1", "10.1.2.3\tdb", "10.88.0.1\thost.docker.internal"} {
		if !strings.Contains(hosts, want) {
			t.Errorf("hosts lacks %q:\n%s", want, hosts)
		}
	}
	if r := read(t, f.Resolv); !strings.Contains(r, "nameserver 10.88.0.1") {
		t.Errorf("resolv.conf does not name the bridge's resolver:\n%s", r)
	}
	if h := read(t, f.Hostname); h != "h1\n" {
		t.Errorf("hostname = %q", h)
	}
	req.DNS = []string{"192.0.2.53"}
	if err := s.WriteEtcFiles(req, &f); err != nil {
		t.Fatal(err)
	}
	if r := read(t, f.Resolv); !strings.Contains(r, "nameserver 192.0.2.53") || strings.Contains(r, "10.88.0.1") {
		t.Errorf("--dns is not the only server:\n%s", r)
	}
	req.ExtraHosts = []string{"no-colon"}
	if err := s.WriteEtcFiles(req, &f); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("bad --add-host: %v", err)
	}
}

func TestEtcFilesOfASharedNetwork(t *testing.T) {
	s := newTestService(t, &fakeCtrs{})
	owner, dir := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(owner, "hosts"), []byte("10.88.0.7\towner\n"), 0o644)
	os.WriteFile(filepath.Join(owner, "resolv.conf"), []byte("nameserver 10.88.0.1\n"), 0o644)
	f := etcIn(dir)
	if err := s.WriteEtcFiles(EtcRequest{ID: ctrID('2'), Name: "side", Hostname: "h2", Mode: "container:owner", Dir: dir, SharedDir: owner}, &f); err != nil {
		t.Fatal(err)
	}
	if read(t, f.Hosts) != "10.88.0.7\towner\n" || read(t, f.Resolv) != "nameserver 10.88.0.1\n" || read(t, f.Hostname) != "h2\n" {
		t.Fatal("the shared network's files were not copied")
	}
}
