#!/usr/bin/env bash
# Installs what the tests and the demo need beyond Go:
#   - slapd (the OpenLDAP server that testenv starts privately) and ldap-utils (ldapsearch & co.,
#     for humans and healthchecks);
#   - samba + samba-ad-dc (samba-ad-dc pulls in samba-dsdb-modules and winbind): testenv starts a
#     throwaway Samba Active Directory domain controller on loopback (see testenv/samba.go);
#   - pebble (an ACME test server) and jq (for the CI snippets of docs/cli.md).
# Idempotent: does nothing when everything is present, runs `apt-get update` at most once.
# Prints one line saying what it did.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }
# A Debian package counts as present only when dpkg says it is installed; without dpkg, the
# binary checks above are all we can do.
have_pkg() { ! command -v dpkg-query >/dev/null 2>&1 || dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing=() # what is missing, for the message
pkgs=()    # the Debian packages that provide it
have slapd || { missing+=(slapd); pkgs+=(slapd); }
have ldapsearch || { missing+=(ldapsearch); pkgs+=(ldap-utils); }
# pebble: Let's Encrypt's ACME test server, for the server.tls.acme test (no internet needed).
have pebble || { missing+=(pebble); pkgs+=(pebble); }
# jq: the CI snippets of docs/cli.md pipe validate's JSON through it, and TestCISnippets runs them.
have jq || { missing+=(jq); pkgs+=(jq); }
if ! have samba || ! have samba-tool; then
	missing+=(samba)
	pkgs+=(samba samba-ad-dc)
elif ! have_pkg samba-ad-dc; then
	# samba alone lacks the AD DC bits on Debian (samba-dsdb-modules come with samba-ad-dc).
	missing+=(samba-ad-dc)
	pkgs+=(samba-ad-dc)
fi
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: slapd, ldap-utils, samba (AD DC), pebble and jq already installed, nothing to do"
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: missing ${missing[*]} and no apt-get here: install the OpenLDAP server and client tools" \
		"(slapd, ldapsearch) and Samba with its AD DC parts (samba, samba-tool) with your package manager" >&2
	exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "install-deps: missing ${missing[*]}; run as root or install sudo: apt-get install -y ${pkgs[*]}" >&2
		exit 1
	fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# A fresh machine's package lists can be empty or stale, so update once before installing.
# The lock timeout lets this wait for another apt run (e.g. unattended upgrades) instead of failing.
# The packages' own daemons do not matter: testenv starts private slapd and samba processes with
# their own configuration and data directories.
if ! { "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update -q &&
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q "${pkgs[@]}"; } >"$log" 2>&1; then
	cat "$log" >&2
	echo "install-deps: apt-get failed (output above)" >&2
	exit 1
fi
echo "install-deps: installed ${pkgs[*]} (were missing: ${missing[*]})"
