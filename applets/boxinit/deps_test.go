package boxinit

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/testutil"
)

// TestDeps keeps init small and free of what a container's PID 1 must not carry: it takes
// only spec, isolation packages and leaves.
func TestDeps(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		testutil.Unavailable(t, "go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"fasthttp", "go-fuse", "kong", "net/http", "minibox/applets/", "minibox/pkg/engine", "minibox/pkg/api"} {
			if strings.Contains(dep, banned) && !strings.HasSuffix(dep, "applets/boxinit") {
				t.Errorf("boxinit depends on %s", dep)
			}
		}
	}
}
