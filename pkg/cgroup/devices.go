package cgroup

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// device is one allowlist entry: "c 1:3 rwm", "b *:* m", "a" (everything).
type device struct {
	typ          byte  // 'a', 'b', 'c'
	major, minor int64 // -1: any
	access       uint32
}

// Access bits and device types of struct bpf_cgroup_dev_ctx (linux/bpf.h).
const (
	devMknod = 1
	devRead  = 2
	devWrite = 4
	devBlock = 1
	devChar  = 2
)

func parseDevice(s string) (device, error) {
	f := strings.Fields(s)
	if len(f) == 1 && f[0] == "a" {
		return device{typ: 'a', major: -1, minor: -1, access: devMknod | devRead | devWrite}, nil
	}
	if len(f) != 3 || (f[0] != "a" && f[0] != "b" && f[0] != "c") {
		return device{}, fmt.Errorf("device rule %q: want \"<a|b|c> <major>:<minor> <rwm>\"", s)
	}
	d := device{typ: f[0][0]}
	maj, min, ok := strings.Cut(f[1], ":")
	if !ok {
		return device{}, fmt.Errorf("device rule %q: want major:minor", s)
	}
	num := func(v string) (int64, error) {
		if v == "*" {
			return -1, nil
		}
		return strconv.ParseInt(v, 10, 32)
	}
	var err error
	if d.major, err = num(maj); err != nil {
		return device{}, fmt.Errorf("device rule %q: %w", s, err)
	}
	if d.minor, err = num(min); err != nil {
		return device{}, fmt.Errorf("device rule %q: %w", s, err)
	}
	for _, c := range f[2] {
		switch c {
		case 'r':
			d.access |= devRead
		case 'w':
			d.access |= devWrite
		case 'm':
			d.access |= devMknod
		default:
			return device{}, fmt.Errorf("device rule %q: unknown access %q", s, c)
		}
	}
	return d, nil
}

// eBPF opcodes (linux/bpf_common.h, linux/bpf.h) for the device program.
const (
	ebpfLdxW   = 0x61 // BPF_LDX|BPF_MEM|BPF_W
	ebpfAnd32K = 0x54 // BPF_ALU|BPF_AND|BPF_K
	ebpfRsh32K = 0x74 // BPF_ALU|BPF_RSH|BPF_K
	ebpfMovX   = 0xbf // BPF_ALU64|BPF_MOV|BPF_X
	ebpfMovK   = 0xb7 // BPF_ALU64|BPF_MOV|BPF_K
	ebpfJneK   = 0x55 // BPF_JMP|BPF_JNE|BPF_K
	ebpfJneX   = 0x5d // BPF_JMP|BPF_JNE|BPF_X
	ebpfExit   = 0x95
)

type ebpf struct {
	op       uint8
	dst, src uint8
	off      int16
	imm      int32
}

// deviceProgram compiles an allowlist to a BPF_PROG_TYPE_CGROUP_DEVICE program, the v2
// replacement of devices.allow: it returns 1 (allow) when a rule matches the access, else 0.
// Registers: r2 type, r3 access, r4 major, r5 minor, loaded once from the context in r1.
func deviceProgram(rules []string) ([]byte, error) {
	p := []ebpf{
		{op: ebpfLdxW, dst: 2, src: 1, off: 0},
		{op: ebpfAnd32K, dst: 2, imm: 0xffff},
		{op: ebpfLdxW, dst: 3, src: 1, off: 0},
		{op: ebpfRsh32K, dst: 3, imm: 16},
		{op: ebpfLdxW, dst: 4, src: 1, off: 4},
		{op: ebpfLdxW, dst: 5, src: 1, off: 8},
	}
	catchAll := false
	for _, r := range rules {
		d, err := parseDevice(r)
		if err != nil {
			return nil, err
		}
		var checks []ebpf // each jumps to the next rule on mismatch; offsets fixed below
		switch d.typ {
		case 'b':
			checks = append(checks, ebpf{op: ebpfJneK, dst: 2, imm: devBlock})
		case 'c':
			checks = append(checks, ebpf{op: ebpfJneK, dst: 2, imm: devChar})
		}
		if d.access != devMknod|devRead|devWrite {
			// Every requested bit must be in the rule: (access & rule) != access fails.
			checks = append(checks,
				ebpf{op: ebpfMovX, dst: 1, src: 3},
				ebpf{op: ebpfAnd32K, dst: 1, imm: int32(d.access)},
				ebpf{op: ebpfJneX, dst: 1, src: 3})
		}
		if d.major >= 0 {
			checks = append(checks, ebpf{op: ebpfJneK, dst: 4, imm: int32(d.major)})
		}
		if d.minor >= 0 {
			checks = append(checks, ebpf{op: ebpfJneK, dst: 5, imm: int32(d.minor)})
		}
		checks = append(checks, ebpf{op: ebpfMovK, dst: 0, imm: 1}, ebpf{op: ebpfExit})
		for i := range checks {
			if checks[i].op == ebpfJneK || checks[i].op == ebpfJneX {
				checks[i].off = int16(len(checks) - i - 1) // past this rule's exit
			}
		}
		p = append(p, checks...)
		if len(checks) == 2 {
			catchAll = true
			break // the verifier refuses the unreachable code that would follow
		}
	}
	if !catchAll {
		p = append(p, ebpf{op: ebpfMovK, dst: 0, imm: 0}, ebpf{op: ebpfExit})
	}
	out := make([]byte, 8*len(p))
	for i, in := range p {
		b := out[8*i:]
		b[0] = in.op
		b[1] = in.src<<4 | in.dst // little-endian bitfield order (dst_reg:4, src_reg:4)
		binary.LittleEndian.PutUint16(b[2:], uint16(in.off))
		binary.LittleEndian.PutUint32(b[4:], uint32(in.imm))
	}
	return out, nil
}
