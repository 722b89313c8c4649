package network

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// batchResult is what the kernel answered to a batch: each request's error (nil: done),
// and the messages it echoed (NLM_F_ECHO) meanwhile, in the order they came.
type batchResult struct {
	errs   []error
	echoed []netlink.Message
}

// executeBatch sends msgs (each with NLM_F_ACK) in one sendmsg and reads until every one
// is acknowledged. The kernel handles a datagram's requests one after the other, each under
// the RTNL lock taken for it alone, and answers each on its own: one round trip instead of
// one per request, with the same effect and the same errors as sending them one by one (a
// failed request does not stop those after it). The acknowledgements are matched to the
// requests by sequence number, read straight from the socket: netlink.Conn.Receive turns an
// error acknowledgement into an error without saying whose it is.
func executeBatch(c *netlink.Conn, msgs []netlink.Message) (*batchResult, error) {
	for i := range msgs {
		msgs[i].Header.Flags |= netlink.Request | netlink.Acknowledge
	}
	sent, err := c.SendMessages(msgs)
	if err != nil {
		return nil, err
	}
	bySeq := make(map[uint32]int, len(sent))
	for i, m := range sent {
		bySeq[m.Header.Sequence] = i
	}
	res := &batchResult{errs: make([]error, len(sent))}
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 16<<10)
	for left := len(sent); left > 0; {
		var n int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, 0)
			return rerr != unix.EAGAIN
		}); err != nil {
			return nil, err
		}
		if rerr != nil {
			return nil, fmt.Errorf("netlink receive: %w", rerr)
		}
		parsed, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("netlink receive: %w", err)
		}
		for _, p := range parsed {
			i, ours := bySeq[p.Header.Seq]
			if !ours {
				continue
			}
			if p.Header.Type != unix.NLMSG_ERROR {
				res.echoed = append(res.echoed, netlink.Message{Header: netlink.Header{Length: p.Header.Len,
					Type: netlink.HeaderType(p.Header.Type), Flags: netlink.HeaderFlags(p.Header.Flags),
					Sequence: p.Header.Seq, PID: p.Header.Pid}, Data: p.Data})
				continue
			}
			if len(p.Data) < 4 {
				return nil, errors.New("netlink receive: short acknowledgement")
			}
			if code := int32(binary.NativeEndian.Uint32(p.Data)); code != 0 {
				res.errs[i] = unix.Errno(-code)
			}
			delete(bySeq, p.Header.Seq)
			left--
		}
	}
	return res, nil
}
