package boxinit

import (
	"bytes"
	"os"
	"os/signal"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// notifyAll is signal.Notify(c) for every signal, with this process's threads held on one
// CPU meanwhile. The runtime enables each signal (some 60) with a round trip to its
// signal-mask thread: two thread wake-ups, and a sleep each. Between threads on two CPUs
// every wake-up is an interrupt to a CPU that has gone idle, which on a VM costs tens of
// microseconds: the whole came to 2.0 ms of CPU (2.8 ms) spread, 0.6 ms (0.6 ms) on one
// CPU, for each init and each resumed one. hostProc: /proc may be another PID
// namespace's (before pivot_root), whose thread IDs are looked up in each thread's status;
// otherwise a /proc that does not list our own thread is not looked into further.
func notifyAll(c chan<- os.Signal, hostProc bool) {
	onOneCPU(func() { signal.Notify(c) }, hostProc)
}

// onOneCPU runs fn with every thread of this process on the CPU the caller is on, then
// gives each its CPUs back: its own, or the caller's to one made meanwhile (it took those
// of its maker: the pinned ones). Nothing is pinned when the threads cannot all be found.
func onOneCPU(fn func(), hostProc bool) {
	var was unix.CPUSet
	if err := unix.SchedGetaffinity(0, &was); err != nil {
		fn()
		return
	}
	var cpu uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); e != 0 {
		fn()
		return
	}
	var one unix.CPUSet
	one.Set(int(cpu))
	ls := &threadLister{hostProc: hostProc}
	tids, ok := ls.list()
	if !ok {
		fn()
		return
	}
	masks := make(map[int]unix.CPUSet, len(tids)+4)
	for _, t := range tids {
		var m unix.CPUSet
		if unix.SchedGetaffinity(t, &m) == nil && unix.SchedSetaffinity(t, &one) == nil {
			masks[t] = m
		}
	}
	fn()
	// Until a pass finds no thread it has not put back: one made meanwhile by a thread not
	// yet put back is pinned, and would pin every thread it makes in turn (the workload's
	// included).
	done := make(map[int]bool, len(masks)+4)
	for range 16 {
		tids, ok := ls.list()
		if !ok {
			tids = nil
			for t := range masks {
				tids = append(tids, t)
			}
		}
		fresh := false
		for _, t := range tids {
			if done[t] {
				continue
			}
			m, known := masks[t]
			if !known {
				m = was
			}
			// The kernel keeps of m what the thread's cpuset allows: one changed meanwhile
			// (the container's --cpuset-cpus) holds.
			unix.SchedSetaffinity(t, &m)
			done[t] = true
			fresh = true
		}
		if !fresh || !ok {
			return
		}
	}
}

// threadLister lists this process's thread IDs as our PID namespace numbers them, each
// checked to be ours (tgkill with no signal) whatever /proc says. With hostProc, /proc
// may be another PID namespace's (before pivot_root): its IDs are translated through each
// thread's status, once. Otherwise a /proc that does not list our own thread is not
// looked into further.
type threadLister struct {
	hostProc bool
	ns       map[int]int // /proc's thread IDs to ours
}

// list returns the IDs; ok is false when they could not be listed.
func (l *threadLister) list() (tids []int, ok bool) {
	names, err := readDirNames("/proc/self/task")
	if err != nil {
		return nil, false
	}
	self := unix.Gettid()
	listed := false
	for _, n := range names {
		if t, err := strconv.Atoi(n); err == nil {
			tids = append(tids, t)
			listed = listed || t == self
		}
	}
	if !listed {
		if !l.hostProc {
			return nil, false
		}
		// The host's /proc: its IDs are the host's. Each thread's status ends its NSpid
		// line with the ID in our namespace.
		if l.ns == nil {
			l.ns = make(map[int]int, len(tids)+4)
		}
		for i, t := range tids {
			id, known := l.ns[t]
			if !known {
				id = nsTID(t)
				l.ns[t] = id
			}
			tids[i] = id
		}
	}
	pid := unix.Getpid()
	kept := tids[:0]
	for _, t := range tids {
		if t > 0 && unix.Tgkill(pid, t, 0) == nil {
			kept = append(kept, t)
			listed = listed || t == self
		}
	}
	return kept, listed
}

// nsTID is the innermost ID of host thread t of ours (0: unknown).
func nsTID(t int) int {
	fd, err := unix.Open("/proc/self/task/"+strconv.Itoa(t)+"/status", unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	var buf [2048]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil || n <= 0 {
		return 0
	}
	_, rest, found := bytes.Cut(buf[:n], []byte("\nNSpid:"))
	if !found {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) == 0 {
		return 0
	}
	id, err := strconv.Atoi(string(f[len(f)-1]))
	if err != nil {
		return 0
	}
	return id
}

// readDirNames lists dir with plain syscalls (no poller, no Go directory reader).
func readDirNames(dir string) ([]string, error) {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var names []string
	buf := make([]byte, 4096)
	for {
		n, err := unix.ReadDirent(fd, buf)
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}
