package seccomp

import "strings"

// Default is minibox's default profile: Docker's default allowlist (moby's
// profiles/seccomp/default.json) with its capability- and architecture-conditional rules,
// plus the syscalls added to the kernel since (fchmodat2, futex2, ...) that glibc and Go now
// use and that open nothing Docker's list does not. Everything else returns EPERM; clone3
// returns ENOSYS so libcs fall back to clone, whose namespace flags are then checked.
func Default() *Profile {
	p := &Profile{
		DefaultAction:   ActErrno,
		DefaultErrnoRet: errno(1),
		ArchMap: []ArchMap{
			{Arch: "SCMP_ARCH_X86_64", SubArches: []string{"SCMP_ARCH_X86"}}, // x32 left out: killed
		},
		Architectures: []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"},
	}
	allow := func(names string, args []Arg, inc, exc Filter) {
		p.Syscalls = append(p.Syscalls, Syscall{Names: strings.Fields(names), Action: ActAllow,
			Args: args, Includes: inc, Excludes: exc})
	}
	caps := func(c ...string) Filter { return Filter{Caps: c} }
	arches := func(a ...string) Filter { return Filter{Arches: a} }
	none := Filter{}

	allow(defaultAllowed, nil, none, none)
	// Before 4.8 a ptracer could change a syscall after seccomp had checked it.
	allow("process_vm_readv process_vm_writev ptrace", nil, Filter{MinKernel: "4.8"}, none)
	allow("socket", []Arg{{Index: 0, Value: 40, Op: OpNE}}, none, none) // AF_VSOCK reaches the hypervisor
	// personality: only the harmless domains (PER_LINUX, PER_LINUX32, UNAME26 variants, query).
	for _, v := range []uint64{0x0, 0x8, 0x20000, 0x20008, 0xffffffff} {
		allow("personality", []Arg{{Index: 0, Value: v, Op: OpEQ}}, none, none)
	}
	allow("arch_prctl", nil, arches("amd64", "x32"), none)
	allow("modify_ldt", nil, arches("amd64", "x32", "x86"), none)
	allow("open_by_handle_at", nil, caps("CAP_DAC_READ_SEARCH"), none)
	allow(`bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie mount
		mount_setattr move_mount open_tree open_tree_attr perf_event_open quotactl quotactl_fd
		setdomainname sethostname setns syslog umount umount2 unshare listmount statmount`,
		nil, caps("CAP_SYS_ADMIN"), none)
	// Without CAP_SYS_ADMIN, clone may not ask for a new namespace of any kind:
	// CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET = 0x7e020000.
	allow("clone", []Arg{{Index: 0, Value: cloneNamespaces, Op: OpMaskedEQ}}, none, caps("CAP_SYS_ADMIN"))
	// clone3 passes its flags in memory a filter cannot read: ENOSYS makes libcs use clone.
	p.Syscalls = append(p.Syscalls, Syscall{Names: []string{"clone3"}, Action: ActErrno,
		ErrnoRet: errno(38), Excludes: caps("CAP_SYS_ADMIN")})
	allow("reboot", nil, caps("CAP_SYS_BOOT"), none)
	allow("chroot", nil, caps("CAP_SYS_CHROOT"), none)
	allow("delete_module init_module finit_module", nil, caps("CAP_SYS_MODULE"), none)
	allow("acct", nil, caps("CAP_SYS_PACCT"), none)
	allow("kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace", nil, caps("CAP_SYS_PTRACE"), none)
	allow("iopl ioperm", nil, caps("CAP_SYS_RAWIO"), none)
	allow("settimeofday stime clock_settime clock_settime64", nil, caps("CAP_SYS_TIME"), none)
	allow("vhangup", nil, caps("CAP_SYS_TTY_CONFIG"), none)
	allow("get_mempolicy mbind set_mempolicy set_mempolicy_home_node migrate_pages move_pages", nil, caps("CAP_SYS_NICE"), none)
	allow("syslog", nil, caps("CAP_SYSLOG"), none)
	allow("bpf", nil, caps("CAP_BPF"), none)
	allow("perf_event_open", nil, caps("CAP_PERFMON"), none)
	return p
}

const cloneNamespaces = 0x7e020000

func errno(n uint) *uint { return &n }

// defaultAllowed are allowed unconditionally: Docker's list, then newer syscalls.
const defaultAllowed = `
accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32
clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2
dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait
epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 fadvise64
fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64
fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs
fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat getcpu getcwd
getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32
getitimer getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32
getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
get_thread_area gettid gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init
inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents
io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter io_uring_register
io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown
lchown32 lgetxattr link linkat listen listxattr llistxattr _llseek lremovexattr lseek lsetxattr
lstat lstat64 madvise membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat
mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl msgget msgrcv
msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep newfstatat _newselect open
openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect
poll ppoll ppoll_time64 prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6
pselect6_time64 pwrite64 pwritev pwritev2 read readahead readlink readlinkat readv recv recvfrom
recvmmsg recvmmsg_time64 recvmsg remap_file_pages removexattr rename renameat renameat2
restart_syscall rmdir rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo
rt_sigreturn rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop
semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid
setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer setpgid
setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
setrlimit set_robust_list setsid setsockopt set_thread_area set_tid_address setuid setuid32
setxattr shmat shmctl shmdt shmget shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn
socketcall socketpair splice stat stat64 statfs statfs64 statx symlink symlinkat sync
sync_file_range syncfs sysinfo tee tgkill time timer_create timer_delete timer_getoverrun
timer_gettime timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime
timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit
umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
waitpid write writev
cachestat fchmodat2 map_shadow_stack futex_wake futex_wait futex_requeue mseal
setxattrat getxattrat listxattrat removexattrat
`
