package ctrreq

import (
	"maps"
	"slices"
	"strings"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/logfile"
)

// logOpts are the --log-opt keys minibox keeps, with what each expects.
var logOpts = map[string]string{
	"max-size": "a size such as 10m (k, m, g)",
	"max-file": "a number of files, at least 1",
	"labels":   "comma-separated label keys shown by logs --details",
	"env":      "comma-separated variable names shown by logs --details",
}

// checkLog: a known driver, known options with valid values, none of them for none.
func checkLog(r *api.CreateRequest, _ *ctrconfig.Options, _ *[]string) error {
	if r.LogDriver != "" && !logfile.ValidDriver(r.LogDriver) {
		return bad("log_driver", "%q is not a log driver minibox has; expected local, json-file or none", r.LogDriver)
	}
	for _, k := range slices.Sorted(maps.Keys(r.LogOpts)) {
		v := r.LogOpts[k]
		field := key("log_opts", k)
		if _, ok := logOpts[k]; !ok {
			return bad(field, "unknown log option; expected max-size, max-file, labels or env")
		}
		if r.LogDriver == logfile.DriverNone {
			return bad(field, "the none log driver keeps nothing, so it takes no options")
		}
		switch k {
		case "max-size":
			if _, err := logfile.ParseSize(v); err != nil {
				return bad(field, "%v", err)
			}
		case "max-file":
			if _, err := logfile.ParseMaxFile(v); err != nil {
				return bad(field, "%v", err)
			}
		default:
			if err := noCtl(field, v); err != nil {
				return err
			}
			for _, name := range strings.Split(v, ",") {
				if strings.TrimSpace(name) == "" {
					return bad(field, "%q has an empty name; expected %s", v, logOpts[k])
				}
			}
		}
	}
	return nil
}
