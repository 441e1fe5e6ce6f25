#!/usr/bin/env bash
# Installs what the tests and the demo need beyond Go: slapd (the OpenLDAP server that
# testenv starts privately) and ldap-utils (ldapsearch & co., for humans and healthchecks).
# Idempotent: does nothing when both are present. Prints one line saying what it did.
set -euo pipefail

missing=()
[ -x /usr/sbin/slapd ] || command -v slapd >/dev/null 2>&1 || missing+=(slapd)
command -v ldapsearch >/dev/null 2>&1 || missing+=(ldapsearch)
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: slapd and ldap-utils already installed, nothing to do"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: missing ${missing[*]} and no apt-get here: install the OpenLDAP server and client tools (slapd, ldapsearch) with your package manager" >&2
	exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "install-deps: missing ${missing[*]}; run as root or install sudo: apt-get install -y slapd ldap-utils" >&2
		exit 1
	fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A fresh machine's package lists can be empty or stale, so update once before installing.
# The lock timeout lets this wait for another apt run (e.g. unattended upgrades) instead of failing.
# slapd's own instance does not matter: testenv starts private ones with their own config.
if ! { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q &&
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q slapd ldap-utils; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed (output above)" >&2
	exit 1
fi
echo "install-deps: installed slapd and ldap-utils (were missing: ${missing[*]})"
