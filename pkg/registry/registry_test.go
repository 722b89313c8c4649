package registry

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	ggname "github.com/google/go-containerregistry/pkg/name"
	ggregistry "github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/image"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// tokenAuth puts Docker's token flow in front of a registry: /v2/ answers 401 with a
// Bearer challenge naming /token, which hands out tokens (to anyone when user is "", else
// only with the right basic credentials).
type tokenAuth struct {
	next       http.Handler
	user, pass string
	mu         sync.Mutex
	tokens     map[string]bool
	issued     int
}

func (a *tokenAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		if a.user != "" {
			u, p, ok := r.BasicAuth()
			if !ok || u != a.user || p != a.pass {
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
				return
			}
		}
		b := make([]byte, 16)
		rand.Read(b)
		tok := hex.EncodeToString(b)
		a.mu.Lock()
		a.tokens[tok] = true
		a.issued++
		a.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"token": tok})
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	valid := ok && a.tokens[tok]
	a.mu.Unlock()
	if !valid {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="test"`, r.Host))
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"token required"}]}`)
		return
	}
	a.next.ServeHTTP(w, r)
}

// flaky fails the first GET of every blob: once with a 503, once by cutting the body.
type flaky struct {
	next http.Handler
	mu   sync.Mutex
	hits map[string]int
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/sha256:") {
		f.mu.Lock()
		f.hits[r.URL.Path]++
		n := f.hits[r.URL.Path]
		f.mu.Unlock()
		switch n {
		case 1:
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		case 2:
			rec := httptest.NewRecorder()
			f.next.ServeHTTP(rec, r)
			body := rec.Body.Bytes()
			w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			w.WriteHeader(rec.Code)
			w.Write(body[:len(body)/2]) // the handler returns: the connection drops mid-body
			return
		}
	}
	f.next.ServeHTTP(w, r)
}

func startRegistry(t *testing.T, wrap func(http.Handler) http.Handler) string {
	t.Helper()
	var h http.Handler = ggregistry.New(ggregistry.Logger(log.New(io.Discard, "", 0)))
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h) // 127.0.0.1, a random port
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func layerTar(t testing.TB, files map[string]string) []byte {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for n, c := range files {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(c)), Typeflag: tar.TypeReg})
		tw.Write([]byte(c))
	}
	tw.Close()
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// localImage commits a two-layer image named name into a fresh store.
func localImage(t *testing.T, name string) (*image.Store, *image.Image) {
	t.Helper()
	s, err := image.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var layers []ocispec.Descriptor
	var diffs []digest.Digest
	for i, files := range []map[string]string{{"a": "one"}, {"b": "two", "c": strings.Repeat("x", 300000)}} {
		plain := layerTar(t, files)
		d, err := s.Content().Ingest(ctx, bytes.NewReader(gz(plain)), "")
		if err != nil {
			t.Fatal(err)
		}
		d.MediaType = ocispec.MediaTypeImageLayerGzip
		layers = append(layers, d)
		diffs = append(diffs, digest.FromBytes(plain))
		_ = i
	}
	cfg := ocispec.Image{Config: ocispec.ImageConfig{Cmd: []string{"/bin/sh"}}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffs}}
	img, err := s.Commit(ctx, name, cfg, layers)
	if err != nil {
		t.Fatal(err)
	}
	return s, img
}

func sameBlobs(t *testing.T, a, b *image.Store, img *image.Image) {
	t.Helper()
	for _, d := range append([]ocispec.Descriptor{img.Manifest.Config}, img.Layers...) {
		x, err1 := os.ReadFile(a.Content().Path(d.Digest))
		y, err2 := os.ReadFile(b.Content().Path(d.Digest))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("blob %s differs after the round trip (%v, %v)", d.Digest, err1, err2)
		}
	}
}

