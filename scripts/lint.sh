#!/usr/bin/env bash
# Runs golangci-lint with .golangci.yml. The version is pinned, and installed from the Go module
# proxy into $(go env GOPATH)/bin when missing or different (about 1.5 min of compiling, once).
set -euo pipefail
GO=${GO:-go}
VERSION=v2.15.0
bin="$($GO env GOPATH)/bin/golangci-lint"
if ! "$bin" version 2>/dev/null | grep -q "version ${VERSION#v} "; then
	echo "lint: installing golangci-lint $VERSION"
	GOFLAGS=-mod=mod $GO install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$VERSION"
fi
exec "$bin" run ./...
