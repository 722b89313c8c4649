package registry

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/minibox/minibox/pkg/errdefs"
)

// Auth is Docker's AuthConfig, as X-Registry-Auth carries it (base64url JSON).
type Auth struct {
	Username      string `json:"username,omitempty"`
	Password      string `json:"password,omitempty"`
	Auth          string `json:"auth,omitempty"` // base64 "user:pass", config.json's form
	ServerAddress string `json:"serveraddress,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
	RegistryToken string `json:"registrytoken,omitempty"`
}

// Empty reports whether a carries no credentials (anonymous access).
func (a *Auth) Empty() bool {
	return a == nil || (a.Username == "" && a.Password == "" && a.Auth == "" && a.IdentityToken == "" && a.RegistryToken == "")
}

func (a *Auth) authenticator() authn.Authenticator {
	if a.Empty() {
		return authn.Anonymous
	}
	return authn.FromConfig(authn.AuthConfig{Username: a.Username, Password: a.Password, Auth: a.Auth,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken})
}

func decodeB64(h string) ([]byte, error) {
	h = strings.TrimSpace(h)
	for _, enc := range []*base64.Encoding{base64.URLEncoding, base64.RawURLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(h); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("not base64: %w", errdefs.ErrInvalid)
}

// DecodeAuthHeader reads an X-Registry-Auth header; "" is anonymous (nil).
func DecodeAuthHeader(h string) (*Auth, error) {
	if strings.TrimSpace(h) == "" {
		return nil, nil
	}
	b, err := decodeB64(h)
	if err != nil {
		return nil, fmt.Errorf("X-Registry-Auth: %w", err)
	}
	var a Auth
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("X-Registry-Auth: %v: %w", err, errdefs.ErrInvalid)
	}
	return &a, nil
}

// EncodeAuthHeader is the CLI's side of DecodeAuthHeader.
func EncodeAuthHeader(a *Auth) string {
	if a.Empty() {
		return ""
	}
	b, _ := json.Marshal(a)
	return base64.URLEncoding.EncodeToString(b)
}

// DecodeConfigHeader reads X-Registry-Config: every registry's credentials, keyed by
// registry host (the builder pulls bases from several).
func DecodeConfigHeader(h string) (map[string]Auth, error) {
	if strings.TrimSpace(h) == "" {
		return nil, nil
	}
	b, err := decodeB64(h)
	if err != nil {
		return nil, fmt.Errorf("X-Registry-Config: %w", err)
	}
	var m map[string]Auth
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("X-Registry-Config: %v: %w", err, errdefs.ErrInvalid)
	}
	return m, nil
}

// EncodeConfigHeader is the CLI's side of DecodeConfigHeader.
func EncodeConfigHeader(m map[string]Auth) string {
	if len(m) == 0 {
		return ""
	}
	b, _ := json.Marshal(m)
	return base64.URLEncoding.EncodeToString(b)
}

// ForRegistry picks host's credentials from a config map (nil when none). Docker Hub is
// filed under several historical keys.
func ForRegistry(m map[string]Auth, host string) *Auth {
	keys := []string{host, "https://" + host, "http://" + host}
	if host == "docker.io" || host == "index.docker.io" {
		keys = append(keys, "https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io")
	}
	for _, k := range keys {
		if a, ok := m[k]; ok {
			return &a
		}
	}
	return nil
}
