#!/usr/bin/env bash
# Installs promtool, Prometheus's rule checker, for the alert rules' unit tests
# (deploy/prometheus/alerts_test.go runs `promtool check rules` and `promtool test rules`).
#
# On Debian it takes promtool out of the distribution's prometheus package without installing
# that package (which would add a Prometheus server and its service): `apt-get download`, then
# `dpkg-deb -x`, about 10 s. Elsewhere it builds the pinned version from the Go module proxy,
# about 4 minutes on 2 cores. The binary goes to $(go env GOBIN), else $(go env GOPATH)/bin.
# The rule tests pass with both (Debian bookworm's 2.42 and 3.x). Idempotent: does nothing when a
# working promtool is on PATH or in that directory. Prints one line saying what it did.
set -euo pipefail
GO=${GO:-go}
# v0.316.0 is Prometheus 3.x's module tag; its go.mod asks for Go 1.26.7.
VERSION=v0.316.0
dir="$($GO env GOBIN)"
[ -n "$dir" ] || dir="$($GO env GOPATH)/bin"
bin="$dir/promtool"
for p in "$(command -v promtool || true)" "$bin"; do
	if [ -n "$p" ] && [ -x "$p" ] && "$p" --version >/dev/null 2>&1; then
		echo "install-promtool: $("$p" --version 2>&1 | head -1) at $p, nothing to do"
		exit 0
	fi
done
start=$(date +%s)
mkdir -p "$dir"
if command -v apt-get >/dev/null 2>&1 && command -v dpkg-deb >/dev/null 2>&1; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# apt-get download needs package lists; a fresh machine may have none yet.
	if (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1) ||
		{ apt-get -o DPkg::Lock::Timeout=300 update -q >/dev/null 2>&1 && (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1); }; then
		dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/x"
		install -m 0755 "$tmp/x/usr/bin/promtool" "$bin"
		echo "install-promtool: $("$bin" --version 2>&1 | head -1) from Debian's prometheus package at $bin in $(($(date +%s) - start)) s"
		exit 0
	fi
	echo "install-promtool: apt-get download prometheus failed; building from the Go module proxy" >&2
fi
# GOFLAGS=-mod=mod: go install pkg@version ignores this repository's go.mod; the flag keeps a
# vendor or readonly setting in the environment from getting in the way.
# remove_all_sd leaves out the service discoveries (AWS, Azure, GCE, Kubernetes, ...), which
# rule checks and rule tests never use: Prometheus's own build tag (plugins/*.go), and most of
# the modules to download and compile.
GOFLAGS=-mod=mod $GO install -tags remove_all_sd "github.com/prometheus/prometheus/cmd/promtool@$VERSION"
echo "install-promtool: installed promtool $VERSION at $bin in $(($(date +%s) - start)) s"
