// Package connhook is a fast path from the host's own TCP connections to published ports:
// a cgroup connect4 hook that rewrites the destination to the container's address before
// the socket connects, and a getpeername hook that gives such a socket its dialled address
// back. The programs are assembled here and loaded with bpf(2) directly.
package connhook

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Hook sends the host's own TCP connections to a published port straight to the
// container: a cgroup connect4 hook (on the cgroup2 root, so every process's connect runs
// it) looks up the destination in a map of this network's published ports and rewrites it
// to the container's address before the socket connects. The connection then goes out the
// bridge like one made to the container's address: no DNAT and masquerade per packet, no
// route lookup per packet for the rewritten destination (nft's output DNAT re-routes every
// packet, and the replies' un-NAT makes br_netfilter route each of them again). The source
// is the bridge's address, as masquerade made it.
//
// The nft rules stay: they serve everything the hook leaves alone (UDP, other namespaces'
// connections, sockets bound to an address or device before connect, wildcard ports reached on a
// non-loopback address) and the host's connections while the daemon is down, since the hook
// goes with the daemon's link fd.
//
// A second hook, on getpeername, gives such a socket the address it connected to back as
// its peer (the connect hook notes it by socket cookie in an LRU map), as it was with DNAT.
type Hook struct {
	ports, peers       int // maps
	connect, peername  int // programs
	connLink, peerLink int // their attachments to the cgroup2 root
}

// redirectKey is the layout of the port map's keys and values (and of the peer map's
// values), as the programs read it: the IPv4 address and the port as connect's sockaddr
// holds them (network order), the port in the low 16 bits of a u32 the way
// bpf_sock_addr.user_port is.
type redirectKey struct {
	addr [4]byte
	port [4]byte
}

func redirectEntry(a netip.Addr, port uint16) redirectKey {
	var k redirectKey
	k.addr = a.As4()
	binary.BigEndian.PutUint16(k.port[:2], port)
	return k
}

// Fields of struct bpf_sock_addr and struct bpf_sock (linux/bpf.h) the program reads.
const (
	sockAddrUserIP4  = 4
	sockAddrUserPort = 24
	sockAddrProtocol = 36
	sockAddrSk       = 64
	sockBoundDevIf   = 0
	sockSrcIP4       = 24

	helperMapLookup    = 1   // BPF_FUNC_map_lookup_elem
	helperMapUpdate    = 2   // BPF_FUNC_map_update_elem
	helperSocketCookie = 46  // BPF_FUNC_get_socket_cookie
	helperNetnsCookie  = 122 // BPF_FUNC_get_netns_cookie
)

// redirectMapSize bounds the published TCP ports of one network; entries are allocated as
// they are added (BPF_F_NO_PREALLOC), so an unused capacity costs nothing. peerMapSize
// bounds the redirected sockets whose peer getpeername restores; the least recently used
// go first (an LRU map is allocated whole: 4096 entries are ~300 KiB).
const (
	redirectMapSize = 65536
	peerMapSize     = 4096
)

// New loads the hooks for connections made in the namespace whose cookie is
// netnsCookie and attaches them to the cgroup2 root.
func New(netnsCookie uint64) (_ *Hook, err error) {
	root, err := cgroup2Root()
	if err != nil {
		return nil, err
	}
	// Not the named result: a failure returns nil, and the deferred Close needs this one.
	r := &Hook{ports: -1, peers: -1, connect: -1, peername: -1, connLink: -1, peerLink: -1}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	if r.ports, err = bpfMapCreate(unix.BPF_MAP_TYPE_HASH, 8, 8, redirectMapSize, unix.BPF_F_NO_PREALLOC); err != nil {
		return nil, fmt.Errorf("create port map: %w", err)
	}
	if r.peers, err = bpfMapCreate(unix.BPF_MAP_TYPE_LRU_HASH, 8, 8, peerMapSize, 0); err != nil {
		return nil, fmt.Errorf("create peer map: %w", err)
	}
	if r.connect, err = bpfProgLoad(unix.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, unix.BPF_CGROUP_INET4_CONNECT,
		redirectProgram(r.ports, r.peers, netnsCookie)); err != nil {
		return nil, fmt.Errorf("load connect hook: %w", err)
	}
	if r.peername, err = bpfProgLoad(unix.BPF_PROG_TYPE_CGROUP_SOCK_ADDR, unix.BPF_CGROUP_INET4_GETPEERNAME,
		peernameProgram(r.peers)); err != nil {
		return nil, fmt.Errorf("load getpeername hook: %w", err)
	}
	dir, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open cgroup2 root: %w", err)
	}
	defer unix.Close(dir)
	if r.peerLink, err = bpfLinkCreate(r.peername, dir, unix.BPF_CGROUP_INET4_GETPEERNAME); err != nil {
		return nil, fmt.Errorf("attach getpeername hook to %s: %w", root, err)
	}
	if r.connLink, err = bpfLinkCreate(r.connect, dir, unix.BPF_CGROUP_INET4_CONNECT); err != nil {
		return nil, fmt.Errorf("attach connect hook to %s: %w", root, err)
	}
	return r, nil
}

