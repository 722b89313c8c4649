# minibox: one static binary (daemon, CLI, shim, init).
PREFIX  ?= /usr/local
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X github.com/minibox/minibox/pkg/version.Version=$(VERSION) -X github.com/minibox/minibox/pkg/version.Commit=$(COMMIT)
# sudo's secure_path drops /usr/local/go/bin: find the toolchain there too.
GO      ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
export CGO_ENABLED = 0
# Modules go.mod replaces with our own code under third_party/: `./...` stops at their
# go.mod, so they are named to be tested and linted with the rest.
THIRD_PARTY := github.com/distribution/reference github.com/opencontainers/go-digest github.com/alecthomas/kong

.PHONY: all build install deps test test-race test-unit bench testdata lint demo clean shimexe

all: build

# A container's shim and init run a small program of their own (cmd/minibox-shim), which
# minibox embeds compressed (pkg/shimexe): built first, from the same sources, every time
# (the Go build cache makes an unchanged one cost about a second). test-race builds it with
# the race detector, linked statically all the same: init executes itself afresh inside
# its container, where no dynamic loader of the host's is to be found. Without the Green
# Tea collector (GOEXPERIMENT): its mark bits at the end of every small-object span make
# each span's last page resident as soon as the span holds one object, and a shim or an
# init that never collects pays that per size class it used (about 50 KB a process).
SHIMEXE := pkg/shimexe/payload/minibox-shim
shimexe:
	GOEXPERIMENT=nogreenteagc $(GO) build -trimpath $(SHIM_GOFLAGS) -ldflags '-s -w $(SHIM_LDFLAGS)' -o $(SHIMEXE) ./cmd/minibox-shim
	gzip -9nf $(SHIMEXE)

build: shimexe
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/minibox .
	ln -sf minibox bin/miniboxd

install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 bin/minibox $(DESTDIR)$(PREFIX)/bin/minibox
	ln -sf minibox $(DESTDIR)$(PREFIX)/bin/miniboxd

# Debian packages the tests and the demo use (installed when missing; needs root).
deps:
	bash scripts/install-deps.sh

testdata: testdata/busybox.tar

testdata/busybox.tar: scripts/make-busybox-tar.sh
	bash scripts/make-busybox-tar.sh $@

# Privileged tests run for real: a missing prerequisite fails instead of skipping.
test: deps testdata shimexe
	MINIBOX_TEST_PRIVILEGED=1 $(GO) test -count=1 -p 1 -timeout 40m ./... $(THIRD_PARTY)

# The same under the race detector: the testscripts' daemons are the instrumented test
# binary, and their shims and inits the shim program built with the detector. Races are reported in $(RACE_LOGS).<pid>. Slower (about 6 min).
RACE_LOGS ?= /tmp/minibox-race
test-race: deps testdata
	$(MAKE) shimexe CGO_ENABLED=1 SHIM_GOFLAGS='-race -tags osusergo,netgo' SHIM_LDFLAGS='-linkmode external -extldflags -static'
	rm -f $(RACE_LOGS).*
	CGO_ENABLED=1 GORACE=log_path=$(RACE_LOGS) MINIBOX_TEST_PRIVILEGED=1 $(GO) test -race -count=1 -p 1 -timeout 60m ./... $(THIRD_PARTY)
	@! ls $(RACE_LOGS).* 2>/dev/null || (echo "data races: see the files above"; exit 1)
	$(MAKE) shimexe

test-unit: shimexe
	$(GO) test -count=1 ./... $(THIRD_PARTY)

bench: build testdata
	bash scripts/install-deps.sh bench
	MINIBOX_TEST_PRIVILEGED=1 MINIBOX_BENCH_BIN=$(CURDIR)/bin/minibox $(GO) test -run '^$$' -bench . -benchtime 1x -count=1 -timeout 30m ./...

# Linters at pinned versions, fetched through the module proxy on first use.
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
DEADCODE    ?= golang.org/x/tools/cmd/deadcode@v0.53.0
lint: shimexe
	@test -z "$$(gofmt -l . | tee /dev/stderr)" || (echo "gofmt: files above need formatting"; exit 1)
	$(GO) vet ./... $(THIRD_PARTY)
	$(GO) run $(STATICCHECK) ./... $(THIRD_PARTY)
	@out="$$($(GO) run $(DEADCODE) -test ./...)"; test -z "$$out" || (echo "$$out"; echo "deadcode: unreachable functions above"; exit 1)

demo: deps build testdata
	bash scripts/demo.sh

clean:
	rm -rf bin testdata/busybox.tar $(SHIMEXE).gz
