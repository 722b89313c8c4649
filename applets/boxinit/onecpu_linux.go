package boxinit

import (
	"os"
	"os/signal"
	"slices"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// notifyAll is signal.Notify(c) for every signal, with this process's threads held on one
// CPU meanwhile. The runtime enables each signal (some 60) with a round trip to its
// signal-mask thread: two thread wake-ups, and a sleep each. Between threads on two CPUs
// every wake-up is an interrupt to a CPU that has gone idle, which on a VM costs tens of
// microseconds: in a probe the whole came to 2.0 ms of CPU (2.8 ms) spread, 0.6 ms
// (0.6 ms) on one CPU. hostProc: /proc may be another PID namespace's (before
// pivot_root), whose thread IDs are looked up in each thread's status; otherwise a /proc
// that does not list our own thread is not looked into further.
func notifyAll(c chan<- os.Signal, hostProc bool) {
	onOneCPU(func() { signal.Notify(c) }, hostProc)
}

// maxThreads bounds the threads onOneCPU pins (init has about six): more, and it pins
// none. Its lists and buffers live on the stack, and a small part of it: init never
// collects, so what it allocates stays, and a stack grown past its first 8 KiB (resume
// runs this on the main goroutine) would stay twice over.
const maxThreads = 16

// threadList is thread IDs, in /proc's order (ascending).
type threadList struct {
	n   int
	tid [maxThreads]int
}

// onOneCPU runs fn with every thread of this process on the CPU the caller is on, then
// puts every thread back on the CPUs they all had, a thread made meanwhile included (it
// took those of its maker: the pinned ones). Nothing is pinned when the threads cannot all
// be found or were not all on the same CPUs.
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
	var ls threadLister
	ls.hostProc = hostProc
	var before threadList
	if !ls.list(&before) {
		fn()
		return
	}
	for _, t := range before.tid[:before.n] {
		var m unix.CPUSet
		if unix.SchedGetaffinity(t, &m) != nil || m != was {
			fn()
			return
		}
	}
	pinned := 0
	for _, t := range before.tid[:before.n] {
		if unix.SchedSetaffinity(t, &one) == nil {
			pinned++
		}
	}
	fn()
	if pinned == 0 {
		return
	}
	// Until a pass lists the threads the one before did: a thread made by one not yet put
	// back is pinned, and would pin every thread it makes in turn (the workload's included).
	// The kernel keeps of was what each thread's cpuset allows: one changed meanwhile (the
	// container's --cpuset-cpus) holds.
	var prev, cur threadList
	prev.n = -1
	for range 16 {
		if !ls.list(&cur) {
			cur = before
		}
		if slices.Equal(cur.tid[:cur.n], prev.tid[:max(prev.n, 0)]) && cur.n == prev.n {
			return
		}
		for _, t := range cur.tid[:cur.n] {
			unix.SchedSetaffinity(t, &was)
		}
		prev = cur
	}
}

// threadLister lists this process's thread IDs as our PID namespace numbers them, each
// checked to be ours (tgkill with no signal) whatever /proc says. With hostProc, /proc
// may be another PID namespace's (before pivot_root): as PID 1 of our own namespace we
// find our IDs by trying them; otherwise its IDs are translated through each thread's
// status, once. Without hostProc, a /proc that does not list our own thread is not
// looked into further.
type threadLister struct {
	hostProc bool
	hostIDs  threadList // /proc's IDs translated so far, and ours for them in nsIDs
	nsIDs    [maxThreads]int
}

