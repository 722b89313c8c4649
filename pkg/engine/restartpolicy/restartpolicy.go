// Package restartpolicy is a container's --restart policy: whether a container restarts
// when its run ends or the daemon starts, and when (a back-off between restarts).
package restartpolicy

import (
	"time"

	"github.com/minibox/minibox/pkg/ctrconfig"
)

const (
	backoffMin   = 100 * time.Millisecond
	backoffMax   = time.Minute
	backoffReset = 10 * time.Second
)

// Run is what the policy weighs of a container whose run ended.
type Run struct {
	// UserStopped: a user stopped (or killed) it.
	UserStopped  bool
	ExitCode     int
	RestartCount int
}

// AfterExit says whether a container whose run just ended restarts.
func AfterExit(p ctrconfig.RestartPolicy, r Run) bool {
	switch p.Name {
	case "always", "unless-stopped":
		return !r.UserStopped
	case "on-failure":
		return onFailure(p, r)
	}
	return false
}

// AtDaemonStart says whether a container that is not running starts with the daemon: an
// "always" one even if a user stopped it (that stop held until this daemon start only).
func AtDaemonStart(p ctrconfig.RestartPolicy, r Run) bool {
	switch p.Name {
	case "always":
		return true
	case "unless-stopped":
		return !r.UserStopped
	case "on-failure":
		return onFailure(p, r)
	}
	return false
}

func onFailure(p ctrconfig.RestartPolicy, r Run) bool {
	return !r.UserStopped && r.ExitCode != 0 && (p.MaxRetries == 0 || r.RestartCount < p.MaxRetries)
}

// Pending is a container's policy restart to come, with its back-off: doubling from
// 100 ms to a minute, back to 100 ms after a run of 10 s. Its owner serialises the calls.
type Pending struct {
	timer   *time.Timer
	backoff time.Duration
}

// Schedule runs start once the back-off after a run of ranFor has passed, and returns
// that delay.
func (p *Pending) Schedule(ranFor time.Duration, start func()) time.Duration {
	if ranFor >= backoffReset || p.backoff == 0 {
		p.backoff = backoffMin
	} else {
		p.backoff = min(p.backoff*2, backoffMax)
	}
	p.timer = time.AfterFunc(p.backoff, start)
	return p.backoff
}

// Cancel calls off the scheduled restart (one that already began runs on) and reports
// whether one was scheduled since the last Cancel.
func (p *Pending) Cancel() bool {
	if p.timer == nil {
		return false
	}
	p.timer.Stop()
	p.timer = nil
	return true
}
