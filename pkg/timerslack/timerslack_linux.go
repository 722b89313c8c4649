// Package timerslack widens the timer slack of minibox's own processes (the daemon, its
// shims and inits) and gives the workloads theirs back.
//
// Go's runtime has a monitor thread (sysmon) that sleeps 20 µs at a time while any of the
// process's goroutines runs or waits in a system call: in the daemon about 110 times a
// `run --rm`, an eighth of its CPU in compose up and down, on a VM where every timed
// wake-up costs an exit to the hypervisor. The kernel may let a thread's timed sleep run
// late by its timer slack (50 µs by default): at Wide, the daemon's sysmon slept 49 times a
// run, and the CPU of a `compose up` of 5 services (CLI, daemon, shims and inits) fell by
// about a seventh. Timers of theirs then fire up to Wide late, which none of them notices
// (their waits are for events, their timeouts are seconds).
//
// A thread's slack passes to the threads and processes it starts, so a workload would get
// Wide as well: the daemon notes the slack it started with, hands it down to each shim and
// init in their environment (Env), and init forks every workload and exec from a thread
// set back to it (ForWorkload).
package timerslack

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Wide is the slack minibox's own processes run with, in ns.
const Wide = 300_000

// envName carries the workloads' slack from the daemon to a shim and on to init.
const envName = "MINIBOX_WORKLOAD_TIMERSLACK"

// workload is the slack workloads start with, in ns; 0 when unknown (no change made).
var workload int

func init() {
	if v, err := strconv.Atoi(os.Getenv(envName)); err == nil && v > 0 {
		workload = v
	}
}

// Widen sets the timer slack of every thread of this process to Wide (a thread started
// later has its starter's) and notes the slack the calling thread had as the workloads'.
// Only a process with CAP_SYS_NICE sets its other threads'; without, just the caller's.
func Widen() {
	orig, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil || orig <= 0 {
		return
	}
	if workload == 0 {
		workload = orig
	}
	unix.Prctl(unix.PR_SET_TIMERSLACK, Wide, 0, 0, 0)
	// A thread the runtime starts meanwhile from one not yet set has the old slack and was
	// not listed: list again until no thread is new.
	wide := []byte(strconv.Itoa(Wide))
	done := map[string]bool{}
	for range 5 {
		ents, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return
		}
		fresh := false
		for _, e := range ents {
			if done[e.Name()] {
				continue
			}
			done[e.Name()], fresh = true, true
			// /proc/<tid>, not /proc/self/task/<tid>: the file is only there.
			os.WriteFile("/proc/"+e.Name()+"/timerslack_ns", wide, 0)
		}
		if !fresh {
			return
		}
	}
}

// Env is the environment entry that hands the workloads' slack to a shim or an init
// (nil when there is none to hand).
func Env() []string {
	if workload == 0 {
		return nil
	}
	return []string{envName + "=" + strconv.Itoa(workload)}
}

// ForWorkload sets the calling thread's slack to the workloads', for the process it forks
// next. The thread must be locked (runtime.LockOSThread) and not be given back.
func ForWorkload() error {
	if workload == 0 {
		return nil
	}
	return unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(workload), 0, 0, 0)
}
