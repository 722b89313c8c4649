package ctrreq

import (
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
)

// maxExposed bounds the ports --expose may list once ranges are expanded.
const maxExposed = 1024

// checkExpose normalises --expose to "port/proto" entries, ranges expanded: the ports the
// container offers, shown by inspect and published by -P with the image's own.
func checkExpose(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if len(r.Expose) == 0 {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for i, e := range r.Expose {
		field := idx("expose", i)
		ports, proto, hasProto := strings.Cut(e, "/")
		if !hasProto {
			proto = "tcp"
		}
		if proto != "tcp" && proto != "udp" {
			return bad(field, "%q: the protocol is tcp or udp", e)
		}
		lo, hi, err := portRange(ports, false)
		if err != nil {
			return bad(field, "%v", err)
		}
		for p := lo; p <= hi; p++ {
			k := strconv.Itoa(p) + "/" + proto
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
			if len(out) > maxExposed {
				return bad(field, "exposes more than %d ports", maxExposed)
			}
		}
	}
	r.Expose = out
	return nil
}
