// Package shimapi is the protocol between the daemon and a container's shim, over the unix
// socket containers/<id>/shim.sock, and between the shim and the container's init, over
// the socketpair the shim passes init as fd 3.
//
// Daemon to shim: one connection per request. The client writes one JSON Request line and
// reads one JSON Response line. An attach or exec connection then carries the process's
// stdio: from the shim, raw bytes for a tty, else frames (an 8-byte header: stream, three
// zero bytes, big-endian length; then the payload), the same framing the HTTP attach
// protocol uses; to the shim, raw stdin, and a half-close is EOF. A held attach (Handoff)
// keeps the output until the daemon's first byte says where it goes: with the client's
// connection as SCM_RIGHTS, the shim writes to that connection itself and ends this one
// when the output ends; without, the stream comes through this one. A wait connection gets
// its response when the process ends.
//
// Shim and init: one message per SOCK_SEQPACKET packet (JSON), with file descriptors as
// SCM_RIGHTS. It leaves out how either side acts on them, the files a shim leaves in the
// container's directory (package shimfiles) and the log's format (package logfile).
package shimapi
