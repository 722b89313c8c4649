package seccomp

import (
	"encoding/binary"
	"fmt"
)

// Classic BPF opcodes (linux/filter.h) used by the filter.
const (
	ldAbsW = 0x20 // BPF_LD|BPF_W|BPF_ABS: A = *(u32 *)(seccomp_data + k)
	jmpJA  = 0x05 // BPF_JMP|BPF_JA
	jmpJEQ = 0x15 // BPF_JMP|BPF_JEQ|BPF_K
	jmpJGT = 0x25 // BPF_JMP|BPF_JGT|BPF_K
	jmpJGE = 0x35 // BPF_JMP|BPF_JGE|BPF_K
	aluAND = 0x54 // BPF_ALU|BPF_AND|BPF_K
	retK   = 0x06 // BPF_RET|BPF_K

	maxInsns = 4096 // BPF_MAXINSNS
)

// insn is one sock_filter; jumps name labels that assemble resolves, because BPF only
// jumps forward and conditional offsets are a byte.
type insn struct {
	code   uint16
	jt, jf uint8
	k      uint32
	tl, fl string // conditional targets; "" = the literal jt/jf
	kl     string // ja target
}

type asm struct {
	prog   []insn
	labels map[string]int
	n      int // label counter
}

func (a *asm) label() string { a.n++; return fmt.Sprintf("L%d", a.n) }

func (a *asm) mark(l string) { a.labels[l] = len(a.prog) }

func (a *asm) ld(off uint32) { a.prog = append(a.prog, insn{code: ldAbsW, k: off}) }
func (a *asm) and(k uint32)  { a.prog = append(a.prog, insn{code: aluAND, k: k}) }
func (a *asm) ret(k uint32)  { a.prog = append(a.prog, insn{code: retK, k: k}) }
func (a *asm) ja(l string)   { a.prog = append(a.prog, insn{code: jmpJA, kl: l}) }
func (a *asm) jmp(code uint16, k uint32, t, f string) {
	a.prog = append(a.prog, insn{code: code, k: k, tl: t, fl: f})
}

// skip1 is a conditional jump over the next instruction on false: "if A op k, run the next
// instruction (a ja or ret), else skip it".
func (a *asm) skip1(code uint16, k uint32) {
	a.prog = append(a.prog, insn{code: code, k: k, jf: 1})
}

func (a *asm) assemble() ([]byte, error) {
	if len(a.prog) > maxInsns {
		return nil, fmt.Errorf("seccomp filter has %d instructions; the kernel takes %d", len(a.prog), maxInsns)
	}
	out := make([]byte, 8*len(a.prog))
	for i, in := range a.prog {
		off := func(l string) (int, error) {
			t, ok := a.labels[l]
			if !ok {
				return 0, fmt.Errorf("seccomp assembler: undefined label %s", l)
			}
			if d := t - i - 1; d >= 0 {
				return d, nil
			}
			return 0, fmt.Errorf("seccomp assembler: backward jump to %s", l)
		}
		if in.kl != "" {
			d, err := off(in.kl)
			if err != nil {
				return nil, err
			}
			in.k = uint32(d)
		}
		for _, c := range []struct {
			l string
			p *uint8
		}{{in.tl, &in.jt}, {in.fl, &in.jf}} {
			if c.l == "" {
				continue
			}
			d, err := off(c.l)
			if err != nil {
				return nil, err
			}
			if d > 255 {
				return nil, fmt.Errorf("seccomp assembler: jump to %s is %d instructions long", c.l, d)
			}
			*c.p = uint8(d)
		}
		b := out[8*i:]
		binary.NativeEndian.PutUint16(b, in.code)
		b[2], b[3] = in.jt, in.jf
		binary.NativeEndian.PutUint32(b[4:], in.k)
	}
	return out, nil
}