func TestPushPullTokenAuth(t *testing.T) {
	priv := &tokenAuth{user: "alice", pass: "s3cret", tokens: map[string]bool{}}
	host := startRegistry(t, func(h http.Handler) http.Handler { priv.next = h; return priv })
	ref := host + "/team/busy:v1"
	src, img := localImage(t, ref)
	ctx := context.Background()
	c := New(nil)
	creds := &Auth{Username: "alice", Password: "s3cret"}

	if _, err := c.Push(ctx, src, ref, nil, nil); !errors.Is(err, errdefs.ErrUnauthorized) {
		t.Fatalf("anonymous push = %v, want ErrUnauthorized", err)
	}
	var events []Progress
	d, err := c.Push(ctx, src, ref, creds, func(p Progress) { events = append(events, p) })
	if err != nil {
		t.Fatal(err)
	}
	if d != img.ManifestDigest {
		t.Errorf("pushed digest %s, local manifest %s", d, img.ManifestDigest)
	}
	if len(events) == 0 || events[len(events)-1].Status != "complete" {
		t.Errorf("push events %+v", events)
	}

	dst, _ := image.Open(t.TempDir(), nil)
	if _, err := c.Pull(ctx, dst, ref, oci.HostPlatform(), &Auth{Username: "alice", Password: "wrong"}, nil); !errors.Is(err, errdefs.ErrUnauthorized) {
		t.Fatalf("pull with a wrong password = %v, want ErrUnauthorized", err)
	}
	var landed []ocispec.Descriptor
	dst.OnLayer = func(d ocispec.Descriptor) { landed = append(landed, d) }
	events = nil
	got, err := c.Pull(ctx, dst, ref, oci.HostPlatform(), creds, func(p Progress) { events = append(events, p) })
	if err != nil {
		t.Fatal(err)
	}
	if got.ManifestDigest != img.ManifestDigest || got.ID != img.ID || got.Name != ref {
		t.Errorf("pulled %s %s %s, pushed %s %s", got.Name, got.ManifestDigest, got.ID, img.ManifestDigest, img.ID)
	}
	sameBlobs(t, src, dst, img)
	if len(landed) != 2 {
		t.Errorf("OnLayer called %d times, want 2", len(landed))
	}
	// A second pull finds every layer present.
	events = nil
	if _, err := c.Pull(ctx, dst, ref, oci.HostPlatform(), creds, func(p Progress) { events = append(events, p) }); err != nil {
		t.Fatal(err)
	}
	for _, e := range events {
		if e.Status != "exists" {
			t.Errorf("re-pull event %+v, want only exists", e)
		}
	}
	if err := c.CheckAuth(ctx, host, creds); err != nil {
		t.Errorf("CheckAuth(good) = %v", err)
	}
	if err := c.CheckAuth(ctx, host, &Auth{Username: "alice", Password: "nope"}); !errors.Is(err, errdefs.ErrUnauthorized) {
		t.Errorf("CheckAuth(bad) = %v, want ErrUnauthorized", err)
	}
}

