package main

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/minibox/minibox/"

// depRule forbids packages matching from to depend (directly or not) on any package
// whose import path contains one of banned; a banned path ending in "$" is that package
// alone (pkg/engine$: the engine, not its services below it).
type depRule struct {
	why    string
	from   func(pkg string) bool
	banned []string
	allow  []string // exact import paths exempt from banned
}

func under(prefix string) func(string) bool {
	return func(pkg string) bool { return strings.HasPrefix(pkg, module+prefix) }
}

func is(names ...string) func(string) bool {
	return func(pkg string) bool {
		for _, n := range names {
			if pkg == module+n {
				return true
			}
		}
		return false
	}
}

var depRules = []depRule{
	{"imports go down: library packages never reach into the applets", under("pkg/"), []string{module + "applets/"}, nil},
	{"the engine is one edge's service, not an HTTP server, and speaks its own types: its edges convert them to wire types", under("pkg/engine"),
		[]string{"fasthttp", module + "pkg/api", module + "pkg/api/server", module + "pkg/api/client", module + "pkg/dockerapi", "github.com/moby/moby/"}, nil},
	{"the engine's services speak the engine's own types: no wire types, no HTTP, and never the engine above them", is("pkg/engine/hostpath", "pkg/engine/volumesvc", "pkg/engine/runspec", "pkg/engine/netsvc",
		"pkg/engine/events", "pkg/engine/execsvc", "pkg/engine/ctrlist", "pkg/engine/attachsvc", "pkg/engine/dataroot", "pkg/engine/restartpolicy", "pkg/engine/warmpool", "pkg/engine/health", "pkg/engine/ctrio", "pkg/engine/ctrstore", "pkg/engine/rundir"),
		[]string{module + "pkg/api", module + "pkg/dockerapi", "fasthttp", "net/http", "github.com/moby/moby/", module + "pkg/engine$"}, nil},
	{"Docker's API is a second edge over the engine: it converts and calls the engine, not the native API", under("pkg/dockerapi"),
		[]string{module + "pkg/api/server", module + "pkg/api/client", "github.com/moby/moby/client"}, nil},
	{"Docker's API conversions are pure: no transport and no server, so they are tested without a daemon", is("pkg/dockerapi/dockerconv"),
		[]string{"fasthttp", module + "pkg/api/server", module + "pkg/api/client", module + "pkg/dockerapi", "github.com/moby/moby/client"}, nil},
	{"the raw connections under Docker's API know no routes, wire types or engine", is("pkg/dockerapi/rawconn"),
		[]string{"fasthttp", "net/http", module + "pkg/api", module + "pkg/engine", module + "pkg/dockerapi", "github.com/moby/moby/"}, nil},
	{"wire types carry no transport", is("pkg/api"), []string{"fasthttp", "net/http"}, nil},
	{"a container's configuration is the engine's own model: no wire types (pkg/api/ctrreq converts at the edge), and a leaf the CLI may link", is("pkg/ctrconfig", "pkg/netport"),
		[]string{module + "pkg/api", module + "pkg/network", module + "pkg/engine", "github.com/moby/moby/", "fasthttp"}, nil},
	{"Docker's shapes are a conversion between wire types: no transport, no engine", is("pkg/api/dockershape"),
		[]string{"fasthttp", "net/http", module + "pkg/engine", module + "pkg/api/server", module + "pkg/api/client", module + "pkg/dockerapi", "github.com/moby/moby/client"}, nil},
	{"a container's PID 1 stays small", is("applets/boxinit"),
		[]string{"fasthttp", "go-fuse", "kong", "net/http", "github.com/moby/moby/", module + "pkg/engine", module + "pkg/api", module + "pkg/dockerapi", module + "applets/minibox", module + "applets/miniboxd", module + "applets/shim"}, nil},
	{"a shim per container stays small", is("applets/shim"),
		[]string{"fasthttp", "go-fuse", "kong", "net/http", "github.com/moby/moby/", module + "pkg/engine", module + "pkg/api", module + "pkg/dockerapi", module + "applets/minibox", module + "applets/miniboxd"}, nil},
	{"a container's shim and init run a program of their own that links their packages and leaves only: each of a container's two processes pays for what it links",
		is("cmd/minibox-shim"),
		[]string{"runtime/metrics", "fasthttp", "go-fuse", "kong", "net/http", "github.com/moby/", "compose-spec", "miekg/dns", "google/nftables", "go-containerregistry", "klauspost", "protobuf", "yaml",
			module + "pkg/engine", module + "pkg/api", module + "pkg/dockerapi", module + "pkg/network", module + "pkg/image", module + "pkg/shimclient", module + "applets/minibox"}, nil},
	{"minibox runs shims and inits from the embedded program (pkg/shimexe), not as applets of its own", func(pkg string) bool { return pkg == strings.TrimSuffix(module, "/") },
		[]string{module + "applets/shim", module + "applets/boxinit"}, nil},
	{"the CLI reaches the daemon only through the client", is("applets/minibox"),
		[]string{module + "pkg/engine", module + "pkg/api/server", module + "pkg/dockerapi", module + "pkg/shimclient", module + "pkg/network", "fasthttp/router"}, nil},
	{"every process of the binary pays its packages' init: compose-go's loader and its JSON-schema compiler stay out (pkg/compose loads with its own pipeline)",
		func(pkg string) bool { return pkg == strings.TrimSuffix(module, "/") },
		[]string{"santhosh-tekuri/jsonschema", "compose-go/v2/loader", "compose-go/v2/schema", "compose-go/v2/cli"}, nil},
	{"the shim's protocol and files are spoken by init and the shim: no HTTP, no engine", is("pkg/shimapi", "pkg/shimfiles"),
		[]string{"fasthttp", "net/http", module + "pkg/engine", module + "pkg/api"}, nil},
	{"the build's frontends, graph, ignore rules and layer view run nothing, store nothing and know no engine", is("pkg/build/graph", "pkg/build/dockerfile", "pkg/build/miniboxfile", "pkg/build/ignore", "pkg/build/layerview"),
		[]string{module + "pkg/engine", module + "pkg/shimclient", module + "pkg/image", module + "pkg/content", module + "pkg/registry", module + "pkg/spec", "net/http", "fasthttp"}, nil},
	{"loading a Compose project reads files only: it neither runs nor reaches the daemon", is("pkg/compose/loader"),
		[]string{module + "pkg/api", module + "pkg/engine", "net/http", "fasthttp"}, nil},
	{"the image and build services speak their own types and know no engine above them: no wire types, no HTTP server (net/http comes in only with pkg/registry's client)", is("pkg/engine/imagesvc", "pkg/engine/buildsvc"),
		[]string{module + "pkg/api", module + "pkg/dockerapi", module + "pkg/engine$", "fasthttp", "github.com/moby/moby/"}, nil},
	{"the image and build services' conversions to the native API's wire types are pure: no transport, no server", is("pkg/api/imgconv"),
		[]string{"fasthttp", module + "pkg/api/server", module + "pkg/api/client", module + "pkg/dockerapi", "github.com/moby/moby/"}, nil},
	{"leaves take the standard library and x/sys only", is("pkg/errdefs", "pkg/plainfile", "pkg/reexec", "pkg/rsstrim"),
		[]string{module, "github.com/", "golang.org/x/net", "golang.org/x/sync"}, nil},
	{"atomicfile is a leaf but for its plain syscalls", is("pkg/atomicfile"),
		[]string{module, "github.com/", "golang.org/x/net", "golang.org/x/sync"}, []string{module + "pkg/plainfile"}},
}

