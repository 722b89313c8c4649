package image

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
	"github.com/minibox/minibox/pkg/testutil"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func importBusy(t *testing.T, s *Store, name string, gz bool) *Image {
	t.Helper()
	b := mkTar(t, gz,
		entry{hdr: tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755}},
		entry{hdr: tar.Header{Name: "bin/hello", Mode: 0o755}, body: "#!/bin/sh\necho " + name + "\n"},
		entry{hdr: tar.Header{Name: "etc/motd"}, body: name})
	img, err := s.Import(context.Background(), bytes.NewReader(b), name)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestImportResolveTagRemove(t *testing.T) {
	s := newStore(t)
	var landed []ocispec.Descriptor
	s.OnLayer = func(d ocispec.Descriptor) { landed = append(landed, d) }
	img := importBusy(t, s, "busy", false)
	if img.Name != "docker.io/library/busy:latest" || len(img.Layers) != 1 || len(img.Config.RootFS.DiffIDs) != 1 {
		t.Fatalf("imported %+v", img)
	}
	if img.Layers[0].MediaType != ocispec.MediaTypeImageLayerGzip || len(landed) != 1 || landed[0].Digest != img.Layers[0].Digest {
		t.Errorf("layer %+v, OnLayer saw %v", img.Layers[0], landed)
	}
	gzImg := importBusy(t, s, "ghcr.io/x/busy:1", true)
	for _, ref := range []string{"busy", "busy:latest", "docker.io/library/busy", img.ID.String(), img.ID.Encoded()[:12],
		img.ManifestDigest.String(), "busy@" + img.ManifestDigest.String()} {
		got, err := s.Resolve(ref)
		if err != nil || got.ID != img.ID {
			t.Errorf("Resolve(%q) = %v, %v", ref, got, err)
		}
	}
	if _, err := s.Resolve("nope"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("Resolve(nope) = %v", err)
	}
	if _, err := s.Tag("busy", "other:v1"); err != nil {
		t.Fatal(err)
	}
	list, err := s.List()
	if err != nil || len(list) != 3 {
		t.Fatalf("List = %d images, %v", len(list), err)
	}
	// The data root is an OCI layout with one entry per name.
	var idx ocispec.Index
	b, _ := os.ReadFile(filepath.Join(s.Root(), "index.json"))
	json.Unmarshal(b, &idx)
	names := map[string]bool{}
	for _, d := range idx.Manifests {
		if d.Annotations[oci.AnnotationRefName] != d.Annotations[oci.AnnotationImageName] {
			t.Errorf("entry annotations %v", d.Annotations)
		}
		names[d.Annotations[oci.AnnotationRefName]] = true
	}
	if !names["docker.io/library/other:v1"] || !names["ghcr.io/x/busy:1"] || len(names) != 3 {
		t.Errorf("index names %v", names)
	}
	// An ID with two names needs force.
	if _, err := s.Remove(img.ID.Encoded()[:12], false); !errors.Is(err, errdefs.ErrConflict) {
		t.Errorf("Remove(shared id) = %v, want conflict", err)
	}
	if got, err := s.Remove("other:v1", false); err != nil || len(got) != 1 || got[0] != "docker.io/library/other:v1" {
		t.Errorf("Remove(other:v1) = %v, %v", got, err)
	}
	refs, err := s.ReferencedBlobs()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []ocispec.Descriptor{img.Layers[0], img.Manifest.Config, gzImg.Layers[0]} {
		if !refs[d.Digest] {
			t.Errorf("ReferencedBlobs lacks %s", d.Digest)
		}
	}
	if !refs[img.ManifestDigest] || len(refs) != 6 {
		t.Errorf("ReferencedBlobs = %d blobs", len(refs))
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	s := newStore(t)
	a := importBusy(t, s, "busy", false)
	b := importBusy(t, s, "localhost:5000/team/app:2", true)
	var buf bytes.Buffer
	if err := s.Save(context.Background(), &buf, []string{"busy", "localhost:5000/team/app:2"}); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(t.TempDir(), "out.tar")
	os.WriteFile(archive, buf.Bytes(), 0o644)

	s2 := newStore(t)
	var landed int
	s2.OnLayer = func(ocispec.Descriptor) { landed++ }
	imgs, err := s2.Load(context.Background(), bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 2 || landed != 2 {
		t.Fatalf("loaded %d images, %d layers landed", len(imgs), landed)
	}
	for _, want := range []*Image{a, b} {
		got, err := s2.Resolve(want.Name)
		if err != nil || got.ManifestDigest != want.ManifestDigest || got.ID != want.ID {
			t.Errorf("after load, %s = %v, %v", want.Name, got, err)
		}
	}
	// Third-party readers accept the same file as a docker archive and an OCI archive.
	if _, err := exec.LookPath("skopeo"); err != nil {
		testutil.Unavailable(t, "skopeo not installed (apt-get install skopeo umoci)")
	}
	for _, ref := range []string{"docker-archive:" + archive + ":busy:latest", "oci-archive:" + archive + ":latest"} {
		out, err := exec.Command("skopeo", "inspect", "--raw", ref).CombinedOutput()
		if err != nil {
			t.Errorf("skopeo inspect %s: %v\n%s", ref, err, out)
		}
	}
	out, err := exec.Command("skopeo", "inspect", "oci:"+s.Root()+":docker.io/library/busy:latest").CombinedOutput()
	if err != nil || !strings.Contains(string(out), a.Layers[0].Digest.String()) {
		t.Errorf("skopeo inspect oci:<root>: %v\n%s", err, out)
	}
}

// TestLoadForeignArchives loads archives written by skopeo (docker-archive, as docker save
// writes them, and oci-archive) and checks umoci reads the data root.
func TestLoadForeignArchives(t *testing.T) {
	if _, err := exec.LookPath("skopeo"); err != nil {
		testutil.Unavailable(t, "skopeo not installed (apt-get install skopeo umoci)")
	}
	s := newStore(t)
	a := importBusy(t, s, "busy", true)
	dir := t.TempDir()
	src := "oci:" + s.Root() + ":docker.io/library/busy:latest"
	for _, dst := range []string{"docker-archive:" + dir + "/d.tar:foreign/busy:v2", "oci-archive:" + dir + "/o.tar:foreign/oci:v3"} {
		if out, err := exec.Command("skopeo", "copy", "-q", src, dst).CombinedOutput(); err != nil {
			t.Fatalf("skopeo copy %s: %v\n%s", dst, err, out)
		}
	}
	s2 := newStore(t)
	for file, name := range map[string]string{"d.tar": "docker.io/foreign/busy:v2", "o.tar": "docker.io/foreign/oci:v3"} {
		f, err := os.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		imgs, err := s2.Load(context.Background(), f)
		f.Close()
		if err != nil {
			t.Fatalf("load %s: %v", file, err)
		}
		if len(imgs) != 1 || imgs[0].Name != name || imgs[0].ID != a.ID {
			t.Errorf("load %s = %+v, want %s with ID %s", file, imgs[0], name, a.ID)
		}
		if _, err := s2.LayerDirs(context.Background(), imgs[0]); err != nil && os.Geteuid() == 0 {
			t.Errorf("unpack %s: %v", file, err)
		}
	}
	if _, err := exec.LookPath("umoci"); err == nil {
		out, err := exec.Command("umoci", "ls", "--layout", s2.Root()).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "docker.io/foreign/oci:v3") {
			t.Errorf("umoci ls: %v\n%s", err, out)
		}
	}
}

// TestLoadOriginalArchive loads the original minibox's archive shape: meta.json naming
// the image and its manifest, beside blobs/sha256.
func TestLoadOriginalArchive(t *testing.T) {
	s := newStore(t)
	img := importBusy(t, s, "old", true)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg})
		tw.Write(b)
	}
	for _, d := range append([]ocispec.Descriptor{img.Manifest.Config, {Digest: img.ManifestDigest}}, img.Layers...) {
		b, _ := os.ReadFile(s.Content().Path(d.Digest))
		add("blobs/sha256/"+d.Digest.Encoded(), b)
	}
	meta, _ := json.Marshal(map[string]string{"name": "old:1", "manifest_digest": img.ManifestDigest.String()})
	add("meta.json", meta)
	tw.Close()
	s2 := newStore(t)
	imgs, err := s2.Load(context.Background(), &buf)
	if err != nil || len(imgs) != 1 || imgs[0].Name != "docker.io/library/old:1" || imgs[0].ID != img.ID {
		t.Fatalf("Load = %v, %v", imgs, err)
	}
}

