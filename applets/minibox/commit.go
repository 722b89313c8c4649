package minibox

import (
	"context"
	"fmt"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/api/client"
)

// CommitCmd is `commit [-a AUTHOR] [-m MSG] [-c CHANGE]... [-p=false] CONTAINER [REPO[:TAG]]`.
type CommitCmd struct {
	Author    string   `short:"a" placeholder:"AUTHOR" help:"Author (\"Jane Doe <jane@example.com>\")."`
	Message   string   `short:"m" placeholder:"MSG" help:"Commit message (the history's comment)."`
	Change    []string `short:"c" sep:"none" placeholder:"INSTRUCTION" help:"Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR (repeatable)."`
	Pause     bool     `short:"p" default:"true" negatable:"" help:"Freeze a running container while its changes are read (--pause=false: do not)."`
	Container string   `arg:"" name:"container" help:"The container."`
	Reference string   `arg:"" optional:"" name:"repository[:tag]" help:"Name of the new image (none: unnamed)."`
}

func (c *CommitCmd) Run(ctx context.Context, cl *client.Client, out *Output) error {
	id, err := cl.Commit(ctx, &api.CommitRequest{Container: c.Container, Reference: c.Reference, Comment: c.Message,
		Author: c.Author, Changes: c.Change, Pause: c.Pause})
	if err != nil {
		return err
	}
	fmt.Fprintln(out.Stdout, id)
	return nil
}
