package minibox

import (
	"context"
	"fmt"

	"github.com/alecthomas/kong"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
)

// SystemCmds is the `system` group: prune, df, and info (the top-level info's twin).
type SystemCmds struct {
	System SystemGroup `cmd:"" help:"Maintain the data root: prune, df, info."`
	// BuildCache is prune's --build-cache, declared at the root so that it is accepted in
	// any position (`minibox --build-cache system prune`, as the original took it).
	BuildCache bool `name:"build-cache" hidden:"" help:"With system prune: also clear the build cache."`
}

// SystemGroup holds the system subcommands.
type SystemGroup struct {
	Prune SystemPruneCmd `cmd:"" help:"Remove stopped containers, unused networks, dangling images (-a: unused ones), the build cache (--volumes: unused anonymous volumes), after a prompt (-f: none). From a script without those flags: only orphaned blobs, stale lazy mounts, unused extracted layers and tmp/ (--build-cache: also layers/)."`
	DF    SystemDFCmd    `cmd:"" name:"df" help:"Show disk usage by kind and what prune would reclaim."`
	Info  InfoCmd        `cmd:"" help:"Show the daemon's facts."`
}

// SystemPruneCmd is `system prune [-a] [--volumes] [-f] [--filter K=V]`, Docker's, which
// a person at a terminal gets too. Without a terminal and without Docker's flags it is the
// original's `system prune [--build-cache] [--json]`, which scripts of the original rely
// on: it never prompts and removes only what nothing references (blobs, lazy mounts,
// extracted layers, tmp/; --build-cache, the root's flag, see SystemCmds, also layers/).
type SystemPruneCmd struct {
	All        bool `short:"a" help:"Remove every image no container uses, not only dangling ones."`
	Volumes    bool `help:"Remove unused anonymous volumes too."`
	pruneFlags `embed:""`
	JSON       bool `help:"Print the report as JSON."`
}

func (c SystemPruneCmd) Run(ctx context.Context, api *client.Client, out *Output, kctx *kong.Context) error {
	if c.Force || c.All || c.Volumes || len(c.Filter) > 0 || stdinTerminal() {
		return c.dockerSystemPrune(ctx, api, out)
	}
	buildCache := false
	for _, f := range kctx.Flags() {
		if f.Name == "build-cache" {
			buildCache, _ = kctx.FlagValue(f).(bool)
		}
	}
	r, err := api.Prune(ctx, buildCache)
	if err != nil {
		return err
	}
	if c.JSON {
		return out.JSON(r)
	}
	out.OK("System Prune Completed:")
	fmt.Fprintf(out.Stdout, "- Active FUSE mounts killed: %d\n", r.FuseMountsKilled)
	fmt.Fprintf(out.Stdout, "- Orphaned blobs removed: %d\n", r.BlobsRemoved)
	fmt.Fprintf(out.Stdout, "- Extracted layers removed: %d\n", r.ExtractedRemoved)
	fmt.Fprintf(out.Stdout, "- Temporary files removed: %d\n", r.TmpRemoved)
	fmt.Fprintf(out.Stdout, "- Disk space recovered: %s\n", diskSize(r.BytesFreed))
	if buildCache {
		fmt.Fprintf(out.Stdout, "- Build cache entries removed: %d\n", r.BuildCacheRemoved)
		fmt.Fprintf(out.Stdout, "- Build cache recovered: %s\n", diskSize(r.BuildCacheBytesFreed))
	}
	return nil
}

// SystemDFCmd is `system df [-v] [--json]`.
type SystemDFCmd struct {
	Verbose bool `short:"v" help:"List every image, container, volume and cache entry."`
	JSON    bool `help:"Print JSON."`
}

func (c SystemDFCmd) Run(ctx context.Context, api *client.Client, out *Output) error {
	du, err := api.DiskUsage(ctx, c.Verbose)
	if err != nil {
		return err
	}
	if c.JSON {
		return out.JSON(du)
	}
	kinds := []struct {
		name string
		u    apiUsage
	}{
		{"Images", du.Images}, {"Containers", du.Containers}, {"Local Volumes", du.Volumes},
		{"Build Cache", du.BuildCache}, {"Extracted Layers", du.Extracted},
		{"Lazy Layer Cache", du.LazyCache}, {"Orphaned Blobs", du.Orphans}, {"Temporary", du.Tmp},
	}
	var rows [][]string
	for _, k := range kinds {
		rows = append(rows, []string{k.name, fmt.Sprint(k.u.Count), diskSize(k.u.SizeBytes), reclaimable(k.u)})
	}
	rows = append(rows, []string{"Total", "", diskSize(du.Total.SizeBytes), reclaimable(du.Total)})
	out.Table([]string{"TYPE", "TOTAL", "SIZE", "RECLAIMABLE"}, rows)
	if c.Verbose && len(du.Items) > 0 {
		fmt.Fprintln(out.Stdout)
		var items [][]string
		for _, it := range du.Items {
			r := "no"
			if it.Reclaimable {
				r = "yes"
			}
			items = append(items, []string{it.Kind, it.Name, diskSize(it.SizeBytes), r, it.Detail})
		}
		out.Table([]string{"KIND", "NAME", "SIZE", "RECLAIMABLE", "DETAIL"}, items)
	}
	return nil
}

type apiUsage = api.Usage

func reclaimable(u api.Usage) string {
	if u.SizeBytes == 0 {
		return diskSize(u.ReclaimableBytes)
	}
	return fmt.Sprintf("%s (%d%%)", diskSize(u.ReclaimableBytes), u.ReclaimableBytes*100/u.SizeBytes)
}

// diskSize prints bytes 1024-based with two decimals, as `images` does ("12.40 MB").
func diskSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.2f %cB", v, "KMGTP"[i])
}
