package imagesvc

import (
	"archive/tar"
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
)

// makeRoot makes the directories of a data root the service works in (the daemon's
// skeleton, which the engine makes before it opens the service).
func makeRoot(t testing.TB, root string) {
	t.Helper()
	for _, d := range []string{"blobs/sha256", "extracted", "lazy", "cache", "layers", "tmp", "containers", "volumes"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

// openService opens a service on cfg.Root (a fresh one when empty).
func openService(t testing.TB, cfg Config, d Deps) *Service {
	t.Helper()
	if cfg.Root == "" {
		cfg.Root = t.TempDir()
	}
	makeRoot(t, cfg.Root)
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s, err := New(cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// imagesService is a service on a fresh root that only reads and writes images.
func imagesService(t *testing.T) *Service {
	t.Helper()
	return openService(t, Config{}, Deps{})
}

func rootfsTar(t *testing.T) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	tw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg})
	tw.Write([]byte("hi"))
	tw.Close()
	return b.Bytes()
}

// users is a containers core whose containers use the images and layers it names.
type users struct {
	images map[string][]string // config digest → container names
	layers map[digest.Digest]bool
}

func (u users) ImageUsers(id digest.Digest) []string { return u.images[id.String()] }

func (u users) ContainerLayers() (map[digest.Digest]bool, error) { return u.layers, nil }
