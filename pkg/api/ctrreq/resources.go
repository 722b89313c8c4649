package ctrreq

import (
	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/ctrconfig"
)

// checkResources folds the original MiB sizes and cpuset name into the current fields and
// checks the limits by the engine's rules (the ones a live update is checked by too).
func checkResources(r *api.CreateRequest, o *ctrconfig.Options, _ *[]string) error {
	if err := ctrconfig.CheckMiB("memory", r.Memory, ctrconfig.MinMemoryMiB); err != nil {
		return err
	}
	if err := ctrconfig.CheckMiB("shm_size", r.ShmSize, 0); err != nil {
		return err
	}
	res := resourcesOf(r)
	if res.Memory == 0 {
		res.Memory = r.Memory << 20
	}
	if res.ShmSize == 0 {
		res.ShmSize = r.ShmSize << 20
	}
	field := "cpuset_cpus"
	if res.CpusetCpus == "" && r.Cpuset != "" {
		res.CpusetCpus, field = r.Cpuset, "cpuset"
	}
	if err := ctrconfig.CheckResources(&res, *o, field); err != nil {
		return err
	}
	r.MemoryBytes, r.ShmSizeBytes, r.CpusetCpus = res.Memory, res.ShmSize, res.CpusetCpus
	return nil
}

// resourcesOf is the request's limits as the engine holds them.
func resourcesOf(r *api.CreateRequest) ctrconfig.Resources {
	return ctrconfig.Resources{
		Memory: r.MemoryBytes, MemorySwap: r.MemorySwap, MemoryReservation: r.MemoryReservation,
		ShmSize: r.ShmSizeBytes, CPUs: r.CPUs, CPUPercent: r.CPU, CPUQuota: r.CPUQuota,
		CPUPeriod: r.CPUPeriod, CPUShares: r.CPUShares, CpusetCpus: r.CpusetCpus,
		PidsLimit: r.PidsLimit, BlkioWeight: r.BlkioWeight, IOWeight: r.IOWeight, OOMScoreAdj: r.OOMScoreAdj,
	}
}