// Set makes connections to host:port go to to.
func (r *Hook) Set(host netip.Addr, port uint16, to netip.AddrPort) error {
	k, v := redirectEntry(host, port), redirectEntry(to.Addr(), to.Port())
	return bpfMapOp(unix.BPF_MAP_UPDATE_ELEM, r.ports, unsafe.Pointer(&k), unsafe.Pointer(&v))
}

// Unset forgets host:port; a missing entry is fine.
func (r *Hook) Unset(host netip.Addr, port uint16) error {
	k := redirectEntry(host, port)
	if err := bpfMapOp(unix.BPF_MAP_DELETE_ELEM, r.ports, unsafe.Pointer(&k), nil); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}

// Close detaches the hooks (closing a link is what detaches it) and frees the maps.
func (r *Hook) Close() {
	for _, fd := range []*int{&r.connLink, &r.peerLink, &r.connect, &r.peername, &r.ports, &r.peers} {
		if *fd >= 0 {
			unix.Close(*fd)
		}
		*fd = -1
	}
}

// redirectProgram is the connect4 hook:
//
//	if ctx.protocol != TCP || netns_cookie(ctx) != cookie: allow
//	if ctx.sk.src_ip4 != 0 || ctx.sk.bound_dev_if != 0: allow
//	v = ports[{ctx.user_ip4, ctx.user_port}]
//	if !v && ctx.user_ip4 in 127.0.0.0/8: v = ports[{0.0.0.0, ctx.user_port}]
//	if v: peers[socket_cookie(ctx)] = {ctx.user_ip4, ctx.user_port}; ctx.user_ip4, ctx.user_port = v
//	allow
//
// A socket bound to an address or a device before connect keeps the nft path: bound to
// 127.0.0.1 or to lo, it could not reach the container without DNAT and masquerade.
func redirectProgram(ports, peers int, netnsCookie uint64) []byte {
	loopNet := binary.NativeEndian.Uint32([]byte{127, 0, 0, 0})
	loopMask := binary.NativeEndian.Uint32([]byte{0xff, 0, 0, 0})
	var a bpfAsm
	a.movReg(6, 1)
	a.loadW(2, 6, sockAddrProtocol)
	a.jneImm(2, unix.IPPROTO_TCP, "allow")
	a.call(helperNetnsCookie) // r1 is still ctx
	a.loadImm64(2, 0, netnsCookie)
	a.jneReg(0, 2, "allow")
	a.loadDW(3, 6, sockAddrSk)
	a.loadW(2, 3, sockSrcIP4)
	a.jneImm(2, 0, "allow")
	a.loadW(2, 3, sockBoundDevIf)
	a.jneImm(2, 0, "allow")
	// fp-8: the key {user_ip4, user_port}, also the value of peers.
	a.loadW(2, 6, sockAddrUserIP4)
	a.storeW(10, -8, 2)
	a.loadW(2, 6, sockAddrUserPort)
	a.storeW(10, -4, 2)
	a.lookup(ports, -8)
	a.jneImm(0, 0, "found")
	a.loadW(2, 6, sockAddrUserIP4)
	a.andImm(2, int32(loopMask))
	a.jneImm(2, int32(loopNet), "allow")
	a.storeImmW(10, -16, 0) // the wildcard key at fp-16, fp-8 stays the address connected to
	a.loadW(2, 6, sockAddrUserPort)
	a.storeW(10, -12, 2)
	a.lookup(ports, -16)
	a.jeqImm(0, 0, "allow")
	a.label("found")
	a.movReg(7, 0)
	a.movReg(1, 6)
	a.call(helperSocketCookie)
	a.storeDW(10, -24, 0)
	a.loadImm64(1, unix.BPF_PSEUDO_MAP_FD, uint64(peers))
	a.movReg(2, 10)
	a.addImm(2, -24)
	a.movReg(3, 10)
	a.addImm(3, -8)
	a.movImm(4, 0) // BPF_ANY
	a.call(helperMapUpdate)
	a.setUserAddr(7)
	a.label("allow")
	a.movImm(0, 1)
	a.exit()
	return a.bytes()
}

