package api

import "time"

// ImageSummary is one row of GET /images. Name and SizeBytes are the original's keys
// (Name familiar, "redis:7"; size = manifest, config and compressed layers).
type ImageSummary struct {
	Name       string    `json:"name"`
	SizeBytes  int64     `json:"size_bytes"`
	Repository string    `json:"repository"` // familiar; "<none>" for an unnamed image
	Tag        string    `json:"tag"`        // "<none>" when unnamed or pulled by digest
	ID         string    `json:"id"`         // sha256:<config digest>
	Digest     string    `json:"digest"`     // the registry's digest (an index's), else the manifest's
	Created    time.Time `json:"created"`
}

// ImageInspect answers GET /images/inspect in Docker's shape, limited to what minibox has.
type ImageInspect struct {
	ID           string              `json:"Id"`
	RepoTags     []string            `json:"RepoTags"`
	RepoDigests  []string            `json:"RepoDigests"`
	Created      *time.Time          `json:"Created,omitempty"`
	Author       string              `json:"Author,omitempty"`
	Architecture string              `json:"Architecture"`
	Variant      string              `json:"Variant,omitempty"`
	OS           string              `json:"Os"`
	Size         int64               `json:"Size"`
	Config       ImageConfig         `json:"Config"`
	RootFS       ImageRootFS         `json:"RootFS"`
	Manifest     ImageManifestInfo   `json:"Manifest"`
	History      []ImageHistoryEntry `json:"History,omitempty"`
}

// ImageConfig is the runtime part of an image config (Docker's key names).
type ImageConfig struct {
	User         string              `json:"User,omitempty"`
	ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
	Env          []string            `json:"Env,omitempty"`
	Entrypoint   []string            `json:"Entrypoint,omitempty"`
	Cmd          []string            `json:"Cmd,omitempty"`
	Volumes      map[string]struct{} `json:"Volumes,omitempty"`
	WorkingDir   string              `json:"WorkingDir,omitempty"`
	Labels       map[string]string   `json:"Labels,omitempty"`
	StopSignal   string              `json:"StopSignal,omitempty"`
	// Docker's extensions of the OCI config.
	Healthcheck *ImageHealthcheck `json:"Healthcheck,omitempty"`
	OnBuild     []string          `json:"OnBuild,omitempty"` // ONBUILD triggers, run when the image is a base
	Shell       []string          `json:"Shell,omitempty"`
}

// ImageHealthcheck is an image's HEALTHCHECK as Docker shows it; durations in nanoseconds.
type ImageHealthcheck struct {
	Test        []string `json:"Test,omitempty"`
	Interval    int64    `json:"Interval,omitempty"`
	Timeout     int64    `json:"Timeout,omitempty"`
	StartPeriod int64    `json:"StartPeriod,omitempty"`
	Retries     int      `json:"Retries,omitempty"`
}

// ImageRootFS lists the layers' uncompressed digests (diff_ids).
type ImageRootFS struct {
	Type   string   `json:"Type"`
	Layers []string `json:"Layers"`
}

// ImageManifestInfo is the stored manifest: its digest, media type and layer blobs.
type ImageManifestInfo struct {
	Digest    string       `json:"Digest"`
	MediaType string       `json:"MediaType"`
	Layers    []ImageLayer `json:"Layers"`
}

// ImageLayer is one layer blob.
type ImageLayer struct {
	Digest    string `json:"Digest"`
	MediaType string `json:"MediaType"`
	Size      int64  `json:"Size"`
}

// ImageHistoryEntry is one step of the image's history.
type ImageHistoryEntry struct {
	Created    *time.Time `json:"Created,omitempty"`
	CreatedBy  string     `json:"CreatedBy,omitempty"`
	Comment    string     `json:"Comment,omitempty"`
	EmptyLayer bool       `json:"EmptyLayer,omitempty"`
}

// PullEvent is one line of the pull and push streams. Per layer: status waiting,
// downloading/uploading (current of total bytes), retrying, exists, complete. The last
// line is {"status":"done","ref","digest"}.
type PullEvent struct {
	Ref     string `json:"ref"`
	Status  string `json:"status"`
	Layer   string `json:"layer,omitempty"`
	Current int64  `json:"current,omitempty"`
	Total   int64  `json:"total,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// PullDone is PullEvent's Status on the last line of a pull or push.
const PullDone = "done"

// ImageRemoved answers POST /images/remove.
type ImageRemoved struct {
	Untagged []string `json:"untagged"`
}

// ImageTagged answers POST /images/tag (201).
type ImageTagged struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// ImagesLoaded answers POST /images/load: the familiar names loaded and every image's ID.
type ImagesLoaded struct {
	Loaded []string `json:"loaded"`
	IDs    []string `json:"ids"`
}

// ImageImported answers POST /images/import (201).
type ImageImported struct {
	Name string `json:"name"`
	ID   string `json:"id"`
}

// AuthRequest is the body of POST /auth.
type AuthRequest struct {
	Registry string `json:"registry"`
	Username string `json:"username"`
	Password string `json:"password"`
}
