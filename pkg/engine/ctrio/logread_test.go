package ctrio

import (
	"errors"
	"testing"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/logfile"
)

type oneLog struct {
	f       LogFile
	envAsks int
}

func (o *oneLog) LogOf(ref string) (LogFile, error) {
	if ref != o.f.Name {
		return LogFile{}, errdefs.NotFound("no such container: " + ref)
	}
	f := o.f
	f.Env = func() []string { o.envAsks++; return []string{"A=1", "B=x y"} }
	return f, nil
}

func TestLogsOfAContainerWithoutALog(t *testing.T) {
	src := &oneLog{f: LogFile{Name: "c", Path: "/nonexistent/container.log", Conf: &ctrconfig.Config{LogDriver: logfile.DriverNone}}}
	l := NewLogs(src)
	err := l.Logs("c", LogsOptions{Stdout: true, Details: true}, nil, func(LogLine) error { return nil })
	if !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("log driver none: %v, want an invalid-kind error", err)
	}
	if src.envAsks != 0 {
		t.Fatal("a container without a log had its environment worked out")
	}
	if err := l.Logs("other", LogsOptions{}, nil, func(LogLine) error { return nil }); !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("unknown container: %v", err)
	}
}

func TestLogDetailsTakeTheWorkloadsEnvironment(t *testing.T) {
	src := &oneLog{f: LogFile{Name: "c", Conf: &ctrconfig.Config{LogOpts: map[string]string{"env": "B"}}}}
	d, err := NewLogs(src).LogDetails("c")
	if err != nil || d != "B=x+y" || src.envAsks != 1 {
		t.Fatalf("details = %q, %v (env asked %d times)", d, err, src.envAsks)
	}
}
