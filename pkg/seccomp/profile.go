package seccomp

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Profile is a seccomp policy in Docker's JSON format (the fields minibox honours).
type Profile struct {
	DefaultAction   Action    `json:"defaultAction"`
	DefaultErrnoRet *uint     `json:"defaultErrnoRet,omitempty"`
	Architectures   []string  `json:"architectures,omitempty"`
	ArchMap         []ArchMap `json:"archMap,omitempty"`
	Syscalls        []Syscall `json:"syscalls,omitempty"`
}

// ArchMap lists the sub-architectures a native architecture also runs.
type ArchMap struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

// Syscall is one rule: every name gets Action when all Args match.
type Syscall struct {
	Name     string   `json:"name,omitempty"` // the old single-name form
	Names    []string `json:"names,omitempty"`
	Action   Action   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Includes Filter   `json:"includes,omitempty"`
	Excludes Filter   `json:"excludes,omitempty"`
}

// Filter makes a rule conditional on capabilities, the native architecture or the kernel.
type Filter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// Arg compares argument Index with Value (and ValueTwo for SCMP_CMP_MASKED_EQ, where Value
// is the mask), as unsigned 64-bit numbers.
type Arg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       Op     `json:"op"`
}

// Action is a libseccomp action name, e.g. "SCMP_ACT_ERRNO".
type Action string

// Actions minibox can compile.
const (
	ActKill        Action = "SCMP_ACT_KILL" // the thread, as libseccomp means it
	ActKillThread  Action = "SCMP_ACT_KILL_THREAD"
	ActKillProcess Action = "SCMP_ACT_KILL_PROCESS"
	ActTrap        Action = "SCMP_ACT_TRAP"
	ActErrno       Action = "SCMP_ACT_ERRNO"
	ActTrace       Action = "SCMP_ACT_TRACE"
	ActLog         Action = "SCMP_ACT_LOG"
	ActAllow       Action = "SCMP_ACT_ALLOW"
)

// Op is a libseccomp comparison name, e.g. "SCMP_CMP_EQ".
type Op string

// Comparisons.
const (
	OpNE       Op = "SCMP_CMP_NE"
	OpLT       Op = "SCMP_CMP_LT"
	OpLE       Op = "SCMP_CMP_LE"
	OpEQ       Op = "SCMP_CMP_EQ"
	OpGE       Op = "SCMP_CMP_GE"
	OpGT       Op = "SCMP_CMP_GT"
	OpMaskedEQ Op = "SCMP_CMP_MASKED_EQ"
)

// Parse reads a profile in Docker's JSON format and checks what Compile would reject, so
// a bad --security-opt seccomp=<file> fails at create time, not at start.
func Parse(dockerJSON []byte) (*Profile, error) {
	var p Profile
	if err := json.Unmarshal(dockerJSON, &p); err != nil {
		return nil, fmt.Errorf("seccomp profile: %w: %v", errdefs.ErrInvalid, err)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

func (p *Profile) validate() error {
	if p.DefaultAction == "" {
		return errdefs.Invalid("seccomp profile: defaultAction is required")
	}
	if _, err := p.DefaultAction.ret(p.DefaultErrnoRet); err != nil {
		return err
	}
	for _, a := range p.Architectures {
		if _, ok := archNames[a]; !ok {
			return errdefs.Invalid(fmt.Sprintf("seccomp profile: unknown architecture %q", a))
		}
	}
	for i, s := range p.Syscalls {
		if len(s.Names) == 0 && s.Name == "" {
			return errdefs.Invalid(fmt.Sprintf("seccomp profile: syscalls[%d] names no syscall", i))
		}
		if _, err := s.Action.ret(s.ErrnoRet); err != nil {
			return err
		}
		if len(s.Args) > 6 {
			return errdefs.Invalid(fmt.Sprintf("seccomp profile: syscalls[%d] has %d args; a syscall has 6", i, len(s.Args)))
		}
		for _, a := range s.Args {
			if a.Index > 5 {
				return errdefs.Invalid(fmt.Sprintf("seccomp profile: syscalls[%d]: argument index %d out of range 0-5", i, a.Index))
			}
			if _, ok := opNames[a.Op]; !ok {
				return errdefs.Invalid(fmt.Sprintf("seccomp profile: syscalls[%d]: unknown op %q", i, a.Op))
			}
		}
	}
	return nil
}

var opNames = map[Op]bool{OpNE: true, OpLT: true, OpLE: true, OpEQ: true, OpGE: true, OpGT: true, OpMaskedEQ: true}

// archNames maps libseccomp's architecture names to what minibox does with them: only the
// x86 family is compiled; others are accepted (a profile serves many hosts) and ignored.
var archNames = map[string]string{
	"SCMP_ARCH_X86_64": "x86_64", "SCMP_ARCH_X86": "i386", "SCMP_ARCH_X32": "x32",
	"SCMP_ARCH_AARCH64": "", "SCMP_ARCH_ARM": "", "SCMP_ARCH_MIPS": "", "SCMP_ARCH_MIPS64": "",
	"SCMP_ARCH_MIPS64N32": "", "SCMP_ARCH_MIPSEL": "", "SCMP_ARCH_MIPSEL64": "",
	"SCMP_ARCH_MIPSEL64N32": "", "SCMP_ARCH_PPC": "", "SCMP_ARCH_PPC64": "", "SCMP_ARCH_PPC64LE": "",
	"SCMP_ARCH_S390": "", "SCMP_ARCH_S390X": "", "SCMP_ARCH_PARISC": "", "SCMP_ARCH_PARISC64": "",
	"SCMP_ARCH_RISCV64": "", "SCMP_ARCH_LOONGARCH64": "",
}

// Return values of a seccomp filter (linux/seccomp.h).
const (
	retKillProcess = 0x80000000
	retKillThread  = 0x00000000
	retTrap        = 0x00030000
	retErrno       = 0x00050000
	retTrace       = 0x7ff00000
	retLog         = 0x7ffc0000
	retAllow       = 0x7fff0000
	retDataMask    = 0x0000ffff
)

// ret is the filter's return value for a; errno defaults to EPERM as in Docker.
func (a Action) ret(errno *uint) (uint32, error) {
	data := uint32(1) // EPERM
	if errno != nil {
		if *errno > retDataMask {
			return 0, errdefs.Invalid(fmt.Sprintf("seccomp profile: errnoRet %d out of range", *errno))
		}
		data = uint32(*errno)
	}
	switch Action(strings.ToUpper(string(a))) {
	case ActKill, ActKillThread:
		return retKillThread, nil
	case ActKillProcess:
		return retKillProcess, nil
	case ActTrap:
		return retTrap, nil
	case ActErrno:
		return retErrno | data, nil
	case ActTrace:
		if errno == nil {
			data = 0
		}
		return retTrace | data, nil
	case ActLog:
		return retLog, nil
	case ActAllow:
		return retAllow, nil
	}
	return 0, errdefs.Invalid(fmt.Sprintf("seccomp profile: unsupported action %q", a))
}
