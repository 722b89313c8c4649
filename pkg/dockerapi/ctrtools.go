package dockerapi

import (
	"bufio"
	"io"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/valyala/fasthttp"

	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/ctrio"
)

// containerChanges is GET /containers/{id}/changes: what the container changed in its
// filesystem, against its image.
func (s *Server) containerChanges(ctx *fasthttp.RequestCtx) {
	ch, err := s.eng.ContainerChanges(s.ctx, param(ctx, "id"))
	if err != nil {
		writeError(ctx, err)
		return
	}
	out := make([]container.FilesystemChange, 0, len(ch))
	for _, c := range ch {
		k := container.ChangeModify
		switch c.Kind {
		case ctrio.ChangeAdd:
			k = container.ChangeAdd
		case ctrio.ChangeDelete:
			k = container.ChangeDelete
		}
		out = append(out, container.FilesystemChange{Kind: k, Path: c.Path})
	}
	writeJSON(ctx, fasthttp.StatusOK, out)
}

// containerExport is GET /containers/{id}/export: the container's filesystem as a tar.
func (s *Server) containerExport(ctx *fasthttp.RequestCtx) {
	id := param(ctx, "id")
	if _, err := s.eng.InspectContainer(id); err != nil {
		writeError(ctx, err) // a wrong ID is a 404, not a broken tar
		return
	}
	ctx.SetStatusCode(fasthttp.StatusOK)
	ctx.SetContentType("application/x-tar")
	conn := ctx.Conn()
	ctx.SetBodyStreamWriter(func(w *bufio.Writer) {
		opCtx, cancel := s.opContext(conn)
		defer cancel()
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(s.files.ExportContainer(opCtx, id, pw)) }()
		defer pr.Close()
		io.Copy(w, pr)
		w.Flush()
	})
}

// containerUpdate is POST /containers/{id}/update: limits and the restart policy. A zero
// field is left as it is (dockerd's rule); fields minibox does not apply are a 400
// naming them.
func (s *Server) containerUpdate(ctx *fasthttp.RequestCtx) {
	var in container.UpdateConfig
	if err := decodeJSON(ctx, &in); err != nil {
		writeError(ctx, err)
		return
	}
	r := &in.Resources
	var unsupported []string
	add := func(set bool, name string) {
		if set {
			unsupported = append(unsupported, name)
		}
	}
	add(r.BlkioWeight != 0 || len(r.BlkioWeightDevice) > 0 || len(r.BlkioDeviceReadBps) > 0 || len(r.BlkioDeviceWriteBps) > 0 ||
		len(r.BlkioDeviceReadIOps) > 0 || len(r.BlkioDeviceWriteIOps) > 0, "Blkio*")
	add(r.CPURealtimePeriod != 0 || r.CPURealtimeRuntime != 0, "CpuRealtime*")
	add(r.CpusetMems != "", "CpusetMems")
	add(len(r.Devices) > 0 || len(r.DeviceCgroupRules) > 0 || len(r.DeviceRequests) > 0, "Devices")
	add(r.MemoryReservation != 0, "MemoryReservation")
	add(r.MemorySwappiness != nil && *r.MemorySwappiness >= 0, "MemorySwappiness")
	add(r.OomKillDisable != nil && *r.OomKillDisable, "OomKillDisable")
	add(len(r.Ulimits) > 0, "Ulimits")
	add(r.CgroupParent != "", "CgroupParent")
	add(r.CPUCount != 0 || r.CPUPercent != 0 || r.IOMaximumIOps != 0 || r.IOMaximumBandwidth != 0, "CpuCount, CpuPercent, IOMaximum* (Windows)")
	if len(unsupported) > 0 {
		writeErr(ctx, fasthttp.StatusBadRequest, "update of "+strings.Join(unsupported, ", ")+" is not supported by minibox")
		return
	}
	var u engine.UpdateOptions
	nonZero := func(v int64) *int64 {
		if v == 0 {
			return nil
		}
		return &v
	}
	u.MemoryBytes, u.MemorySwap, u.CPUShares = nonZero(r.Memory), nonZero(r.MemorySwap), nonZero(r.CPUShares)
	u.CPUQuota, u.CPUPeriod = nonZero(r.CPUQuota), nonZero(r.CPUPeriod)
	if r.NanoCPUs != 0 {
		cpus := float64(r.NanoCPUs) / 1e9
		u.CPUs = &cpus
	}
	if r.CpusetCpus != "" {
		u.CpusetCpus = &r.CpusetCpus
	}
	if r.PidsLimit != nil {
		p := *r.PidsLimit
		if p < 0 {
			p = 0 // -1 and 0 lift the limit
		}
		u.PidsLimit = &p
	}
	if p := in.RestartPolicy; p.Name != "" {
		restart := string(p.Name)
		if p.Name == container.RestartPolicyOnFailure && p.MaximumRetryCount > 0 {
			restart = "on-failure:" + strconv.Itoa(p.MaximumRetryCount)
		}
		u.Restart = &restart
	}
	warnings, err := s.eng.UpdateContainer(param(ctx, "id"), u)
	if err != nil {
		writeError(ctx, err)
		return
	}
	if warnings == nil {
		warnings = []string{}
	}
	writeJSON(ctx, fasthttp.StatusOK, container.UpdateResponse{Warnings: warnings})
}
