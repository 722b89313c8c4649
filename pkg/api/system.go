package api

// PruneReport answers POST /system/prune: what was removed and the disk bytes freed
// (BytesFreed counts everything, the build cache included).
type PruneReport struct {
	BlobsRemoved         int   `json:"blobs_removed"`
	BytesFreed           int64 `json:"bytes_freed"`
	FuseMountsKilled     int   `json:"fuse_mounts_killed"`
	ExtractedRemoved     int   `json:"extracted_removed"`
	TmpRemoved           int   `json:"tmp_removed"`
	BuildCacheRemoved    int   `json:"build_cache_removed"`
	BuildCacheBytesFreed int64 `json:"build_cache_bytes_freed"`
}

// Usage is one kind's share of the data root: how many, their disk bytes, and how many of
// those bytes a prune (with --build-cache for the build cache) would free.
type Usage struct {
	Count            int   `json:"count"`
	SizeBytes        int64 `json:"size_bytes"`
	ReclaimableBytes int64 `json:"reclaimable_bytes"`
}

// DiskUsage answers GET /system/df. Sizes are allocated disk bytes; a file hard-linked
// into two kinds counts in both, and once in Total.
type DiskUsage struct {
	Images     Usage `json:"images"`     // named images: their blobs (manifests, configs, layers)
	Containers Usage `json:"containers"` // containers/<id>: upper layers, logs
	Volumes    Usage `json:"volumes"`    // volumes/<name>
	BuildCache Usage `json:"build_cache"`
	Extracted  Usage `json:"extracted"`  // unpacked layers
	LazyCache  Usage `json:"lazy_cache"` // cache/<hex>; count = mounted lazy layers
	Orphans    Usage `json:"orphans"`    // blobs no image or container references
	Tmp        Usage `json:"tmp"`
	Total      Usage `json:"total"`
	// Items lists every object when asked with ?verbose=1 (df -v).
	Items []UsageItem `json:"items,omitempty"`
}

// UsageItem is one object of df -v.
type UsageItem struct {
	Kind        string `json:"kind"` // image, container, volume, build_cache, extracted, lazy, orphan
	Name        string `json:"name"`
	SizeBytes   int64  `json:"size_bytes"`
	Reclaimable bool   `json:"reclaimable"`
	Detail      string `json:"detail,omitempty"`
}

// PruneResult answers POST /containers/prune, /images/prune, /volumes/prune and
// /build/prune: what went, and the disk bytes freed.
type PruneResult struct {
	ContainersDeleted []string       `json:"containers_deleted,omitempty"`
	ImagesDeleted     []ImageDeleted `json:"images_deleted,omitempty"`
	VolumesDeleted    []string       `json:"volumes_deleted,omitempty"`
	CachesDeleted     []string       `json:"caches_deleted,omitempty"`
	SpaceReclaimed    int64          `json:"space_reclaimed"`
}

// ImageDeleted is one line of an image removal: a name untagged or an image deleted.
type ImageDeleted struct {
	Untagged string `json:"untagged,omitempty"`
	Deleted  string `json:"deleted,omitempty"`
}
