package ctrio

import (
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/logfile"
	"github.com/minibox/minibox/pkg/shimclient"
)

// LogsOptions select what a container's log read returns.
type LogsOptions struct {
	Follow         bool
	Tail           int // 0: all
	Since, Until   time.Time
	Stdout, Stderr bool
	// Details adds to each record the labels and variables --log-opt labels=/env= name.
	Details bool
}

// LogLine is one record of a container's log.
type LogLine struct {
	Time   time.Time
	Stream string // stdout or stderr
	Text   string
	// Details (with LogsOptions.Details): the attributes --log-opt labels=/env= name, as
	// "k=v,k2=v2" (Docker's form).
	Details string
}

// LogFile is a container's log as the engine finds it.
type LogFile struct {
	Name string
	Path string // its container.log
	Conf *ctrconfig.Config
	// Live: the container runs, so a follow waits for more.
	Live bool
	// Env is its workload's environment, asked for only for details (it costs a spec).
	Env func() []string
}

// LogSource finds containers' logs for Logs.
type LogSource interface {
	LogOf(ref string) (LogFile, error)
}

// Logs reads containers' logs.
type Logs struct{ src LogSource }

// NewLogs makes the reader over the engine's containers.
func NewLogs(src LogSource) *Logs { return &Logs{src: src} }

// Logs emits the container's log records; with Follow it ends once the container exited.
// A container whose log driver is none has no log: that is an error, not an empty one.
func (l *Logs) Logs(ref string, opts LogsOptions, done <-chan struct{}, emit func(LogLine) error) error {
	f, err := l.src.LogOf(ref)
	if err != nil {
		return err
	}
	if f.Conf.LogDriver == logfile.DriverNone {
		return errdefs.Invalid("container " + f.Name + " keeps no log: its log driver is none (create it with --log-driver local or json-file to keep its output)")
	}
	details := ""
	if opts.Details {
		details = LogDetails(f.Conf, f.Env())
	}
	return shimclient.ReadLogs(f.Path, shimclient.LogOptions{
		Follow: opts.Follow && f.Live, Tail: opts.Tail, Since: opts.Since, Until: opts.Until, Stdout: opts.Stdout, Stderr: opts.Stderr,
	}, done, func(r shimclient.LogRecord) error {
		return emit(LogLine{Time: r.Time, Stream: r.Stream, Text: r.Text, Details: details})
	})
}

// LogDetails is what `logs --details` shows before each of the container's lines.
func (l *Logs) LogDetails(ref string) (string, error) {
	f, err := l.src.LogOf(ref)
	if err != nil {
		return "", err
	}
	return LogDetails(f.Conf, f.Env()), nil
}
