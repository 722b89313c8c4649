package shimclient_test

import (
	"os"
	"testing"
)

// TestMain: shimclient runs the embedded shim executable (pkg/shimexe), as the daemon does;
// the test binary is a starter too (MINIBOX_TEST_STARTER), for the daemon-restart tests.
func TestMain(m *testing.M) {
	if dir := os.Getenv("MINIBOX_TEST_STARTER"); dir != "" {
		os.Exit(starter(dir))
	}
	code := m.Run()
	if rootfsDir != "" {
		os.RemoveAll(rootfsDir) // the busybox layer the tests shared
	}
	os.Exit(code)
}
