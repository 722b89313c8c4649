package caps

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/testutil"
)

const childEnv = "MINIBOX_CAPS_TEST_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(child(spec))
	}
	os.Exit(m.Run())
}

// child applies "uid:gid:caps,..." on its locked thread, then execs grep from it so the
// output shows what a workload started from that thread gets.
func child(spec string) int {
	runtime.LockOSThread()
	f := strings.SplitN(spec, ":", 3)
	uid, _ := strconv.Atoi(f[0])
	gid, _ := strconv.Atoi(f[1])
	var set []string
	if f[2] != "" {
		set = strings.Split(f[2], ",")
	}
	if err := Apply(set, uid, gid, []int{gid, 4242}); err != nil {
		fmt.Println("apply:", err)
		return 1
	}
	cmd := exec.Command("/bin/grep", "-E", "^(Cap|Uid|Gid|Groups)", "/proc/self/status")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Println("grep:", err)
		return 1
	}
	return 0
}

func status(t *testing.T, spec string) map[string]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+spec)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", spec, err, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			m[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	return m
}

func TestApplyRoot(t *testing.T) {
	testutil.RequirePrivileged(t)
	st := status(t, "0:0:CAP_CHOWN,CAP_KILL,CAP_NET_BIND_SERVICE")
	want := fmt.Sprintf("%016x", 1<<0|1<<5|1<<10)
	for _, k := range []string{"CapEff", "CapPrm", "CapBnd", "CapInh"} {
		if st[k] != want {
			t.Errorf("%s = %s, want %s", k, st[k], want)
		}
	}
	if st["CapAmb"] != "0000000000000000" {
		t.Errorf("CapAmb = %s, want none", st["CapAmb"])
	}
	if st["Groups"] != "0 4242" {
		t.Errorf("Groups = %q, want \"0 4242\"", st["Groups"])
	}
}

func TestApplyNonRoot(t *testing.T) {
	testutil.RequirePrivileged(t)
	st := status(t, "1000:1001:"+strings.Join(Default(), ","))
	zero := "0000000000000000"
	if st["CapEff"] != zero || st["CapPrm"] != zero || st["CapInh"] != zero {
		t.Errorf("non-root caps eff %s prm %s inh %s, want all empty", st["CapEff"], st["CapPrm"], st["CapInh"])
	}
	m, _ := mask(Default())
	if st["CapBnd"] != fmt.Sprintf("%016x", m) {
		t.Errorf("CapBnd = %s, want %016x", st["CapBnd"], m)
	}
	if st["Uid"] != "1000 1000 1000 1000" || st["Gid"] != "1001 1001 1001 1001" {
		t.Errorf("Uid %q Gid %q, want 1000 and 1001 everywhere", st["Uid"], st["Gid"])
	}
}
