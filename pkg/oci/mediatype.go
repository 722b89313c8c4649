package oci

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/minibox/minibox/pkg/errdefs"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types minibox reads besides the OCI ones in image-spec.
const (
	DockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	DockerConfig       = "application/vnd.docker.container.image.v1+json"
	DockerLayer        = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	DockerLayerPlain   = "application/vnd.docker.image.rootfs.diff.tar"
	DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	LayerZstd          = "application/vnd.oci.image.layer.v1.tar+zstd"
)

// Annotations on index.json entries: OCI tools read the first, containerd the second.
const (
	AnnotationRefName   = ocispec.AnnotationRefName
	AnnotationImageName = "io.containerd.image.name"
)

// IsManifest reports whether mt is a single-image manifest.
func IsManifest(mt string) bool { return mt == ocispec.MediaTypeImageManifest || mt == DockerManifest }

// IsIndex reports whether mt is a multi-platform index or manifest list.
func IsIndex(mt string) bool { return mt == ocispec.MediaTypeImageIndex || mt == DockerManifestList }

// Compression of a layer, by media type.
type Compression int

const (
	Uncompressed Compression = iota
	Gzip
	Zstd
)

// HostPlatform is the platform images are resolved to: this binary's.
func HostPlatform() ocispec.Platform {
	return ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH}
}

// ParsePlatform reads "os/arch[/variant]"; empty is the host's.
func ParsePlatform(s string) (ocispec.Platform, error) {
	if s == "" {
		return HostPlatform(), nil
	}
	var p ocispec.Platform
	parts := strings.SplitN(s, "/", 3)
	switch len(parts) {
	case 3:
		p.Variant = parts[2]
		fallthrough
	case 2:
		p.OS, p.Architecture = parts[0], parts[1]
	default:
		return p, invalidPlatform(s)
	}
	if p.OS == "" || p.Architecture == "" {
		return p, invalidPlatform(s)
	}
	return p, nil
}

// MatchPlatform reports whether an index entry's platform p serves want. A missing
// variant on either side matches, as containerd's default matcher does for amd64.
func MatchPlatform(want ocispec.Platform, p *ocispec.Platform) bool {
	if p == nil {
		return false
	}
	if p.OS != want.OS || p.Architecture != want.Architecture {
		return false
	}
	return want.Variant == "" || p.Variant == "" || want.Variant == p.Variant
}

func invalidPlatform(s string) error {
	return fmt.Errorf("platform %q: expected os/arch[/variant]: %w", s, errdefs.ErrInvalid)
}