func TestPullAnonymousTokenRetries(t *testing.T) {
	pub := &tokenAuth{tokens: map[string]bool{}}
	fl := &flaky{hits: map[string]int{}}
	host := startRegistry(t, func(h http.Handler) http.Handler { pub.next = h; fl.next = pub; return fl })
	ref := host + "/lib/app:1"
	src, img := localImage(t, ref)
	c := New(nil)
	c.Backoff = 10e6
	ctx := context.Background()
	if _, err := c.Push(ctx, src, ref, nil, nil); err != nil {
		t.Fatal(err)
	}
	dst, _ := image.Open(t.TempDir(), nil)
	got, err := c.Pull(ctx, dst, ref, oci.HostPlatform(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.ManifestDigest != img.ManifestDigest || pub.issued == 0 {
		t.Errorf("pulled %s (tokens issued %d), want %s", got.ManifestDigest, pub.issued, img.ManifestDigest)
	}
	sameBlobs(t, src, dst, img)
	fl.mu.Lock()
	for path, n := range fl.hits {
		if n < 3 {
			t.Errorf("%s fetched %d times; the 503 and the cut body should have cost two retries", path, n)
		}
	}
	if len(fl.hits) != 3 {
		t.Errorf("%d blobs fetched, want config and two layers", len(fl.hits))
	}
	fl.mu.Unlock()
	// By digest, too.
	byDigest := host + "/lib/app@" + img.ManifestDigest.String()
	if g, err := c.Pull(ctx, dst, byDigest, oci.HostPlatform(), nil, nil); err != nil || g.ManifestDigest != img.ManifestDigest {
		t.Errorf("pull by digest = %v, %v", g, err)
	}
	if _, err := c.Pull(ctx, dst, host+"/lib/missing:1", oci.HostPlatform(), nil, nil); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("pull of a missing image = %v, want ErrNotFound", err)
	}
}

// TestPullIndex pulls a multi-platform index: the host's manifest (gzip layer), or with a
// platform the arm64 one (zstd layer); the index digest is kept as the repo digest.
func TestPullIndex(t *testing.T) {
	host := startRegistry(t, nil)
	ref := host + "/multi/app:latest"
	mk := func(arch string, mt types.MediaType, layer []byte) v1.Image {
		img, err := mutate.AppendLayers(empty.Image, static.NewLayer(layer, mt))
		if err != nil {
			t.Fatal(err)
		}
		cf, _ := img.ConfigFile()
		cf = cf.DeepCopy()
		cf.OS, cf.Architecture = "linux", arch
		img, err = mutate.ConfigFile(img, cf)
		if err != nil {
			t.Fatal(err)
		}
		return mutate.MediaType(mutate.ConfigMediaType(img, types.OCIConfigJSON), types.OCIManifestSchema1)
	}
	var zbuf bytes.Buffer
	zw, _ := zstd.NewWriter(&zbuf)
	zw.Write(layerTar(t, map[string]string{"arch": "arm64"}))
	zw.Close()
	amd := mk("amd64", types.OCILayer, gz(layerTar(t, map[string]string{"arch": "amd64"})))
	arm := mk("arm64", types.OCILayerZStd, zbuf.Bytes())
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}},
		mutate.IndexAddendum{Add: arm, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "arm64", Variant: "v8"}}})
	tag, _ := ggname.NewTag(ref, ggname.Insecure)
	if err := remote.WriteIndex(tag, idx); err != nil {
		t.Fatal(err)
	}
	idxDigest, _ := idx.Digest()
	ctx := context.Background()
	c := New(nil)
	for arch, want := range map[string]v1.Image{"amd64": amd, "arm64": arm} {
		dst, _ := image.Open(t.TempDir(), nil)
		got, err := c.Pull(ctx, dst, ref, ocispec.Platform{OS: "linux", Architecture: arch}, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", arch, err)
		}
		wd, _ := want.Digest()
		if got.ManifestDigest.String() != wd.String() || got.RepoDigest.String() != idxDigest.String() || got.Config.Architecture != arch {
			t.Errorf("%s: pulled %s (repo %s, arch %s), want %s (index %s)", arch, got.ManifestDigest, got.RepoDigest, got.Config.Architecture, wd, idxDigest)
		}
		// Resolvable by the index digest users copy from the registry.
		if r, err := dst.Resolve(ref[:strings.LastIndex(ref, ":")] + "@" + idxDigest.String()); err != nil || r.ManifestDigest != got.ManifestDigest {
			t.Errorf("%s: resolve by index digest = %v, %v", arch, r, err)
		}
		raw, _ := want.RawManifest()
		stored, _ := os.ReadFile(dst.Content().Path(got.ManifestDigest))
		if !bytes.Equal(raw, stored) {
			t.Errorf("%s: stored manifest differs from the registry's", arch)
		}
		if os.Geteuid() == 0 {
			dirs, err := dst.LayerDirs(ctx, got)
			if err != nil {
				t.Fatalf("%s: unpack: %v", arch, err)
			}
			if b, _ := os.ReadFile(dirs[0] + "/arch"); string(b) != arch {
				t.Errorf("%s: unpacked arch file = %q", arch, b)
			}
		}
	}
	dst, _ := image.Open(t.TempDir(), nil)
	if _, err := c.Pull(ctx, dst, ref, ocispec.Platform{OS: "linux", Architecture: "s390x"}, nil, nil); !errors.Is(err, errdefs.ErrNotFound) || !strings.Contains(err.Error(), "linux/arm64") {
		t.Errorf("pull for a missing platform = %v", err)
	}
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	tr := loopbackOnly{http.DefaultTransport}
	for _, u := range []string{"http://10.1.2.3:5000/v2/", "http://example.com/v2/"} {
		req, _ := http.NewRequest("GET", u, nil)
		if _, err := tr.RoundTrip(req); !errors.Is(err, errdefs.ErrForbidden) {
			t.Errorf("%s: %v, want refused before any connection", u, err)
		}
	}
	for _, h := range []string{"localhost", "127.0.0.1", "127.9.9.9", "::1"} {
		if !IsLoopback(h) {
			t.Errorf("IsLoopback(%s) = false", h)
		}
	}
}

func TestAuthHeaders(t *testing.T) {
	a := &Auth{Username: "u", Password: "p", ServerAddress: "r.example"}
	got, err := DecodeAuthHeader(EncodeAuthHeader(a))
	if err != nil || *got != *a {
		t.Errorf("auth round trip = %+v, %v", got, err)
	}
	m, err := DecodeConfigHeader(EncodeConfigHeader(map[string]Auth{"https://index.docker.io/v1/": *a}))
	if err != nil || ForRegistry(m, "docker.io") == nil {
		t.Errorf("config round trip = %v, %v", m, err)
	}
}
