package buildsvc

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/engine/hostpath"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/registry"
)

// TarContext is a build context sent as a tar (Docker's POST /build), unpacked into a
// private directory of tmp/. Close removes it.
type TarContext struct {
	dir string
	// fd is held until Close: prune leaves alone a tmp/ entry the daemon holds open.
	fd int
}

// UnpackBuildContext unpacks a tar stream (plain, gzip or bzip2) of at most
// MINIBOX_MAX_IMPORT_SIZE bytes once decompressed (413 past it). Entries are created
// beneath the new directory only (the kernel resolves each inside it), with the daemon's
// ownership, without device nodes: a context is files for COPY, not a filesystem.
func (s *Service) UnpackBuildContext(ctx context.Context, r io.Reader) (*TarContext, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(6)
	var src io.Reader = br
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errdefs.Invalid("build context: " + err.Error())
		}
		defer zr.Close()
		src = zr
	case bytes.HasPrefix(magic, []byte("BZh")):
		src = bzip2.NewReader(br)
	case bytes.HasPrefix(magic, []byte{0xfd, '7', 'z', 'X', 'Z', 0}), bytes.HasPrefix(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return nil, errdefs.Invalid("build context: xz and zstd are not supported; send a plain, gzip or bzip2 tar")
	}
	dir, err := os.MkdirTemp(filepath.Join(s.cfg.Root, "tmp"), "context-")
	if err != nil {
		return nil, err
	}
	fd, err := inroot.OpenRoot(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	t := &TarContext{dir: dir, fd: fd}
	lr := hostpath.NewSizeLimit(ctx, src, s.cfg.MaxImportSize)
	err = image.ExtractInRoot(ctx, lr, fd, "/", image.ExtractOptions{AsCaller: true})
	if err == nil {
		// The tar's end padding, and gzip's checksum, still within the limit.
		_, err = io.Copy(io.Discard, lr)
	}
	if err = lr.Result(err); err != nil {
		t.Close()
		if errors.Is(err, errdefs.ErrTooLarge) || errors.Is(err, errdefs.ErrInvalid) || ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("unpack the build context: %w", err)
	}
	return t, nil
}

// Close removes the unpacked context.
func (t *TarContext) Close() error {
	if t.fd >= 0 {
		unix.Close(t.fd)
		t.fd = -1
	}
	return os.RemoveAll(t.dir)
}

// PrepareTarBuild checks a build of the unpacked context t, as PrepareBuild does for a
// directory of the host (r's context paths are ignored). The build file is a Dockerfile
// (File, relative to the context; Dockerfile when empty) read beneath the context.
func (s *Service) PrepareTarBuild(t *TarContext, r Request, auth map[string]registry.Auth) (*PreparedBuild, error) {
	r.ContextPath, r.Content, r.Dockerfile = t.dir, "", true
	if r.File == "" {
		r.File = "Dockerfile"
	}
	return prepareBuildIn(t.fd, t.dir, t.dir, r, auth)
}
