package shimfiles

import (
	"os"
	"testing"
)

// The daemon and a warm shim both record the shim, in either order around the shim's
// own fresh start of the file: each process is read once, in the order first recorded.
func TestReadProcsOnceEach(t *testing.T) {
	dir := t.TempDir()
	self := os.Getpid()
	if err := RecordProc(dir, "shim", self, true); err != nil {
		t.Fatal(err)
	}
	RecordProc(dir, "init", os.Getppid(), false)
	RecordProc(dir, "shim", self, false)
	recs, err := ReadProcs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Name != "shim" || recs[0].PID != self || recs[1].Name != "init" || recs[1].PID != os.Getppid() {
		t.Fatalf("records %+v, want the shim %d, then init %d", recs, self, os.Getppid())
	}
}
