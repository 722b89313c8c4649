package main

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	ggregistry "github.com/google/go-containerregistry/pkg/registry"
	"github.com/rogpeppe/go-internal/testscript"
)

// registryStart [user:password] serves a registry (go-containerregistry's) on a free
// loopback port for the rest of the script and sets $REGISTRY to its host:port. With
// credentials it speaks Docker's token flow: /v2/ answers 401 with a Bearer challenge and
// /token hands out tokens only for the right basic credentials.
func registryStart(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: registry-start [user:password]")
	}
	var h http.Handler = ggregistry.New(ggregistry.Logger(log.New(io.Discard, "", 0)))
	if len(args) == 1 {
		user, pass, _ := strings.Cut(args[0], ":")
		h = &scriptTokenAuth{next: h, user: user, pass: pass, tokens: map[string]bool{}}
	}
	srv := httptest.NewServer(h)
	ts.Defer(srv.Close)
	ts.Setenv("REGISTRY", strings.TrimPrefix(srv.URL, "http://"))
}

type scriptTokenAuth struct {
	next       http.Handler
	user, pass string
	mu         sync.Mutex
	tokens     map[string]bool
}

func (a *scriptTokenAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		if u, p, ok := r.BasicAuth(); !ok || u != a.user || p != a.pass {
			http.Error(w, `{"errors":[{"code":"UNAUTHORIZED"}]}`, http.StatusUnauthorized)
			return
		}
		b := make([]byte, 16)
		rand.Read(b)
		tok := hex.EncodeToString(b)
		a.mu.Lock()
		a.tokens[tok] = true
		a.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"token": tok})
		return
	}
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	a.mu.Lock()
	ok := a.tokens[tok]
	a.mu.Unlock()
	if !ok {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="http://%s/token",service="script"`, r.Host))
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`)
		return
	}
	a.next.ServeHTTP(w, r)
}
