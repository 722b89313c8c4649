package engine

import (
	"fmt"

	"github.com/minibox/minibox/pkg/ctrconfig"
	"github.com/minibox/minibox/pkg/engine/runspec"
)

// UpdateOptions are the limits `update` changes; nil fields stay as they are.
type UpdateOptions struct {
	MemoryBytes *int64
	MemorySwap  *int64
	CPUs        *float64
	CPUShares   *int64
	CPUQuota    *int64
	CPUPeriod   *int64
	CpusetCpus  *string
	PidsLimit   *int64
	Restart     *string
}

// UpdateContainer changes a container's limits and restart policy: checked as create
// checks them, applied to the running container's cgroup at once, and kept for its next
// starts. It returns create's warnings (limits this host cannot apply).
func (e *Engine) UpdateContainer(ref string, u UpdateOptions) ([]string, error) {
	c, err := e.lookup(ref)
	if err != nil {
		return nil, err
	}
	c.op.Lock()
	defer c.op.Unlock()
	r := e.snapshot(c)
	set := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	res := r.Conf.Resources
	set(&res.Memory, u.MemoryBytes)
	set(&res.MemorySwap, u.MemorySwap)
	set(&res.CPUShares, u.CPUShares)
	set(&res.CPUQuota, u.CPUQuota)
	set(&res.CPUPeriod, u.CPUPeriod)
	set(&res.PidsLimit, u.PidsLimit)
	if u.CPUs != nil {
		res.CPUs, res.CPUPercent = *u.CPUs, 0
	}
	if u.CpusetCpus != nil {
		res.CpusetCpus = *u.CpusetCpus
	}
	if err := ctrconfig.CheckResources(&res, ctrconfig.HostOptions(), "cpuset_cpus"); err != nil {
		return nil, err
	}
	restart := r.Conf.Restart
	if u.Restart != nil {
		name, max, err := ctrconfig.ParseRestart(*u.Restart)
		if err != nil {
			return nil, ctrconfig.Bad("restart", "%v", err)
		}
		if name != "no" && r.Conf.AutoRemove {
			return nil, ctrconfig.Bad("restart", "%q cannot be used with --rm (auto_remove); drop one of them", *u.Restart)
		}
		restart = ctrconfig.RestartPolicy{Name: name, MaxRetries: max}
	}
	warnings := e.host.Cgroup.Warnings(runspec.Resources(&res))
	e.store.RLock()
	running := c.shim != nil
	e.store.RUnlock()
	if running {
		res := runspec.Resources(&res)
		if u.MemoryBytes != nil && *u.MemoryBytes == 0 {
			res.Memory = -1 // 0 in update lifts the limit
		}
		if err := e.cg.Update(cgroupPath(r.ID), res); err != nil {
			return nil, fmt.Errorf("update the running container's limits: %w", err)
		}
	}
	e.update(c, func(rec *Record) {
		rec.Conf.Resources, rec.Conf.Restart = res, restart
	})
	if err := e.store.Save(); err != nil {
		return nil, err
	}
	e.containerEvent(&r, "update", nil)
	return warnings, nil
}
