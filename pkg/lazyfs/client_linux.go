package lazyfs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/opencontainers/go-digest"
)

// Client talks to the lazyfs server of one data root, starting it when none answers.
type Client struct {
	Paths
	// Command makes the command that runs the server (minibox-lazyfs --root <root>); the
	// client detaches it into its own session with its log in lazy/.lazyfs.log.
	Command func() *exec.Cmd
}

// Mount makes sure layer d is mounted at lazy/<hex> and returns that directory.
func (c *Client) Mount(ctx context.Context, d digest.Digest) (string, error) {
	if err := c.Ensure(ctx); err != nil {
		return "", err
	}
	_, err := c.call(ctx, request{Op: "mount", Layer: d})
	if errors.Is(err, errdefs.ErrUnavailable) {
		// The server may have just stopped for being idle: start another, once.
		if err = c.Ensure(ctx); err == nil {
			_, err = c.call(ctx, request{Op: "mount", Layer: d})
		}
	}
	if err != nil {
		return "", fmt.Errorf("lazy mount %s: %w", d.Encoded()[:12], err)
	}
	return c.Paths.Mount(d), nil
}

// Unmount detaches layer d lazily; a layer not mounted is no error.
func (c *Client) Unmount(ctx context.Context, d digest.Digest) error {
	_, err := c.call(ctx, request{Op: "unmount", Layer: d})
	return err
}

// List returns the layers the running server has mounted (none when no server runs).
func (c *Client) List(ctx context.Context) ([]digest.Digest, error) {
	r, err := c.call(ctx, request{Op: "list"})
	if errors.Is(err, errdefs.ErrUnavailable) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return r.Mounts, nil
}

// Ping returns the server's PID, or an ErrUnavailable error when none answers.
func (c *Client) Ping(ctx context.Context) (int, error) {
	r, err := c.call(ctx, request{Op: "ping"})
	if err != nil {
		return 0, err
	}
	return r.PID, nil
}

// Ensure starts the server unless one answers, and waits until it does.
func (c *Client) Ensure(ctx context.Context) error {
	if _, err := c.Ping(ctx); err == nil {
		return nil
	}
	if c.Command == nil {
		return fmt.Errorf("lazyfs server for %s is not running: %w", c.Root, errdefs.ErrUnavailable)
	}
	if err := os.MkdirAll(filepath.Join(c.Root, "lazy"), 0o700); err != nil {
		return err
	}
	logf, err := os.OpenFile(filepath.Join(c.Root, "lazy", LogName), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := c.Command()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, logf, logf
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start lazyfs: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reap it if it ends while we live
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := c.Ping(ctx); err == nil {
			return nil
		}
		select {
		case err := <-exited:
			// Another daemon's server may have won the lock between our ping and start.
			if _, perr := c.Ping(ctx); perr == nil {
				return nil
			}
			return fmt.Errorf("lazyfs exited at start (%v); see %s", err, filepath.Join(c.Root, "lazy", LogName))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("lazyfs did not answer within 10s: %w", errdefs.ErrUnavailable)
		}
	}
}

func (c *Client) call(ctx context.Context, req request) (*response, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", c.Socket())
	if err != nil {
		return nil, fmt.Errorf("lazyfs: %v: %w", err, errdefs.ErrUnavailable)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	if err := json.NewEncoder(conn).Encode(req); err != nil {
		return nil, err
	}
	var resp response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		return nil, fmt.Errorf("lazyfs %s: %w", req.Op, err)
	}
	if resp.Error != "" {
		return nil, errors.New(resp.Error)
	}
	return &resp, nil
}