// TestDependencyRules keeps the package layering that docs/ARCHITECTURE.md describes. It
// never skips: without the go tool the rules cannot be checked, and that is a failure.
func TestDependencyRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, deps := fields[0], fields[1:]
		for _, r := range depRules {
			if !r.from(pkg) {
				continue
			}
			checked++
			for _, d := range deps {
				if slices.Contains(r.allow, d) {
					continue
				}
				for _, b := range r.banned {
					if exact, ok := strings.CutSuffix(b, "$"); ok {
						if d == exact {
							t.Errorf("%s depends on %s (%s)", pkg, d, r.why)
						}
						continue
					}
					if strings.Contains(d, b) && !strings.HasPrefix(d, pkg) {
						t.Errorf("%s depends on %s (%s)", pkg, d, r.why)
					}
				}
			}
		}
	}
	if checked < len(depRules) {
		t.Fatalf("only %d packages matched the %d rules: package paths moved?", checked, len(depRules))
	}
}

// TestEngineSpeaksItsOwnTypes holds every file of pkg/engine and its packages to the
// engine's own types: none imports the native API's wire types (pkg/api); the engine
// converts nothing, its edges do (pkg/api/server, pkg/dockerapi). Checked per file, beside
// the package-wide rule above, so a failure names the file.
func TestEngineSpeaksItsOwnTypes(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.Dir}} {{join .GoFiles " "}}`, "./pkg/engine/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		for _, name := range fields[1:] {
			path := filepath.Join(fields[0], name)
			rel, _ := filepath.Rel(wd, path)
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			files++
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if p == module+"pkg/api" || strings.HasPrefix(p, module+"pkg/api/") {
					t.Errorf("%s imports %s: the engine returns its own types, its edges convert them", rel, p)
				}
			}
		}
	}
	if files == 0 {
		t.Fatal("no file of pkg/engine found: package paths moved?")
	}
}
