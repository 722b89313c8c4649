package spec

import (
	"fmt"

	"github.com/minibox/minibox/pkg/wirejson"
)

// Parse reads a spec from its JSON (config.json), as encoding/json would into a Spec, by
// code of its own (wirejson): the shim and init decode one spec each, in processes too
// young to have encoding/json's caches for its types.
func Parse(data []byte) (*Spec, error) {
	var s Spec
	d := wirejson.NewDecoder(data)
	if err := wirejson.Struct(d, &s, (*Spec).field); err != nil {
		return nil, fmt.Errorf("decode container spec: %w", err)
	}
	return &s, nil
}

func (s *Spec) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "id":
		return d.String(&s.ID)
	case "dir":
		return d.String(&s.Dir)
	case "rootfs":
		return wirejson.Struct(d, &s.Rootfs, (*Rootfs).field)
	case "process":
		return wirejson.Struct(d, &s.Process, (*Process).field)
	case "hostname":
		return d.String(&s.Hostname)
	case "mounts":
		return wirejson.Structs(d, &s.Mounts, (*Mount).field)
	case "network":
		return d.String(&s.Network)
	case "netns_path":
		return d.String(&s.NetNSPath)
	case "namespaces":
		return d.StringMap(&s.Namespaces)
	case "devices":
		return wirejson.Structs(d, &s.Devices, (*Device).field)
	case "driver":
		return wirejson.StructPtr(d, &s.Driver, (*Driver).field)
	case "hosts_path":
		return d.String(&s.HostsPath)
	case "resolv_path":
		return d.String(&s.ResolvPath)
	case "hostname_path":
		return d.String(&s.HostnamePath)
	case "privileged":
		return d.Bool(&s.Privileged)
	case "masked_paths":
		return d.Strings(&s.MaskedPaths)
	case "readonly_paths":
		return d.Strings(&s.ReadonlyPaths)
	case "sysctl":
		return d.StringMap(&s.Sysctl)
	case "shm_size":
		return d.Int64(&s.ShmSize)
	case "shm_path":
		return d.String(&s.ShmPath)
	case "no_shm":
		return d.Bool(&s.NoShm)
	case "seccomp_file":
		return d.String(&s.SeccompFile)
	case "userns":
		return wirejson.StructPtr(d, &s.UserNS, (*IDMap).field)
	case "resources":
		return wirejson.Struct(d, &s.Resources, (*Resources).field)
	case "cgroup_path":
		return d.String(&s.CgroupPath)
	case "init_in_cgroup":
		return d.Bool(&s.InitInCgroup)
	case "workload_cgroup":
		return wirejson.StructPtr(d, &s.Workload, (*WorkloadCgroup).field)
	case "stop_signal":
		return d.String(&s.StopSignal)
	case "auto_remove":
		return d.Bool(&s.AutoRemove)
	case "log":
		return d.Object(func(k string) error { return logField(s, d, k) })
	}
	return d.Unknown(key, s.field)
}

func logField(s *Spec, d *wirejson.Decoder, key string) error {
	switch key {
	case "driver":
		return d.String(&s.Log.Driver)
	case "max_size":
		return d.Int64(&s.Log.MaxSize)
	case "max_files":
		return d.IntValue(&s.Log.MaxFiles)
	}
	return d.Unknown(key, func(d *wirejson.Decoder, k string) error { return logField(s, d, k) })
}

func (w *WorkloadCgroup) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "version":
		return d.IntValue(&w.Version)
	case "dir":
		return d.String(&w.Dir)
	case "parent":
		return d.String(&w.Parent)
	case "limit":
		return d.Int64(&w.Limit)
	}
	return d.Unknown(key, w.field)
}

func (r *Rootfs) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "lower":
		return d.Strings(&r.Lower)
	case "upper":
		return d.String(&r.Upper)
	case "work":
		return d.String(&r.Work)
	case "read_only":
		return d.Bool(&r.ReadOnly)
	case "volatile":
		return d.Bool(&r.Volatile)
	}
	return d.Unknown(key, r.field)
}

