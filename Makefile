# scimbridge build and test entry points. `make test` is what CI runs (.ci/run).

GO        ?= go
FUZZTIME  ?= 10s
BENCHTIME ?= 1s

# Go's official tarball installs here; CI images and fresh machines often lack it in PATH.
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all deps test vet lint unit e2e fuzz demo build bench bench-go clean

all: build

# slapd and ldap-utils: the tests start real OpenLDAP servers; samba + samba-ad-dc: the AD tests
# share one throwaway Samba AD DC per machine (see testenv/samba_shared.go; nothing to start here:
# the first test binary that needs it starts it, the last one to finish stops it).
deps:
	@./scripts/install-deps.sh
	@GO=$(GO) ./scripts/install-promtool.sh

# Under CI=true, tests that cannot get an LDAP server (or the Samba AD DC) fail instead of skipping.
# The fuzz targets' seed corpora already run in `go test`; here each target also explores for
# TEST_FUZZTIME (`make fuzz` explores longer).
TEST_FUZZTIME ?= 4s
test: deps lint
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

vet:
	$(GO) vet ./...

# go vet plus what .golangci.yml asks (import groups, gofumpt, cyclomatic limit, no fmt.Print*
# outside cmd/); installs the pinned golangci-lint on first use.
lint: vet
	@GO=$(GO) ./scripts/lint.sh

unit:
	$(GO) test -race -count=1 ./...

# The end-to-end tier alone (also part of `make test`): the built binary serves every file in
# examples/ against a real slapd / Samba AD DC and `scimbridge check` must pass every step.
e2e: deps
	$(GO) test -count=1 -run 'Example.*EndToEnd' -v ./cmd/scimbridge

# go test -fuzz accepts one target per run, so every `func FuzzX` of every package is found and run
# in turn; new fuzz targets are picked up without editing this file.
fuzz:
	@GO=$(GO) FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

# Starts a private slapd on 127.0.0.1:3890 and the bridge in front of it.
demo: deps
	$(GO) run ./cmd/scimbridge demo

build:
	CGO_ENABLED=0 $(GO) build -o bin/scimbridge ./cmd/scimbridge

# The load benchmark (cmd/scimbench, docs/performance.md): the built bridge as its own process in
# front of a private slapd, Entra's create/get/patch/delete at n=2000, c=8 next to the same LDAP
# changes made directly, medians of 3 runs, then a page at each end of GET /Users over 100,000
# users. About 3-5 minutes on 2 cores. BENCH_FLAGS adds or overrides flags, e.g. BENCH_FLAGS='-list 0'.
BENCH_FLAGS ?=
bench: deps
	GO=$(GO) $(GO) run ./cmd/scimbench -n 2000 -c 8 -runs 3 -list 100000 $(BENCH_FLAGS)

# The go test benchmarks (BenchmarkCreateUser, BenchmarkListUsers, ...), each on its own.
bench-go:
	$(GO) test -run='^$$' -bench=. -benchtime=$(BENCHTIME) ./...

# Release packaging as a snapshot into dist/ (.goreleaser.yaml): static linux/amd64 and arm64 binaries,
# archives, checksums, CycloneDX SBOMs, .deb and .rpm. Installs the pinned goreleaser and
# cyclonedx-gomod on first use. See docs/packaging.md.
.PHONY: package package-test
package:
	@GO=$(GO) ./scripts/package.sh

# Builds the snapshot, then installs this machine's .deb for real (root, Debian), checks what it
# installed and how it upgrades, and purges it again, also on failure (scripts/package-test.sh).
package-test:
	@GO=$(GO) ./scripts/package-test.sh

clean:
	rm -rf bin
