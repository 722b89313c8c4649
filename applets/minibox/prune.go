package minibox

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
)

// Docker's prune commands: a warning and a [y/N] question unless -f, then what went and
// "Total reclaimed space".

// pruneFlags are every prune's -f and --filter.
type pruneFlags struct {
	Force  bool     `short:"f" help:"Do not prompt for confirmation."`
	Filter []string `sep:"none" placeholder:"KEY=VAL" help:"Only what matches: until=<time|duration>, label=<key>[=<value>], label!=<key>[=<value>] (repeatable)."`
}

// confirmIn is where the answer to the prompt is read (tests replace it).
var confirmIn io.Reader = os.Stdin

// confirm prints Docker's warning and question and reads the answer: y or Y goes on;
// anything else, or no answer, does nothing.
func confirm(out *Output, force bool, warning string) bool {
	if force {
		return true
	}
	fmt.Fprintf(out.Stdout, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, err := bufio.NewReader(confirmIn).ReadString('\n')
	if err != nil || !stdinTerminal() {
		fmt.Fprintln(out.Stdout) // no echoed Enter ends the line
	}
	return strings.EqualFold(strings.TrimSpace(line), "y")
}

// printPruned prints the sections of what a prune removed, as Docker's CLI does.
func printPruned(w io.Writer, r *api.PruneResult) {
	section := func(title string, items []string) {
		if len(items) == 0 {
			return
		}
		fmt.Fprintln(w, title)
		for _, it := range items {
			fmt.Fprintln(w, it)
		}
		fmt.Fprintln(w)
	}
	section("Deleted Containers:", r.ContainersDeleted)
	section("Deleted Volumes:", r.VolumesDeleted)
	var imgs []string
	for _, d := range r.ImagesDeleted {
		if d.Untagged != "" {
			imgs = append(imgs, "untagged: "+d.Untagged)
		}
		if d.Deleted != "" {
			imgs = append(imgs, "deleted: "+d.Deleted)
		}
	}
	section("Deleted Images:", imgs)
	section("Deleted build cache objects:", r.CachesDeleted)
}

func runPrune(ctx context.Context, cl *client.Client, out *Output, kind string, all bool, f pruneFlags, warning string) error {
	if !confirm(out, f.Force, warning) {
		return nil
	}
	r, err := cl.PruneObjects(ctx, kind, all, f.Filter)
	if err != nil {
		return err
	}
	printPruned(out.Stdout, r)
	fmt.Fprintf(out.Stdout, "Total reclaimed space: %s\n", humanSize(float64(r.SpaceReclaimed)))
	return nil
}

// ContainerPruneCmd is `container prune [-f] [--filter K=V]`.
type ContainerPruneCmd struct {
	pruneFlags `embed:""`
}

func (c *ContainerPruneCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	return runPrune(ctx, cl, out, "containers", false, c.pruneFlags, "WARNING! This will remove all stopped containers.")
}

// ImagePruneCmd is `image prune [-a] [-f] [--filter K=V]`.
type ImagePruneCmd struct {
	All        bool `short:"a" help:"Remove every image no container uses, not only dangling ones."`
	pruneFlags `embed:""`
}

func (c *ImagePruneCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	warning := "WARNING! This will remove all dangling images."
	if c.All {
		warning = "WARNING! This will remove all images without at least one container associated to them."
	}
	return runPrune(ctx, cl, out, "images", c.All, c.pruneFlags, warning)
}

// VolumePruneCmd is `volume prune [-a] [-f] [--filter K=V]`.
type VolumePruneCmd struct {
	All        bool `short:"a" help:"Remove named volumes too, not only anonymous ones."`
	pruneFlags `embed:""`
}

func (c *VolumePruneCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	warning := "WARNING! This will remove anonymous local volumes not used by at least one container."
	if c.All {
		warning = "WARNING! This will remove all local volumes not used by at least one container."
	}
	return runPrune(ctx, cl, out, "volumes", c.All, c.pruneFlags, warning)
}

// BuilderPruneCmd is `builder prune [-a] [-f] [--filter until=...]`. minibox keeps no
// dangling build cache apart from the rest: every entry no build holds goes.
type BuilderPruneCmd struct {
	All        bool `short:"a" help:"Remove all build cache (every entry goes either way)."`
	pruneFlags `embed:""`
}

func (c *BuilderPruneCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	warning := "WARNING! This will remove all dangling build cache."
	if c.All {
		warning = "WARNING! This will remove all build cache."
	}
	return runPrune(ctx, cl, out, "build", c.All, c.pruneFlags, warning)
}

// BuilderGroup is `builder prune`.
type BuilderGroup struct {
	Prune BuilderPruneCmd `cmd:"" help:"Remove the build cache."`
}

// dockerSystemPrune is `system prune` as Docker's: stopped containers, unused networks,
// dangling (-a: unused) images, (--volumes: unused anonymous volumes,) the build cache,
// then what the data root holds for none of them.
func (c SystemPruneCmd) dockerSystemPrune(ctx context.Context, cl *client.Client, out *Output) error {
	items := []string{"all stopped containers", "all networks not used by at least one container"}
	if c.Volumes {
		items = append(items, "all anonymous volumes not used by at least one container")
	}
	if c.All {
		items = append(items, "all images without at least one container associated to them")
	} else {
		items = append(items, "all dangling images")
	}
	items = append(items, "unused build cache")
	warning := "WARNING! This will remove:\n  - " + strings.Join(items, "\n  - ") + "\n"
	if !confirm(out, c.Force, warning) {
		return nil
	}
	total := &api.PruneResult{}
	add := func(r *api.PruneResult) {
		total.ContainersDeleted = append(total.ContainersDeleted, r.ContainersDeleted...)
		total.VolumesDeleted = append(total.VolumesDeleted, r.VolumesDeleted...)
		total.ImagesDeleted = append(total.ImagesDeleted, r.ImagesDeleted...)
		total.CachesDeleted = append(total.CachesDeleted, r.CachesDeleted...)
		total.SpaceReclaimed += r.SpaceReclaimed
	}
	r, err := cl.PruneObjects(ctx, "containers", false, c.Filter)
	if err != nil {
		return err
	}
	add(r)
	nets, err := cl.NetworkPrune(ctx)
	if err != nil {
		return err
	}
	if c.Volumes {
		if r, err = cl.PruneObjects(ctx, "volumes", false, c.Filter); err != nil {
			return err
		}
		add(r)
	}
	if r, err = cl.PruneObjects(ctx, "images", c.All, c.Filter); err != nil {
		return err
	}
	add(r)
	if r, err = cl.PruneObjects(ctx, "build", false, c.Filter); err != nil {
		return err
	}
	add(r)
	gc, err := cl.Prune(ctx, false)
	if err != nil {
		return err
	}
	total.SpaceReclaimed += gc.BytesFreed
	if c.JSON {
		return out.JSON(total)
	}
	printPruned(out.Stdout, &api.PruneResult{ContainersDeleted: total.ContainersDeleted})
	if len(nets.Removed) > 0 {
		fmt.Fprintln(out.Stdout, "Deleted Networks:")
		for _, n := range nets.Removed {
			fmt.Fprintln(out.Stdout, n)
		}
		fmt.Fprintln(out.Stdout)
	}
	total.ContainersDeleted = nil
	printPruned(out.Stdout, total)
	fmt.Fprintf(out.Stdout, "Total reclaimed space: %s\n", humanSize(float64(total.SpaceReclaimed)))
	return nil
}

// stdinTerminal reports whether a person may answer a prompt.
func stdinTerminal() bool { return term.IsTerminal(int(os.Stdin.Fd())) }