func (p *Process) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "args":
		return d.Strings(&p.Args)
	case "env":
		return d.Strings(&p.Env)
	case "cwd":
		return d.String(&p.Cwd)
	case "user":
		return d.String(&p.User)
	case "terminal":
		return d.Bool(&p.Terminal)
	case "stdin":
		return d.Bool(&p.Stdin)
	case "capabilities":
		return d.Strings(&p.Capabilities)
	case "no_new_privs":
		return d.Bool(&p.NoNewPrivs)
	case "rlimits":
		return wirejson.Structs(d, &p.Rlimits, (*Rlimit).field)
	case "oom_score_adj":
		if d.Null() {
			p.OOMScoreAdj = nil
			return nil
		}
		if p.OOMScoreAdj == nil {
			p.OOMScoreAdj = new(int)
		}
		return d.IntValue(p.OOMScoreAdj)
	case "group_add":
		return d.Strings(&p.GroupAdd)
	}
	return d.Unknown(key, p.field)
}

func (v *Device) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "host_path":
		return d.String(&v.HostPath)
	case "path":
		return d.String(&v.Path)
	}
	return d.Unknown(key, v.field)
}

func (v *Driver) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "files":
		return wirejson.Structs(d, &v.Files, (*DriverFile).field)
	case "links":
		return wirejson.Structs(d, &v.Links, (*Link).field)
	case "dirs":
		return d.Strings(&v.Dirs)
	case "ld_conf":
		return d.String(&v.LdConf)
	case "ldconfig":
		return d.Bool(&v.Ldconfig)
	}
	return d.Unknown(key, v.field)
}

func (v *DriverFile) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "host_path":
		return d.String(&v.HostPath)
	case "path":
		return d.String(&v.Path)
	}
	return d.Unknown(key, v.field)
}

func (v *Link) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "path":
		return d.String(&v.Path)
	case "target":
		return d.String(&v.Target)
	}
	return d.Unknown(key, v.field)
}

func (v *Rlimit) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "type":
		return d.String(&v.Type)
	case "soft":
		return d.Uint64(&v.Soft)
	case "hard":
		return d.Uint64(&v.Hard)
	}
	return d.Unknown(key, v.field)
}

func (m *Mount) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "type":
		return d.String(&m.Type)
	case "source":
		return d.String(&m.Source)
	case "destination":
		return d.String(&m.Destination)
	case "read_only":
		return d.Bool(&m.ReadOnly)
	case "options":
		return d.Strings(&m.Options)
	case "copy_up":
		return d.Bool(&m.CopyUp)
	case "idmap":
		return d.Bool(&m.IDMap)
	}
	return d.Unknown(key, m.field)
}

func (v *IDMap) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "host_id":
		return d.Uint32(&v.HostID)
	case "size":
		return d.Uint32(&v.Size)
	}
	return d.Unknown(key, v.field)
}

func (r *Resources) field(d *wirejson.Decoder, key string) error {
	switch key {
	case "memory":
		return d.Int64(&r.Memory)
	case "memory_swap":
		return d.Int64(&r.MemorySwap)
	case "cpu_quota":
		return d.Int64(&r.CPUQuota)
	case "cpu_period":
		return d.Uint64(&r.CPUPeriod)
	case "cpu_shares":
		return d.Uint64(&r.CPUShares)
	case "cpuset_cpus":
		return d.String(&r.CpusetCpus)
	case "cpuset_mems":
		return d.String(&r.CpusetMems)
	case "pids_limit":
		return d.Int64(&r.PidsLimit)
	case "workload_apart":
		return d.Bool(&r.WorkloadApart)
	case "blkio_weight":
		return d.Uint16(&r.BlkioWeight)
	case "io_weight":
		return d.Uint16(&r.IOWeight)
	case "memory_reservation":
		return d.Int64(&r.MemoryReservation)
	case "devices":
		return d.Strings(&r.Devices)
	}
	return d.Unknown(key, r.field)
}
