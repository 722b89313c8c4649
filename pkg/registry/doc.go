// Package registry speaks the registry v2 protocol for pull, push and login checks:
// anonymous bearer tokens from the WWW-Authenticate challenge, basic auth from the
// credentials the CLI sends (Docker's X-Registry-Auth), manifest lists and OCI indexes
// resolved to one platform, gzip, zstd and plain layers downloaded in parallel, every
// digest and size verified, retries on transient errors, and plain HTTP only to loopback.
// The wire protocol comes from go-containerregistry's remote and transport packages; what
// lands on disk goes through pkg/image and pkg/content. It keeps no credentials.
package registry
