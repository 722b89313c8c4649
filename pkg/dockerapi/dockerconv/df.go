package dockerconv

import (
	"strings"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/volume"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/engine"
	"github.com/minibox/minibox/pkg/engine/volumesvc"
)

// DiskUsage is GET /system/df in both shapes: the per-object lists (LayersSize, Images,
// ...) up to API 1.52, the per-kind totals (ImageUsage, ...) from 1.52.
type DiskUsage struct {
	LayersSize int64                `json:"LayersSize,omitempty"`
	Images     *[]dfImage           `json:"Images,omitempty"`
	Containers *[]container.Summary `json:"Containers,omitempty"`
	Volumes    *[]volume.Volume     `json:"Volumes,omitempty"`
	BuildCache *[]build.CacheRecord `json:"BuildCache,omitempty"`
	ImageUsage *image.DiskUsage     `json:"ImageUsage,omitempty"`
	CtrUsage   *container.DiskUsage `json:"ContainerUsage,omitempty"`
	VolUsage   *volume.DiskUsage    `json:"VolumeUsage,omitempty"`
	BuildUsage *build.DiskUsage     `json:"BuildCacheUsage,omitempty"`
}

// dfImage carries VirtualSize for clients older than API 1.44, which count an image in
// use from it.
type dfImage struct {
	image.Summary
	VirtualSize int64 `json:"VirtualSize,omitempty"`
}

// DiskReport gathers what system/df answers, one kind of object per method; the caller
// lists the objects from the engine.
type DiskReport struct {
	want  map[string]bool
	du    *api.DiskUsage
	sizes map[string]int64 // kind/name -> bytes

	users      map[string]int64 // image ID -> containers using it
	ctrs       []container.Summary
	running    int64
	imgs       []image.Summary
	activeImgs int64
	imgReclaim int64
	imgSize    int64
	vols       []volume.Volume
	activeVols int64
	volSize    int64
	volReclaim int64
	cache      []build.CacheRecord
}

// NewDiskReport starts a report of the kinds in want (none: every kind) from the
// engine's disk usage, which also gives the build cache.
func NewDiskReport(want map[string]bool, du *api.DiskUsage) *DiskReport {
	d := &DiskReport{want: want, du: du, sizes: map[string]int64{}}
	for _, it := range du.Items {
		d.sizes[it.Kind+"/"+it.Name] = it.SizeBytes
	}
	if d.Wants("build-cache") {
		for _, it := range du.Items {
			if it.Kind == "build_cache" {
				d.cache = append(d.cache, build.CacheRecord{ID: it.Name, Type: "regular", Description: it.Detail, Size: it.SizeBytes})
			}
		}
	}
	return d
}

// Wants reports whether the client asked for kind (container, image, volume, build-cache).
func (d *DiskReport) Wants(kind string) bool { return len(d.want) == 0 || d.want[kind] }

// Containers adds every container; it also counts the users of each image, so it comes
// before Images.
func (d *DiskReport) Containers(listed []engine.Listed, now time.Time) {
	d.users = map[string]int64{}
	for i := range listed {
		l := &listed[i]
		d.users[strings.TrimPrefix(l.ImageID, "sha256:")]++
		c := Summary(l, now)
		c.SizeRw = d.sizes["container/"+l.ID[:min(12, len(l.ID))]]
		if l.Status == "running" || l.Status == "paused" || l.Status == "restarting" {
			d.running++
		}
		d.ctrs = append(d.ctrs, c)
	}
}

