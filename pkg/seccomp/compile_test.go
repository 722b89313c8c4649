package seccomp

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/minibox/minibox/pkg/errdefs"
)

var update = flag.Bool("update", false, "rewrite golden files")

// disasm prints one instruction per line: code jt jf k, as the golden file holds them.
func disasm(prog []byte) string {
	var b strings.Builder
	for i := 0; i+8 <= len(prog); i += 8 {
		fmt.Fprintf(&b, "%04x %3d %3d 0x%08x\n", binary.NativeEndian.Uint16(prog[i:]),
			prog[i+2], prog[i+3], binary.NativeEndian.Uint32(prog[i+4:]))
	}
	return b.String()
}

func needAMD64(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("filters are compiled for amd64 only")
	}
}

func TestCompileGolden(t *testing.T) {
	needAMD64(t)
	src, err := os.ReadFile("testdata/small.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(p, []string{"CHOWN"})
	if err != nil {
		t.Fatal(err)
	}
	got := disasm(prog)
	golden := filepath.Join("testdata", "small.golden")
	if *update {
		os.WriteFile(golden, []byte(got), 0o644)
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("Compile(small.json) =\n%s\nwant\n%s", got, want)
	}
}

// run interprets prog the way the kernel's seccomp BPF does, on one seccomp_data.
func run(t *testing.T, prog []byte, arch uint32, nr uint32, args ...uint64) uint32 {
	t.Helper()
	data := make([]byte, 64)
	binary.NativeEndian.PutUint32(data[0:], nr)
	binary.NativeEndian.PutUint32(data[4:], arch)
	for i, a := range args {
		binary.NativeEndian.PutUint64(data[16+8*i:], a)
	}
	var A uint32
	for pc := 0; pc*8 < len(prog); pc++ {
		in := prog[pc*8:]
		code, jt, jf, k := binary.NativeEndian.Uint16(in), int(in[2]), int(in[3]), binary.NativeEndian.Uint32(in[4:])
		switch code {
		case ldAbsW:
			A = binary.NativeEndian.Uint32(data[k:])
		case aluAND:
			A &= k
		case jmpJA:
			pc += int(k)
		case jmpJEQ, jmpJGT, jmpJGE:
			ok := map[uint16]bool{jmpJEQ: A == k, jmpJGT: A > k, jmpJGE: A >= k}[code]
			if ok {
				pc += jt
			} else {
				pc += jf
			}
		case retK:
			return k
		default:
			t.Fatalf("pc %d: unknown opcode %#x", pc, code)
		}
	}
	t.Fatal("program ran off its end")
	return 0
}

const (
	eperm  = retErrno | 1
	enosys = retErrno | 38
)

func TestDefaultProfile(t *testing.T) {
	needAMD64(t)
	dockerCaps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
		"CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
		"CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
	prog, err := Compile(Default(), dockerCaps)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := Compile(Default(), append(dockerCaps, "SYS_ADMIN", "sys_ptrace"))
	if err != nil {
		t.Fatal(err)
	}
	x, i := uint32(auditArchX8664), uint32(auditArchI386)
	n := func(a arch, name string) uint32 { return a.nums()[name] }
	const newuser, thread = 0x10000000, 0x003d0f00 // CLONE_NEWUSER; pthread_create's flags
	for _, c := range []struct {
		name string
		prog []byte
		arch uint32
		nr   uint32
		args []uint64
		want uint32
	}{
		{"read", prog, x, n(archX8664, "read"), nil, retAllow},
		{"i386 read", prog, i, n(archI386, "read"), nil, retAllow},
		{"i386 socketcall", prog, i, n(archI386, "socketcall"), nil, retAllow},
		{"x32 read", prog, x, x32SyscallBit, nil, retKillProcess},
		{"aarch64", prog, 0xc00000b7, 63, nil, retKillProcess},
		{"unknown nr", prog, x, 999, nil, eperm},
		{"mount", prog, x, n(archX8664, "mount"), nil, eperm},
		{"mount with SYS_ADMIN", admin, x, n(archX8664, "mount"), nil, retAllow},
		{"unshare", prog, x, n(archX8664, "unshare"), []uint64{0x20000000}, eperm},
		{"setns", prog, x, n(archX8664, "setns"), nil, eperm},
		{"keyctl", prog, x, n(archX8664, "keyctl"), nil, eperm},
		{"bpf", prog, x, n(archX8664, "bpf"), nil, eperm},
		{"init_module", prog, x, n(archX8664, "init_module"), nil, eperm},
		{"iopl", prog, x, n(archX8664, "iopl"), nil, eperm},
		{"chroot with SYS_CHROOT", prog, x, n(archX8664, "chroot"), nil, retAllow},
		{"ptrace", prog, x, n(archX8664, "ptrace"), nil, retAllow}, // Docker allows it since 4.8
		{"clone thread", prog, x, n(archX8664, "clone"), []uint64{thread}, retAllow},
		{"clone newuser", prog, x, n(archX8664, "clone"), []uint64{thread | newuser}, eperm},
		{"clone high bits", prog, x, n(archX8664, "clone"), []uint64{1<<32 | thread}, retAllow},
		{"i386 clone newns", prog, i, n(archI386, "clone"), []uint64{0x00020000}, eperm},
		{"clone newuser with SYS_ADMIN", admin, x, n(archX8664, "clone"), []uint64{newuser}, retAllow},
		{"clone3", prog, x, n(archX8664, "clone3"), nil, enosys},
		{"clone3 with SYS_ADMIN", admin, x, n(archX8664, "clone3"), nil, retAllow},
		{"socket inet", prog, x, n(archX8664, "socket"), []uint64{2}, retAllow},
		{"socket vsock", prog, x, n(archX8664, "socket"), []uint64{40}, eperm},
		{"socket vsock high word", prog, x, n(archX8664, "socket"), []uint64{1<<32 | 40}, retAllow},
		{"personality linux32", prog, x, n(archX8664, "personality"), []uint64{8}, retAllow},
		{"personality query", prog, x, n(archX8664, "personality"), []uint64{0xffffffff}, retAllow},
		{"personality other", prog, x, n(archX8664, "personality"), []uint64{0x0040000}, eperm},
		{"arch_prctl", prog, x, n(archX8664, "arch_prctl"), nil, retAllow},
		{"fchmodat2", prog, x, n(archX8664, "fchmodat2"), nil, retAllow},
	} {
		if got := run(t, c.prog, c.arch, c.nr, c.args...); got != c.want {
			t.Errorf("%s: filter returns %#x, want %#x", c.name, got, c.want)
		}
	}
}

func TestCompareOps(t *testing.T) {
	needAMD64(t)
	values := []uint64{0, 1, 5, 6, 7, 1 << 32, 1<<32 | 5, 1<<32 | 6, 2 << 32, ^uint64(0)}
	k := uint64(1<<32 | 6)
	for _, op := range []Op{OpEQ, OpNE, OpLT, OpLE, OpGT, OpGE, OpMaskedEQ} {
		p := &Profile{DefaultAction: ActErrno, Syscalls: []Syscall{{Names: []string{"read"},
			Action: ActAllow, Args: []Arg{{Index: 2, Value: k, ValueTwo: 1<<32 | 4, Op: op}}}}}
		prog, err := Compile(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			want := map[Op]bool{OpEQ: v == k, OpNE: v != k, OpLT: v < k, OpLE: v <= k, OpGT: v > k,
				OpGE: v >= k, OpMaskedEQ: v&k == 1<<32|4}[op]
			got := run(t, prog, auditArchX8664, 0, 0, 0, v) == retAllow
			if got != want {
				t.Errorf("%s: arg %#x vs %#x: allowed = %v, want %v", op, v, k, got, want)
			}
		}
	}
}

func TestRuleOrder(t *testing.T) {
	needAMD64(t)
	// Two conditional rules for one syscall: the first match wins, none = default.
	p := &Profile{DefaultAction: ActErrno, DefaultErrnoRet: errno(13), Syscalls: []Syscall{
		{Names: []string{"write"}, Action: ActErrno, ErrnoRet: errno(5), Args: []Arg{{Index: 0, Value: 2, Op: OpEQ}}},
		{Names: []string{"write"}, Action: ActAllow, Args: []Arg{{Index: 0, Value: 3, Op: OpLT}}},
	}}
	prog, err := Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for fd, want := range map[uint64]uint32{1: retAllow, 2: retErrno | 5, 3: retErrno | 13} {
		if got := run(t, prog, auditArchX8664, 1, fd); got != want {
			t.Errorf("write(%d): %#x, want %#x", fd, got, want)
		}
	}
	// No compat architecture named: i386 is killed.
	if got := run(t, prog, auditArchI386, 4); got != retKillProcess {
		t.Errorf("i386 without SCMP_ARCH_X86: %#x, want kill", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		`{`,
		`{"syscalls":[]}`,
		`{"defaultAction":"SCMP_ACT_NOPE"}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":7,"value":1,"op":"SCMP_CMP_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":1,"op":"SCMP_CMP_LIKE"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_Z80"]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}`,
	} {
		if _, err := Parse([]byte(src)); !errors.Is(err, errdefs.ErrInvalid) {
			t.Errorf("Parse(%s) = %v, want an invalid error", src, err)
		}
	}
}

func TestDefaultRoundTrip(t *testing.T) {
	needAMD64(t)
	// Default written as Docker JSON and parsed back compiles to the same program.
	b, err := jsonMarshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := Compile(Default(), nil)
	y, _ := Compile(p, nil)
	if string(x) != string(y) {
		t.Error("Default() through JSON compiles differently")
	}
}

// A profile in the shape Docker ships (archMap with x32, empty includes, comments,
// minKernel, arch- and cap-conditional rules) parses and compiles to what Docker means.
func TestDockerStyleProfile(t *testing.T) {
	needAMD64(t)
	src, err := os.ReadFile("testdata/docker-style.json")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(src)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := Compile(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	boot, _ := Compile(p, []string{"sys_boot"})
	x, i := uint32(auditArchX8664), uint32(auditArchI386)
	n := func(a arch, name string) uint32 { return a.nums()[name] }
	for _, c := range []struct {
		name string
		prog []byte
		arch uint32
		nr   uint32
		args []uint64
		want uint32
	}{
		{"read", prog, x, n(archX8664, "read"), nil, retAllow},
		{"i386 socketcall", prog, i, n(archI386, "socketcall"), nil, retAllow},
		{"x32 read, despite archMap", prog, x, x32SyscallBit, nil, retKillProcess},
		{"ptrace on a new kernel", prog, x, n(archX8664, "ptrace"), nil, retAllow},
		{"arch_prctl on amd64", prog, x, n(archX8664, "arch_prctl"), nil, retAllow},
		{"reboot", prog, x, n(archX8664, "reboot"), nil, eperm},
		{"reboot with SYS_BOOT", boot, x, n(archX8664, "reboot"), nil, retAllow},
		{"getppid logged", prog, x, n(archX8664, "getppid"), nil, retLog},
		{"kill -TERM", prog, x, n(archX8664, "kill"), []uint64{1, 15}, retAllow},
		{"kill -KILL", prog, x, n(archX8664, "kill"), []uint64{1, 9}, eperm},
	} {
		if got := run(t, c.prog, c.arch, c.nr, c.args...); got != c.want {
			t.Errorf("%s: filter returns %#x, want %#x", c.name, got, c.want)
		}
	}
	orig := kernelRelease
	kernelRelease = func() string { return "4.4.0-generic" }
	defer func() { kernelRelease = orig }()
	old, _ := Compile(p, nil)
	if got := run(t, old, x, n(archX8664, "ptrace"), nil...); got != eperm {
		t.Errorf("ptrace on 4.4 (minKernel 4.8): %#x, want EPERM", got)
	}
}

func BenchmarkCompileDefault(b *testing.B) {
	p := Default()
	for b.Loop() {
		if _, err := Compile(p, []string{"CAP_CHOWN"}); err != nil {
			b.Fatal(err)
		}
	}
}

// decide is what the profile means for one syscall, read straight from its rules: the
// first rule (in profile order) for the number whose arguments all hold, else the default.
func decide(p *Profile, caps []string, a arch, nr uint32, args []uint64) uint32 {
	have := map[string]bool{}
	for _, c := range caps {
		have[capName(c)] = true
	}
	def, _ := p.DefaultAction.ret(p.DefaultErrnoRet)
	for _, s := range p.Syscalls {
		if !s.applies(have) {
			continue
		}
		names := s.Names
		if s.Name != "" {
			names = append([]string{s.Name}, names...)
		}
		for _, n := range names {
			if num, ok := a.nums()[n]; !ok || num != nr {
				continue
			}
			holds := true
			for _, c := range s.Args {
				v := args[c.Index]
				holds = holds && map[Op]bool{OpEQ: v == c.Value, OpNE: v != c.Value, OpLT: v < c.Value,
					OpLE: v <= c.Value, OpGT: v > c.Value, OpGE: v >= c.Value, OpMaskedEQ: v&c.Value == c.ValueTwo}[c.Op]
			}
			if holds {
				ret, _ := s.Action.ret(s.ErrnoRet)
				return ret
			}
		}
	}
	return def
}

// Every syscall number of both architectures, with arguments that meet and miss each
// condition, gets from the compiled program what the profile's rules say (the search over
// runs of numbers neither loses nor adds one).
func TestEveryNumberDecidesAsTheProfile(t *testing.T) {
	needAMD64(t)
	dockerStyle, err := os.ReadFile("testdata/docker-style.json")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := Parse(dockerStyle)
	if err != nil {
		t.Fatal(err)
	}
	argSets := [][]uint64{make([]uint64, 6)}
	for _, p := range []*Profile{Default(), ds} {
		for _, s := range p.Syscalls {
			for _, c := range s.Args {
				for _, v := range []uint64{c.Value, c.Value + 1, c.Value - 1, c.ValueTwo, c.Value | 1<<32} {
					a := make([]uint64, 6)
					a[c.Index] = v
					argSets = append(argSets, a)
				}
			}
		}
	}
	for _, c := range []struct {
		name string
		p    *Profile
		caps []string
	}{
		{"default", Default(), []string{"CAP_CHOWN", "CAP_KILL", "CAP_SYS_CHROOT"}},
		{"default with SYS_ADMIN", Default(), []string{"CAP_SYS_ADMIN", "CAP_SYS_PTRACE"}},
		{"docker-style", ds, nil},
	} {
		prog, err := Compile(c.p, c.caps)
		if err != nil {
			t.Fatal(err)
		}
		for _, ar := range []arch{archX8664, archI386} {
			for nr := uint32(0); nr < 1024; nr++ {
				for _, args := range argSets {
					got := run(t, prog, ar.audit, nr, args...)
					if want := decide(c.p, c.caps, ar, nr, args); got != want {
						t.Fatalf("%s: %s syscall %d args %x: filter returns %#x, the profile says %#x", c.name, ar.name, nr, args, got, want)
					}
				}
			}
		}
	}
}

// Runs of numbers keep the program small: its verification and JIT are paid at each start.
func TestDefaultProgramSize(t *testing.T) {
	needAMD64(t)
	prog, err := Compile(Default(), []string{"CAP_CHOWN"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(prog) / 8; n > 1200 {
		t.Errorf("the default profile compiles to %d instructions, want at most 1200", n)
	}
}