// TestLoadRefusesBadBlobs checks that an archive whose blob does not match its name is
// refused and names nothing.
func TestLoadRefusesBadBlobs(t *testing.T) {
	s := newStore(t)
	importBusy(t, s, "busy", false)
	var buf bytes.Buffer
	if err := s.Save(context.Background(), &buf, []string{"busy"}); err != nil {
		t.Fatal(err)
	}
	// Flip a byte inside the config blob's data (its history says "minibox import").
	b := buf.Bytes()
	off := bytes.Index(b, []byte("minibox import"))
	if off < 0 {
		t.Fatal("config not found in the archive")
	}
	b[off] ^= 0xff
	s2 := newStore(t)
	if _, err := s2.Load(context.Background(), bytes.NewReader(b)); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Load of a tampered archive = %v, want ErrInvalid", err)
	}
	if list, _ := s2.List(); len(list) != 0 {
		t.Errorf("a tampered archive named %d images", len(list))
	}
}

// TestLoadWritesNothingByName feeds an archive whose member names try to escape: load
// stores members only as verified blobs, so nothing lands outside the data root.
func TestLoadWritesNothingByName(t *testing.T) {
	outside := t.TempDir()
	s := newStore(t)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, n := range []string{"../../../../../../" + outside + "/evil", outside + "/evil2", "blobs/sha256/../../../evil3"} {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: 1, Typeflag: tar.TypeReg})
		tw.Write([]byte("x"))
	}
	tw.WriteHeader(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: outside})
	tw.Close()
	if _, err := s.Load(context.Background(), &buf); !errors.Is(err, errdefs.ErrInvalid) {
		t.Fatalf("Load = %v, want ErrInvalid (no image in it)", err)
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("outside dir holds %v", ents)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(s.Root()), "evil3")); err == nil {
		t.Error("evil3 written beside the data root")
	}
}

