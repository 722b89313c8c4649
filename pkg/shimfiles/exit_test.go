package shimfiles

import (
	"os"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/shimapi"
)

func TestExitRecord(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadExit(dir); !os.IsNotExist(err) {
		t.Errorf("ReadExit of nothing: %v", err)
	}
	e := &shimapi.Exit{ExitCode: 137, Signal: 9, OOMKilled: true, FinishedAt: time.Unix(5, 0).UTC()}
	done, err := WriteExit(dir, e)
	if err != nil {
		t.Fatal(err)
	}
	done(true)
	b, _ := os.ReadFile(dir + "/" + ExitName)
	if string(b) != `{"exit_code":137,"signal":9,"oom_killed":true,"finished_at":"1970-01-01T00:00:05Z"}` {
		t.Errorf("exit.json %s", b)
	}
	got, err := ReadExit(dir)
	if err != nil || *got != *e {
		t.Errorf("ReadExit = %+v %v", got, err)
	}
}
