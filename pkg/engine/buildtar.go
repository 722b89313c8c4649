package engine

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/minibox/minibox/pkg/api"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/inroot"
	"github.com/minibox/minibox/pkg/registry"
)

// PrepareBuildFromArchive prepares a build whose context comes as a tar stream (Docker's
// POST /build) rather than a directory of the host: the tar is unpacked, entry by entry
// resolved by the kernel below a fresh directory of the data root's tmp, and the build
// file is read from there. r's context fields are ignored. The caller runs cleanup once
// the build is over (it removes the unpacked context).
func (e *Engine) PrepareBuildFromArchive(ctx context.Context, r api.BuildRequest, auth map[string]registry.Auth, tarStream io.Reader) (*PreparedBuild, func(), error) {
	dir, err := os.MkdirTemp(filepath.Join(e.Root, "tmp"), "build-context-")
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() { os.RemoveAll(dir) }
	root, err := inroot.OpenRoot(dir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	defer unix.Close(root)
	if err := image.ExtractInRoot(ctx, tarStream, root, "/", image.ExtractOptions{}); err != nil {
		cleanup()
		return nil, nil, errdefs.Invalid(fmt.Sprintf("build context: %v", err))
	}
	r.Context, r.ContextPath = "", ""
	pb, err := e.prepareBuild(r, auth, root, dir, dir)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return pb, cleanup, nil
}