// peernameProgram is the getpeername4 hook: a socket the connect hook redirected names the
// address it connected to, not the container's.
//
//	if v = peers[socket_cookie(ctx)]: ctx.user_ip4, ctx.user_port = v
func peernameProgram(peers int) []byte {
	var a bpfAsm
	a.movReg(6, 1)
	a.call(helperSocketCookie)
	a.storeDW(10, -8, 0)
	a.lookup(peers, -8)
	a.jeqImm(0, 0, "out")
	a.setUserAddr(0)
	a.label("out")
	a.movImm(0, 1)
	a.exit()
	return a.bytes()
}

// setUserAddr copies an address (IPv4, then port, as peers' values hold them) from the
// memory reg points at into the hook's context (r6): its user_ip4 and user_port.
func (a *bpfAsm) setUserAddr(reg uint8) {
	a.loadW(2, reg, 0)
	a.storeW(6, sockAddrUserIP4, 2)
	a.loadW(2, reg, 4)
	a.storeW(6, sockAddrUserPort, 2)
}

// bpfAsm assembles eBPF instructions, with jumps to labels resolved by bytes.
type bpfAsm struct {
	insns  []bpfInsn
	labels map[string]int
	jumps  map[int]string // instruction index -> label
}

type bpfInsn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

func (a *bpfAsm) emit(i bpfInsn) { a.insns = append(a.insns, i) }

func (a *bpfAsm) jump(code, dst, src uint8, imm int32, label string) {
	if a.jumps == nil {
		a.jumps = map[int]string{}
	}
	a.jumps[len(a.insns)] = label
	a.emit(bpfInsn{code: code, dst: dst, src: src, imm: imm})
}

func (a *bpfAsm) label(name string) {
	if a.labels == nil {
		a.labels = map[string]int{}
	}
	a.labels[name] = len(a.insns)
}

const (
	bpfLdxMemW  = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W
	bpfLdxMemDW = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_DW
	bpfStxMemW  = unix.BPF_STX | unix.BPF_MEM | unix.BPF_W
	bpfStxMemDW = unix.BPF_STX | unix.BPF_MEM | unix.BPF_DW
	bpfStMemW   = unix.BPF_ST | unix.BPF_MEM | unix.BPF_W
	bpfMovReg   = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_X
	bpfMovImm   = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_K
	bpfAddImm   = unix.BPF_ALU64 | unix.BPF_ADD | unix.BPF_K
	bpfAndImm   = unix.BPF_ALU64 | unix.BPF_AND | unix.BPF_K
	bpfJneImm   = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K
	bpfJneReg   = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_X
	bpfJeqImm   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfCall     = unix.BPF_JMP | unix.BPF_CALL
	bpfExit     = unix.BPF_JMP | unix.BPF_EXIT
	bpfLdImm64  = unix.BPF_LD | unix.BPF_IMM | unix.BPF_DW
)

func (a *bpfAsm) movReg(dst, src uint8) { a.emit(bpfInsn{code: bpfMovReg, dst: dst, src: src}) }
func (a *bpfAsm) movImm(dst uint8, v int32) {
	a.emit(bpfInsn{code: bpfMovImm, dst: dst, imm: v})
}
func (a *bpfAsm) andImm(dst uint8, v int32) { a.emit(bpfInsn{code: bpfAndImm, dst: dst, imm: v}) }
func (a *bpfAsm) loadW(dst, src uint8, off int16) {
	a.emit(bpfInsn{code: bpfLdxMemW, dst: dst, src: src, off: off})
}
func (a *bpfAsm) loadDW(dst, src uint8, off int16) {
	a.emit(bpfInsn{code: bpfLdxMemDW, dst: dst, src: src, off: off})
}
func (a *bpfAsm) storeW(dst uint8, off int16, src uint8) {
	a.emit(bpfInsn{code: bpfStxMemW, dst: dst, src: src, off: off})
}
func (a *bpfAsm) storeDW(dst uint8, off int16, src uint8) {
	a.emit(bpfInsn{code: bpfStxMemDW, dst: dst, src: src, off: off})
}
func (a *bpfAsm) addImm(dst uint8, v int32) { a.emit(bpfInsn{code: bpfAddImm, dst: dst, imm: v}) }
func (a *bpfAsm) storeImmW(dst uint8, off int16, v int32) {
	a.emit(bpfInsn{code: bpfStMemW, dst: dst, off: off, imm: v})
}
func (a *bpfAsm) jneImm(dst uint8, v int32, to string) { a.jump(bpfJneImm, dst, 0, v, to) }
func (a *bpfAsm) jeqImm(dst uint8, v int32, to string) { a.jump(bpfJeqImm, dst, 0, v, to) }
func (a *bpfAsm) jneReg(dst, src uint8, to string)     { a.jump(bpfJneReg, dst, src, 0, to) }
func (a *bpfAsm) call(helper int32)                    { a.emit(bpfInsn{code: bpfCall, imm: helper}) }
func (a *bpfAsm) exit()                                { a.emit(bpfInsn{code: bpfExit}) }

