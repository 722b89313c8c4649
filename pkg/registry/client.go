package registry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/minibox/minibox/pkg/errdefs"
	"github.com/minibox/minibox/pkg/oci"
)

// Progress is one pull or push event: a layer's state and bytes so far.
type Progress struct {
	Ref     string
	Status  string // waiting, downloading, uploading, exists, complete, retrying
	Layer   string // 12 hex chars; "" for image-wide events
	Current int64
	Total   int64
}

// Client pulls and pushes. The zero value is not usable: call New.
type Client struct {
	log       *slog.Logger
	transport http.RoundTripper
	// Parallel is how many layers move at once.
	Parallel int
	// Attempts is how often one layer is tried before giving up (transient errors).
	Attempts int
	// Backoff is the wait before the second attempt, doubled after each.
	Backoff time.Duration
}

// New returns a client over DefaultTransport.
func New(log *slog.Logger) *Client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{log: log, transport: DefaultTransport(), Parallel: 4, Attempts: 4, Backoff: 500 * time.Millisecond}
}

func (c *Client) options(ctx context.Context, a *Auth) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuth(a.authenticator()),
		remote.WithTransport(c.transport),
		remote.WithUserAgent("minibox"),
		remote.WithRetryBackoff(remote.Backoff{Duration: c.Backoff, Factor: 2, Jitter: 0.1, Steps: c.Attempts}),
	}
}

// reference turns a minibox reference into go-containerregistry's.
func reference(r oci.Reference) (name.Reference, error) {
	s := r.Name()
	var opts []name.Option
	if IsLoopback(hostOnly(r.Domain)) {
		opts = append(opts, name.Insecure) // http is fine on loopback: tried after https
	}
	if r.Digest != "" {
		return name.NewDigest(s+"@"+r.Digest.String(), opts...)
	}
	return name.NewTag(s+":"+r.Tag, opts...)
}

func hostOnly(domain string) string {
	if h, _, err := net.SplitHostPort(domain); err == nil {
		return h
	}
	return domain
}

// classify maps registry errors to errdefs kinds and says what to do.
func classify(ref string, err error) error {
	if err == nil {
		return nil
	}
	var te *transport.Error
	if errors.As(err, &te) {
		switch te.StatusCode {
		case http.StatusUnauthorized:
			return fmt.Errorf("%s: %v; log in with \"minibox login\": %w", ref, err, errdefs.ErrUnauthorized)
		case http.StatusForbidden:
			return fmt.Errorf("%s: %v: %w", ref, err, errdefs.ErrForbidden)
		case http.StatusNotFound:
			return fmt.Errorf("%s: %v: %w", ref, err, errdefs.ErrNotFound)
		}
		for _, d := range te.Errors {
			switch d.Code {
			case transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode:
				return fmt.Errorf("%s: %v: %w", ref, err, errdefs.ErrNotFound)
			case transport.UnauthorizedErrorCode, transport.DeniedErrorCode:
				return fmt.Errorf("%s: %v; log in with \"minibox login\": %w", ref, err, errdefs.ErrUnauthorized)
			}
		}
	}
	return fmt.Errorf("%s: %w", ref, err)
}

// CheckAuth logs in to registry host with a, as POST /auth and `minibox login` need:
// nil if the registry accepts the credentials, ErrUnauthorized if not.
func (c *Client) CheckAuth(ctx context.Context, host string, a *Auth) error {
	if host == "" || host == "index.docker.io" {
		host = oci.DefaultDomain
	}
	var opts []name.Option
	if IsLoopback(hostOnly(host)) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return fmt.Errorf("registry %q: %v: %w", host, err, errdefs.ErrInvalid)
	}
	// A token scoped to nothing proves the credentials against token-auth registries;
	// the GET /v2/ below does for basic-auth ones.
	rejected := fmt.Errorf("login to %s: credentials rejected: %w", host, errdefs.ErrUnauthorized)
	rt, err := transport.NewWithContext(ctx, reg, a.authenticator(), c.transport, nil)
	if err != nil {
		if err := classify(host, err); errors.Is(err, errdefs.ErrUnauthorized) {
			return rejected
		}
		return classify(host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, reg.Scheme()+"://"+reg.RegistryStr()+"/v2/", nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: rt}).Do(req)
	if err != nil {
		return classify(host, err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized, http.StatusForbidden:
		return rejected
	}
	return fmt.Errorf("login to %s: registry answered %s", host, resp.Status)
}
