package seccomp

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
)

// Audit architecture numbers (linux/audit.h) the filter compares seccomp_data.arch with.
const (
	auditArchX8664 = 0xc000003e
	auditArchI386  = 0x40000003
	x32SyscallBit  = 0x40000000 // x32 syscalls arrive as AUDIT_ARCH_X86_64 with this bit
)

// Offsets in struct seccomp_data: nr, arch, instruction_pointer, args[6] (64-bit each).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16
)

// kernelRelease is uname's release, for minKernel rules (set on Linux).
var kernelRelease = func() string { return "" }

type arch struct {
	name  string
	audit uint32
	nums  func() map[string]uint32
}

var (
	archX8664 = arch{"x86_64", auditArchX8664, sysX8664}
	archI386  = arch{"i386", auditArchI386, sysI386}
)

// rule is one compiled condition set for one syscall number.
type rule struct {
	args []Arg
	ret  uint32
}

// Compile turns p into a seccomp BPF program for a process holding caps ("CAP_SYS_ADMIN"
// or "SYS_ADMIN"): rules whose includes/excludes do not fit caps, this architecture
// (amd64) or this kernel are dropped. Several rules for one syscall are tried in profile
// order and the first whose arguments all match decides; none matching means the default
// action. The result is struct sock_filter records, 8 bytes each, native byte order.
func Compile(p *Profile, caps []string) ([]byte, error) {
	if runtime.GOARCH != "amd64" {
		return nil, fmt.Errorf("seccomp: %w: architecture %s is not supported", errdefs.ErrInvalid, runtime.GOARCH)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	def, _ := p.DefaultAction.ret(p.DefaultErrnoRet)
	have := map[string]bool{}
	for _, c := range caps {
		have[capName(c)] = true
	}
	arches := []arch{archX8664}
	if p.compat() {
		arches = append(arches, archI386)
	}

	a := &asm{labels: map[string]int{}}
	a.ld(offArch)
	sections := make([]string, len(arches))
	for i, ar := range arches {
		sections[i] = a.label()
		a.skip1(jmpJEQ, ar.audit)
		a.ja(sections[i])
	}
	a.ret(retKillProcess) // an architecture the filter was not written for
	for i, ar := range arches {
		a.mark(sections[i])
		rules := map[uint32][]rule{}
		for _, s := range p.Syscalls {
			if !s.applies(have) {
				continue
			}
			ret, _ := s.Action.ret(s.ErrnoRet)
			names := s.Names
			if s.Name != "" {
				names = append([]string{s.Name}, names...)
			}
			for _, n := range names {
				if nr, ok := ar.nums()[n]; ok { // names of other ABIs are no error, as in Docker
					rules[nr] = append(rules[nr], rule{args: s.Args, ret: ret})
				}
			}
		}
		a.ld(offNr)
		if ar.audit == auditArchX8664 {
			a.skip1(jmpJGE, x32SyscallBit)
			a.ret(retKillProcess)
		}
		nrs := make([]uint32, 0, len(rules))
		for nr := range rules {
			nrs = append(nrs, nr)
		}
		slices.Sort(nrs)
		bodies := map[uint32]string{}
		a.tree(segments(nrs, rules), rules, bodies, def)
		for _, nr := range nrs {
			if l, ok := bodies[nr]; ok {
				a.mark(l)
				a.body(rules[nr], def)
			}
		}
	}
	return a.assemble()
}

// compat reports whether the profile admits the i386 ABI, through architectures or the
// x86_64 archMap entry (Docker's default profile names it only there).
func (p *Profile) compat() bool {
	if slices.Contains(p.Architectures, "SCMP_ARCH_X86") {
		return true
	}
	if len(p.Architectures) == 0 {
		for _, m := range p.ArchMap {
			if m.Arch == "SCMP_ARCH_X86_64" && slices.Contains(m.SubArches, "SCMP_ARCH_X86") {
				return true
			}
		}
	}
	return false
}

// segment is a run of consecutive syscall numbers lo..hi that each have one unconditional
// rule returning ret, or a single number whose rules check arguments (body).
type segment struct {
	lo, hi uint32
	ret    uint32
	body   bool
}

// segments groups the sorted syscall numbers into runs: most of a profile allows long
// stretches of the table, and a run costs the filter three instructions where each of its
// numbers cost two (the program, its verification and JIT at each start, and the search at
// each syscall all shrink with it).
func segments(nrs []uint32, rules map[uint32][]rule) []segment {
	var out []segment
	for _, nr := range nrs {
		rs := rules[nr]
		if len(rs[0].args) != 0 {
			out = append(out, segment{lo: nr, hi: nr, body: true})
			continue
		}
		if n := len(out); n > 0 && !out[n-1].body && out[n-1].hi+1 == nr && out[n-1].ret == rs[0].ret {
			out[n-1].hi = nr
			continue
		}
		out = append(out, segment{lo: nr, hi: nr, ret: rs[0].ret})
	}
	return out
}

// tree emits a binary search over the sorted segments: leaves of a few segments each
// either return at once (an unconditional run) or jump to the syscall's body. A number
// in none of them gets def.
func (a *asm) tree(segs []segment, rules map[uint32][]rule, bodies map[uint32]string, def uint32) {
	if len(segs) > 4 {
		mid := len(segs) / 2
		right := a.label()
		a.skip1(jmpJGT, segs[mid-1].hi)
		a.ja(right)
		a.tree(segs[:mid], rules, bodies, def)
		a.mark(right)
		a.tree(segs[mid:], rules, bodies, def)
		return
	}
	// Each check below knows the number is in none of the leaf's earlier segments.
	for _, sg := range segs {
		if sg.lo == sg.hi {
			a.skip1(jmpJEQ, sg.lo)
		} else {
			// Above the run: on to the next segment. Below it: in no segment of the leaf
			// (they are sorted), so the next ones fail too and def is returned.
			a.prog = append(a.prog, insn{code: jmpJGT, k: sg.hi, jt: 2})
			a.skip1(jmpJGE, sg.lo)
		}
		if sg.body {
			bodies[sg.lo] = a.label()
			a.ja(bodies[sg.lo])
		} else {
			a.ret(sg.ret)
		}
	}
	a.ret(def)
}

// body tries each rule's argument checks in order; a failed check skips to the next rule.
func (a *asm) body(rs []rule, def uint32) {
	for _, r := range rs {
		if len(r.args) == 0 {
			a.ret(r.ret)
			return // later rules are unreachable
		}
		next := a.label()
		for _, c := range r.args {
			a.cmp(c, next)
		}
		a.ret(r.ret)
		a.mark(next)
	}
	a.ret(def)
}

// cmp falls through when argument c holds, else jumps to fail. Arguments are 64-bit: the
// high word is compared first, then the low one (little-endian seccomp_data).
func (a *asm) cmp(c Arg, fail string) {
	lo, hi := uint32(offArgs+8*c.Index), uint32(offArgs+8*c.Index+4)
	vlo, vhi := uint32(c.Value), uint32(c.Value>>32)
	ok := a.label()
	switch c.Op {
	case OpEQ:
		a.ld(hi)
		a.jmp(jmpJEQ, vhi, "", fail)
		a.ld(lo)
		a.jmp(jmpJEQ, vlo, "", fail)
	case OpNE:
		a.ld(hi)
		a.jmp(jmpJEQ, vhi, "", ok)
		a.ld(lo)
		a.jmp(jmpJEQ, vlo, fail, "")
	case OpGT, OpGE:
		a.ld(hi)
		a.jmp(jmpJGT, vhi, ok, "")
		a.jmp(jmpJEQ, vhi, "", fail)
		a.ld(lo)
		code := uint16(jmpJGT)
		if c.Op == OpGE {
			code = jmpJGE
		}
		a.jmp(code, vlo, "", fail)
	case OpLT, OpLE:
		a.ld(hi)
		a.jmp(jmpJGE, vhi, "", ok) // hi < vhi
		a.jmp(jmpJGT, vhi, fail, "")
		a.ld(lo)
		code := uint16(jmpJGE) // LT fails when lo >= vlo
		if c.Op == OpLE {
			code = jmpJGT
		}
		a.jmp(code, vlo, fail, "")
	case OpMaskedEQ:
		a.ld(hi)
		a.and(vhi)
		a.jmp(jmpJEQ, uint32(c.ValueTwo>>32), "", fail)
		a.ld(lo)
		a.and(vlo)
		a.jmp(jmpJEQ, uint32(c.ValueTwo), "", fail)
	}
	a.mark(ok)
}

// applies reports whether the rule's includes hold and its excludes do not.
func (s *Syscall) applies(have map[string]bool) bool {
	in, ex := s.Includes, s.Excludes
	for _, c := range in.Caps {
		if !have[capName(c)] {
			return false
		}
	}
	if len(in.Arches) > 0 && !slices.Contains(in.Arches, "amd64") {
		return false
	}
	if in.MinKernel != "" && !kernelAtLeast(kernelRelease(), in.MinKernel) {
		return false
	}
	for _, c := range ex.Caps {
		if have[capName(c)] {
			return false
		}
	}
	if slices.Contains(ex.Arches, "amd64") {
		return false
	}
	if ex.MinKernel != "" && kernelAtLeast(kernelRelease(), ex.MinKernel) {
		return false
	}
	return true
}

func capName(c string) string {
	c = strings.ToUpper(strings.TrimSpace(c))
	if !strings.HasPrefix(c, "CAP_") {
		c = "CAP_" + c
	}
	return c
}

// kernelAtLeast compares "major.minor" prefixes; an unknown release counts as new enough,
// since minKernel rules only guard kernels older than any minibox runs on.
func kernelAtLeast(release, min string) bool {
	parse := func(s string) (int, int, bool) {
		f := strings.FieldsFunc(s, func(r rune) bool { return r == '.' || r == '-' })
		if len(f) < 2 {
			return 0, 0, false
		}
		ma, e1 := strconv.Atoi(f[0])
		mi, e2 := strconv.Atoi(f[1])
		return ma, mi, e1 == nil && e2 == nil
	}
	rma, rmi, ok := parse(release)
	if !ok {
		return true
	}
	mma, mmi, ok := parse(min)
	if !ok {
		return true
	}
	return rma > mma || (rma == mma && rmi >= mmi)
}
