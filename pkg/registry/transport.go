package registry

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
)

// loopbackOnly refuses plain-HTTP requests to anything but loopback: a
// registry elsewhere must speak TLS, and a redirect to plain HTTP elsewhere is refused too.
type loopbackOnly struct{ next http.RoundTripper }

func (t loopbackOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Scheme == "http" && !IsLoopback(req.URL.Hostname()) {
		return nil, fmt.Errorf("plain http to %s refused: only loopback registries may skip TLS: %w", req.URL.Host, errdefs.ErrForbidden)
	}
	return t.next.RoundTrip(req)
}

// IsLoopback reports whether host (no port) is localhost or a loopback address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// DefaultTransport is http.DefaultTransport's settings with more idle connections per
// host (parallel layer downloads) behind the loopback rule.
func DefaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	t.ResponseHeaderTimeout = 60 * time.Second
	return loopbackOnly{t}
}
