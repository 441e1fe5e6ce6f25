#!/usr/bin/env bash
# Builds everything .goreleaser.yaml describes as a snapshot into dist/: the static linux/amd64 and
# linux/arm64 binaries, their archives, checksums.txt, a CycloneDX SBOM per binary, and the .deb and
# .rpm packages. Nothing is published. The tools are pinned and installed from the Go module proxy into
# $(go env GOPATH)/bin when missing or different, as scripts/lint.sh does for golangci-lint: goreleaser
# takes about 5 min of CPU to compile once (10 min on a busy 2-core machine), cyclonedx-gomod 1 min.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
# v2.18.x (the newest stable) requires Go >= 1.27.1; v2.17.0 is the newest that builds with our Go.
GORELEASER_VERSION=v2.17.0
CYCLONEDX_VERSION=v1.10.0
gobin="$($GO env GOPATH)/bin"
# goreleaser runs `go` and cyclonedx-gomod (which runs `go version -m`) by name.
export PATH="$gobin:$PATH:/usr/local/go/bin"

# install_tool NAME MODULE/PATH VERSION VERSION-COMMAND...: go install unless the command prints VERSION.
install_tool() {
	local name=$1 pkg=$2 version=$3
	shift 3
	if ! "$gobin/$name" "$@" 2>/dev/null | grep -qE "(^|[[:space:]])$version\$"; then
		echo "package: installing $name $version"
		GOFLAGS=-mod=mod $GO install "$pkg@$version"
	fi
}
install_tool goreleaser github.com/goreleaser/goreleaser/v2 "$GORELEASER_VERSION" --version
install_tool cyclonedx-gomod github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod "$CYCLONEDX_VERSION" version

# goreleaser reads the commit only when `git ls-remote --get-url` works, and a snapshot in a clone
# without a remote would be versioned "none". Such a clone gets the project's URL for this run only,
# through git's environment (nothing is written to .git/config); the URL is used by nothing but a
# published release.
if ! git ls-remote --get-url >/dev/null 2>&1; then
	export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=remote.origin.url
	export GIT_CONFIG_VALUE_0=https://github.com/scimbridge/scimbridge.git
fi

# --clean empties dist/ first, so dist/ holds this build only.
"$gobin/goreleaser" release --snapshot --clean "$@"
echo "package: dist/"
ls -l dist/*.deb dist/*.rpm dist/*.tar.gz dist/*.cdx.json dist/checksums.txt