// Images lists each image once with all its names, and how many containers use it.
func (d *DiskReport) Images(list []api.ImageSummary) {
	seen := map[string]int{}
	for _, in := range list {
		tag := ""
		if in.Repository != "<none>" && in.Tag != "<none>" {
			tag = in.Repository + ":" + in.Tag
		}
		if i, ok := seen[in.ID]; ok { // one image, several names
			if tag != "" {
				d.imgs[i].RepoTags = append(d.imgs[i].RepoTags, tag)
			}
			continue
		}
		seen[in.ID] = len(d.imgs)
		sum := image.Summary{ID: in.ID, Created: in.Created.Unix(), Size: in.SizeBytes, SharedSize: 0,
			Containers: d.users[strings.TrimPrefix(in.ID, "sha256:")], RepoTags: []string{}, RepoDigests: []string{}, Labels: map[string]string{}}
		if tag != "" {
			sum.RepoTags = append(sum.RepoTags, tag)
		}
		d.imgs = append(d.imgs, sum)
	}
	for i := range d.imgs {
		d.imgSize += d.imgs[i].Size
		if d.imgs[i].Containers > 0 {
			d.activeImgs++
		} else {
			d.imgReclaim += d.imgs[i].Size
		}
	}
}

// Volumes adds every volume with its size and users.
func (d *DiskReport) Volumes(vs []volumesvc.Volume) {
	for i := range vs {
		v := Volume(&vs[i])
		size := d.sizes["volume/"+vs[i].Name]
		v.UsageData = &volume.UsageData{Size: size, RefCount: int64(len(vs[i].UsedBy))}
		d.volSize += size
		if len(vs[i].UsedBy) > 0 {
			d.activeVols++
		} else {
			d.volReclaim += size
		}
		d.vols = append(d.vols, v)
	}
}

// Answer is the reply: the per-object shape when legacy (with VirtualSize when
// virtualSize), the per-kind totals when usage (with the objects when verbose).
func (d *DiskReport) Answer(legacy, virtualSize, usage, verbose bool) DiskUsage {
	out := DiskUsage{}
	if legacy {
		d.legacy(&out, virtualSize)
	}
	if usage {
		d.usage(&out, verbose)
	}
	return out
}

// legacy fills the per-object shape of API versions before 1.53.
func (d *DiskReport) legacy(out *DiskUsage, virtualSize bool) {
	if d.Wants("image") {
		legacy := make([]dfImage, len(d.imgs))
		for i := range d.imgs {
			legacy[i] = dfImage{Summary: d.imgs[i]}
			if virtualSize {
				legacy[i].VirtualSize = d.imgs[i].Size
			}
		}
		// The CLI takes the reclaimable part as LayersSize less the images in use.
		out.LayersSize, out.Images = d.imgSize, &legacy
	}
	if d.Wants("container") {
		out.Containers = nonNil(d.ctrs)
	}
	if d.Wants("volume") {
		out.Volumes = nonNil(d.vols)
	}
	if d.Wants("build-cache") {
		out.BuildCache = nonNil(d.cache)
	}
}

// usage fills the per-kind totals of API 1.52 and later (with the objects when verbose).
func (d *DiskReport) usage(out *DiskUsage, verbose bool) {
	du := d.du
	if d.Wants("image") {
		out.ImageUsage = &image.DiskUsage{ActiveCount: d.activeImgs, TotalCount: int64(len(d.imgs)), TotalSize: du.Images.SizeBytes, Reclaimable: d.imgReclaim}
		if verbose {
			out.ImageUsage.Items = d.imgs
		}
	}
	if d.Wants("container") {
		out.CtrUsage = &container.DiskUsage{ActiveCount: d.running, TotalCount: int64(len(d.ctrs)), TotalSize: du.Containers.SizeBytes, Reclaimable: du.Containers.ReclaimableBytes}
		if verbose {
			out.CtrUsage.Items = d.ctrs
		}
	}
	if d.Wants("volume") {
		out.VolUsage = &volume.DiskUsage{ActiveCount: d.activeVols, TotalCount: int64(len(d.vols)), TotalSize: d.volSize, Reclaimable: d.volReclaim}
		if verbose {
			out.VolUsage.Items = d.vols
		}
	}
	if d.Wants("build-cache") {
		out.BuildUsage = &build.DiskUsage{TotalCount: int64(len(d.cache)), TotalSize: du.BuildCache.SizeBytes, Reclaimable: du.BuildCache.ReclaimableBytes}
		if verbose {
			out.BuildUsage.Items = d.cache
		}
	}
}

func nonNil[T any](s []T) *[]T {
	if s == nil {
		s = []T{}
	}
	return &s
}