// loadImm64 is the two-instruction 64-bit load; src 1 (BPF_PSEUDO_MAP_FD) makes v a map fd.
func (a *bpfAsm) loadImm64(dst, src uint8, v uint64) {
	a.emit(bpfInsn{code: bpfLdImm64, dst: dst, src: src, imm: int32(uint32(v))})
	a.emit(bpfInsn{imm: int32(uint32(v >> 32))})
}

// lookup is r0 = bpf_map_lookup_elem(map, r10+keyOff).
func (a *bpfAsm) lookup(mapFD int, keyOff int32) {
	a.loadImm64(1, unix.BPF_PSEUDO_MAP_FD, uint64(mapFD))
	a.movReg(2, 10)
	a.addImm(2, keyOff)
	a.call(helperMapLookup)
}

func (a *bpfAsm) bytes() []byte {
	out := make([]byte, 0, 8*len(a.insns))
	for i, in := range a.insns {
		if l, ok := a.jumps[i]; ok {
			to, found := a.labels[l]
			if !found {
				panic("bpf: no label " + l)
			}
			in.off = int16(to - i - 1)
		}
		out = append(out, in.code, in.dst&0x0f|in.src<<4)
		out = binary.NativeEndian.AppendUint16(out, uint16(in.off))
		out = binary.NativeEndian.AppendUint32(out, uint32(in.imm))
	}
	return out
}

func bpf(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	fd, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

func bpfMapCreate(typ, keySize, valueSize, maxEntries, flags uint32) (int, error) {
	attr := struct{ typ, keySize, valueSize, maxEntries, flags uint32 }{typ, keySize, valueSize, maxEntries, flags}
	return bpf(unix.BPF_MAP_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

func bpfMapOp(cmd, mapFD int, key, value unsafe.Pointer) error {
	attr := struct {
		mapFD      uint32
		_          uint32
		key, value uint64
		flags      uint64
	}{mapFD: uint32(mapFD), key: uint64(uintptr(key)), value: uint64(uintptr(value))}
	_, err := bpf(cmd, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	return err
}

func bpfProgLoad(typ, attachType uint32, insns []byte) (int, error) {
	license := []byte("GPL\x00")
	logBuf := make([]byte, 1<<16)
	attr := struct {
		typ, insnCnt       uint32
		insns, license     uint64
		logLevel, logSize  uint32
		logBuf             uint64
		kernVersion, flags uint32
		name               [unix.BPF_OBJ_NAME_LEN]byte
		ifindex            uint32
		expectedAttachType uint32
	}{typ: typ, insnCnt: uint32(len(insns) / 8), insns: uint64(uintptr(unsafe.Pointer(&insns[0]))),
		license: uint64(uintptr(unsafe.Pointer(&license[0]))), logLevel: 1, logSize: uint32(len(logBuf)),
		logBuf: uint64(uintptr(unsafe.Pointer(&logBuf[0]))), expectedAttachType: attachType}
	copy(attr.name[:], "minibox_ports")
	fd, err := bpf(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(insns)
	runtime.KeepAlive(license)
	if err != nil {
		if msg := strings.TrimRight(string(logBuf), "\x00\n"); msg != "" {
			return -1, fmt.Errorf("%w: %s", err, msg)
		}
		return -1, err
	}
	return fd, nil
}

func bpfLinkCreate(progFD, targetFD int, attachType uint32) (int, error) {
	attr := struct{ progFD, targetFD, attachType, flags uint32 }{uint32(progFD), uint32(targetFD), attachType, 0}
	return bpf(unix.BPF_LINK_CREATE, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}

// cgroup2Root is the mount point of the cgroup2 hierarchy's root (on a hybrid host, the
// "unified" one beside the v1 controllers).
func cgroup2Root() (string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// 36 25 0:30 / /sys/fs/cgroup rw,... shared:9 - cgroup2 cgroup2 rw,...
		pre, post, ok := strings.Cut(s.Text(), " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if ok && len(f) >= 5 && len(g) >= 1 && g[0] == "cgroup2" && f[3] == "/" {
			return f[4], nil
		}
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return "", errors.New("no cgroup2 root is mounted")
}

// NetnsCookie is the cookie of the calling thread's network namespace (what
// bpf_get_netns_cookie returns for sockets made there).
func NetnsCookie() (uint64, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	c, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	if err != nil {
		return 0, fmt.Errorf("SO_NETNS_COOKIE: %w", err)
	}
	return c, nil
}