// list fills l with the IDs; false when they could not all be listed.
func (tl *threadLister) list(l *threadList) bool {
	l.n = 0
	if !procTasks(l) {
		return false
	}
	self := unix.Gettid()
	listed := false
	for _, t := range l.tid[:l.n] {
		listed = listed || t == self
	}
	if !listed {
		if !tl.hostProc {
			return false
		}
		// The host's /proc: its IDs are the host's. In a PID namespace of our own, ours
		// are found by asking the kernel (scanOwnNS); otherwise each thread's status ends
		// its NSpid line with the ID in our namespace.
		if !scanOwnNS(l) {
			for i, t := range l.tid[:l.n] {
				l.tid[i] = tl.translate(t)
			}
		}
	}
	pid := unix.Getpid()
	kept := 0
	listed = false
	for _, t := range l.tid[:l.n] {
		if t > 0 && unix.Tgkill(pid, t, 0) == nil {
			l.tid[kept] = t
			kept++
			listed = listed || t == self
		}
	}
	l.n = kept
	return listed
}

// ownNSScan bounds the IDs scanOwnNS tries: before the workload runs, init's threads are
// all a PID namespace of its own holds, numbered from 1 on as they were made.
const ownNSScan = 256

// scanOwnNS replaces the l.n host IDs in l with our threads' IDs when we are PID 1 of our
// namespace: the IDs from 1 on that name a thread of ours (tgkill with no signal), until
// as many as /proc listed are found. That is a system call an ID, where reading a
// thread's status has the kernel format all of it. False (l unchanged) when we are not
// PID 1 or they were not all found.
func scanOwnNS(l *threadList) bool {
	if unix.Getpid() != 1 {
		return false
	}
	var ns threadList
	for t := 1; t <= ownNSScan && ns.n < l.n; t++ {
		if unix.Tgkill(1, t, 0) == nil {
			ns.tid[ns.n] = t
			ns.n++
		}
	}
	if ns.n < l.n {
		return false
	}
	*l = ns
	return true
}

// translate is our ID of host thread t (0: unknown).
func (tl *threadLister) translate(t int) int {
	for i, h := range tl.hostIDs.tid[:tl.hostIDs.n] {
		if h == t {
			return tl.nsIDs[i]
		}
	}
	id := nsTID(t)
	if n := tl.hostIDs.n; n < maxThreads {
		tl.hostIDs.tid[n], tl.nsIDs[n] = t, id
		tl.hostIDs.n++
	}
	return id
}

// procTasks reads /proc/self/task into l; false if it could not, or holds more than
// maxThreads entries.
func procTasks(l *threadList) bool {
	fd, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	var buf [512]byte
	for {
		n, err := unix.ReadDirent(fd, buf[:])
		if err != nil {
			return false
		}
		if n <= 0 {
			return true
		}
		// linux_dirent64: inode (8), offset (8), record length (2), type (1), name.
		for off := 0; off+19 < n; {
			reclen := int(buf[off+16]) | int(buf[off+17])<<8
			if reclen <= 0 || off+reclen > n {
				return false
			}
			id, digits := 0, 0
			for _, c := range buf[off+19 : off+reclen] {
				if c < '0' || c > '9' {
					break
				}
				id = id*10 + int(c-'0')
				digits++
			}
			if digits > 0 {
				if l.n == maxThreads {
					return false
				}
				l.tid[l.n] = id
				l.n++
			}
			off += reclen
		}
	}
}

// nsTID is the innermost ID of host thread t of ours (0: unknown): the last field of its
// status's NSpid line.
func nsTID(t int) int {
	fd, err := unix.Open("/proc/self/task/"+strconv.Itoa(t)+"/status", unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	var buf [512]byte
	n, err := unix.Read(fd, buf[:])
	if err != nil || n <= 0 {
		return 0
	}
	const key = "\nNSpid:"
	b := buf[:n]
	for i := 0; i+len(key) <= len(b); i++ {
		if string(b[i:i+len(key)]) != key {
			continue
		}
		id := 0
		for _, c := range b[i+len(key):] {
			switch {
			case c == '\n':
				return id
			case c >= '0' && c <= '9':
				id = id*10 + int(c-'0')
			default: // the separator before the next namespace's ID
				id = 0
			}
		}
		return 0 // the line did not end: cut short
	}
	return 0
}
