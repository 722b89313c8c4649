package ctrio

import (
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/logfile"
)

// ApplyLogDefaults writes the daemon's log driver and rotation d into a new container's
// configuration, so that it keeps them whatever later daemons default to.
func ApplyLogDefaults(req *ctrconfig.Config, d logfile.Config) {
	if d.Driver == "" {
		d.Driver = logfile.DriverLocal
	}
	if req.LogDriver == "" {
		req.LogDriver = d.Driver
	}
	if req.LogDriver == logfile.DriverNone {
		return
	}
	opts := make(map[string]string, len(req.LogOpts)+2)
	for k, v := range req.LogOpts {
		opts[k] = v
	}
	if _, ok := opts["max-size"]; !ok && d.MaxSize > 0 {
		opts["max-size"] = strconv.FormatInt(d.MaxSize, 10)
	}
	if _, ok := opts["max-file"]; !ok && d.MaxFiles > 0 && opts["max-size"] != "" {
		opts["max-file"] = strconv.Itoa(d.MaxFiles)
	}
	if len(opts) > 0 {
		req.LogOpts = opts
	}
}

// LogConfig is the shim's view of a container's log. A record from before log drivers
// has no driver: its shim wrote JSON lines, and so does the next one.
func LogConfig(req *ctrconfig.Config) logfile.Config {
	c := logfile.Config{Driver: req.LogDriver}
	if c.Driver == "" {
		c.Driver = logfile.DriverJSON
	}
	if v, ok := req.LogOpts["max-size"]; ok {
		c.MaxSize, _ = logfile.ParseSize(v) // validated at create
	}
	if v, ok := req.LogOpts["max-file"]; ok {
		c.MaxFiles, _ = logfile.ParseMaxFile(v)
	}
	if c.MaxSize > 0 && c.MaxFiles == 0 {
		c.MaxFiles = 1
	}
	return c
}

// LogDetails is what `logs --details` shows before each line: the labels and variables
// that --log-opt labels=... and env=... name, as Docker prints them (key=value, sorted,
// comma-separated, values URL-escaped); "" when none.
func LogDetails(req *ctrconfig.Config, env []string) string {
	attrs := map[string]string{}
	for _, k := range splitNames(req.LogOpts["labels"]) {
		if v, ok := req.Labels[k]; ok {
			attrs[k] = v
		}
	}
	names := splitNames(req.LogOpts["env"])
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		for _, n := range names {
			if n == k {
				attrs[k] = v
			}
		}
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k + "=" + url.QueryEscape(attrs[k]))
	}
	return b.String()
}

func splitNames(s string) []string {
	var out []string
	for _, n := range strings.Split(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}
