#!/usr/bin/env bash
# Installs promtool, Prometheus's rule checker, for the alert rules' unit tests
# (deploy/prometheus/alerts_test.go runs `promtool check rules` and `promtool test rules`).
# The version is pinned and built from the Go module proxy into $(go env GOBIN), else
# $(go env GOPATH)/bin: no prebuilt binary is downloaded. Idempotent: does nothing when that
# version is already there. Prints one line saying what it did.
set -euo pipefail
GO=${GO:-go}
# v0.316.0 is Prometheus 3.x's module tag; its go.mod asks for Go 1.26.7.
VERSION=v0.316.0
dir="$($GO env GOBIN)"
[ -n "$dir" ] || dir="$($GO env GOPATH)/bin"
bin="$dir/promtool"
# `promtool --version` prints "promtool, version 3.x.y (...)"; go install records the module
# version, which `go version -m` reads back without running the binary.
if [ -x "$bin" ] && $GO version -m "$bin" 2>/dev/null | grep -q "github.com/prometheus/prometheus[[:space:]]*$VERSION\b"; then
	echo "install-promtool: promtool $VERSION already installed at $bin, nothing to do"
	exit 0
fi
start=$(date +%s)
# GOFLAGS=-mod=mod: go install pkg@version ignores this repository's go.mod; the flag keeps a
# vendor or readonly setting in the environment from getting in the way.
# remove_all_sd leaves out the service discoveries (AWS, Azure, GCE, Kubernetes, ...), which
# rule checks and rule tests never use: Prometheus's own build tag (plugins/*.go), and most of
# the modules to download and compile.
GOFLAGS=-mod=mod $GO install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/promtool@$VERSION"
echo "install-promtool: installed promtool $VERSION at $bin in $(($(date +%s) - start)) s"