// TestSetNamesAllOrNone: a build's tags land together; a name refused refuses them all,
// and the image's unnamed entry gives way to the names.
func TestSetNamesAllOrNone(t *testing.T) {
	s := newStore(t)
	img := importBusy(t, s, "busy", false)
	md := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: img.ManifestDigest}
	if err := s.SetNames([]string{"one:1", "Bad Name!"}, md); err == nil {
		t.Fatalf("SetNames with an invalid name succeeded")
	}
	if _, err := s.Resolve("one:1"); !errors.Is(err, errdefs.ErrNotFound) {
		t.Errorf("one:1 was set although another name was refused: %v", err)
	}
	if err := s.SetNames(nil, md); err != nil {
		t.Fatal(err)
	}
	if err := s.SetNames([]string{"one:1", "two:2", "one:1"}, md); err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	b, _ := os.ReadFile(filepath.Join(s.Root(), "index.json"))
	json.Unmarshal(b, &idx)
	var names []string
	for _, d := range idx.Manifests {
		if d.Digest == img.ManifestDigest {
			names = append(names, entryName(d))
		}
	}
	want := "docker.io/library/busy:latest docker.io/library/one:1 docker.io/library/two:2"
	if strings.Join(names, " ") != want {
		t.Errorf("entries for the manifest: %q, want %q", names, want)
	}
}

// TestBuiltTime: a build's time is kept in index.json (not in the config, whose digest
// stays reproducible), read back with the image and kept by a new tag.
func TestBuiltTime(t *testing.T) {
	s := newStore(t)
	img := importBusy(t, s, "busy", false)
	if img.Built != nil {
		t.Fatalf("an imported image has a build time: %v", img.Built)
	}
	md := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: img.ManifestDigest}
	at := time.Date(2026, 5, 4, 3, 2, 1, 0, time.UTC)
	if err := s.SetBuiltNames([]string{"built:1"}, md, at); err != nil {
		t.Fatal(err)
	}
	got, err := s.Resolve("built:1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Built == nil || !got.Built.Equal(at) || got.ID != img.ID {
		t.Errorf("built:1: Built %v, ID %s; want %v, %s", got.Built, got.ID, at, img.ID)
	}
	if _, err := s.Tag("built:1", "retagged:2"); err != nil {
		t.Fatal(err)
	}
	if got, err = s.Resolve("retagged:2"); err != nil || got.Built == nil || !got.Built.Equal(at) {
		t.Errorf("a tag of a built image lost its build time: %v %v", got, err)
	}
}
