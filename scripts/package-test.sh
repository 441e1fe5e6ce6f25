#!/usr/bin/env bash
# `make package-test`: builds the snapshot packages (scripts/package.sh), then installs this machine's
# .deb for real and checks every claim of docs/packaging.md: the installed files with their owners and
# modes, the system user, `scimbridge version`, `scimbridge validate` from the installed paths (the
# shipped placeholder token hash fails, a real one passes, also as the service user), the unit
# (systemd-analyze verify), that nothing enables or starts the service, the conffiles across a
# reinstall and an upgrade, removal and purge. It also reads the .rpm's file list (rpm -qp).
#
# Needs root and dpkg (a Debian machine, as CI's). It refuses to run where a scimbridge package is
# already installed, and leaves the machine as it found it, also when a check fails: the package is
# purged, and the user and group are deleted if this run created them.
#
# Maintainer scripts act on systemd only while it is the running init (/run/systemd/system). To check
# what they ask of it here, where systemd may not run, and without touching a running one, each dpkg
# call runs in a private mount namespace with /run/systemd/system present and a stand-in systemctl
# first in PATH that logs its arguments (enable/disable are passed on to the real systemctl, offline).
#
# shellcheck disable=SC2015 # `A && B || fail`: fails when either test is false, as meant.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
GO=${GO:-go}
export PATH="$PATH:/usr/local/go/bin"
start=$SECONDS

say() { echo "package-test: $*"; }
# ok MESSAGE: one group of checks passed (counted for the closing "N passed, N failed" line).
passed=0
ok() {
	passed=$((passed + 1))
	say "$*"
}
fail() {
	echo "package-test: FAIL: $*" >&2
	exit 1
}
[ "$(id -u)" -eq 0 ] || fail "must run as root (it installs the .deb with dpkg)"
command -v dpkg >/dev/null || fail "dpkg not found: the package test needs a Debian machine"
command -v unshare >/dev/null || fail "unshare (util-linux) not found"

status() { dpkg-query -W -f='${db:Status-Status}' scimbridge 2>/dev/null || echo not-installed; }
[ "$(status)" = not-installed ] ||
	fail "a scimbridge package is already on this machine ($(status)); dpkg --purge scimbridge first"

work=$(mktemp -d)
created_user=0
logs_existed=1
getent passwd scimbridge >/dev/null || created_user=1
wants=/etc/systemd/system/multi-user.target.wants/scimbridge.service

# The stand-in systemctl (see the header).
mkdir "$work/bin"
cat >"$work/bin/systemctl" <<EOF
#!/bin/sh
echo "\$*" >>"$work/systemctl.log"
case " \$* " in
*" enable "* | *" disable "*) exec /usr/bin/systemctl --root=/ "\$@" ;;
esac
exit 0
EOF
chmod 0755 "$work/bin/systemctl"

# in_ns CMD...: CMD in a mount namespace of its own where /run/systemd/system exists, with the
# stand-in systemctl. Nothing mounted there is seen outside.
in_ns() {
	PATH="$work/bin:$PATH" unshare --mount --propagation private -- sh -c '
		if [ -d /run/systemd ]; then mount -t tmpfs tmpfs /run/systemd; else mount -t tmpfs tmpfs /run; fi
		mkdir -p /run/systemd/system
		exec "$@"' in_ns "$@"
}

# try_pkg ARGS...: dpkg ARGS in the namespace, no input; its output goes to $work/dpkg.out and to
# the terminal. dpkg fails at once while apt or another dpkg holds its lock: that is retried for 5
# minutes. pkg ARGS...: the same, and dpkg must succeed.
try_pkg() {
	local rc
	: >"$work/systemctl.log"
	for _ in $(seq 60); do
		rc=0
		in_ns dpkg "$@" >"$work/dpkg.out" 2>&1 </dev/null || rc=$?
		if [ $rc -eq 0 ] || ! grep -q 'lock' "$work/dpkg.out"; then
			break
		fi
		sleep 5
	done
	cat "$work/dpkg.out"
	return $rc
}
pkg() { try_pkg "$@" || fail "dpkg $* failed"; }

cleanup() {
	local rc=$?
	set +e
	if [ "$(status)" != not-installed ]; then
		say "cleanup: purging the package"
		in_ns dpkg --purge scimbridge >/dev/null 2>&1 || dpkg --purge --force-all scimbridge >/dev/null 2>&1
	fi
	rm -f "$wants" /var/log/scimbridge/package-test.log
	[ "$logs_existed" = 1 ] || rmdir /var/log/scimbridge 2>/dev/null
	if [ "$created_user" = 1 ] && getent passwd scimbridge >/dev/null; then
		userdel scimbridge
	fi
	if [ "$created_user" = 1 ] && getent group scimbridge >/dev/null; then
		groupdel scimbridge
	fi
	rm -rf "$work"
	if [ $rc -eq 0 ]; then
		say "PASS ($((SECONDS - start)) s)"
		say "$passed passed, 0 failed"
	else
		say "cleaned up after the failure above ($((SECONDS - start)) s)"
		say "$passed passed, 1 failed"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# expect_log WORDS...: the stand-in systemctl was called with exactly these argument lists, in order.
expect_log() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(cat "$work/systemctl.log")
	[ "$got" = "$want" ] || fail "systemctl calls: want [${want//$'\n'/; }], got [${got//$'\n'/; }]"
}

# expect_stat PATH MODE OWNER GROUP
expect_stat() {
	local got
	got=$(stat -c '%a %U %G' "$1") || fail "$1 missing"
	[ "$got" = "$2 $3 $4" ] || fail "$1: want mode/owner/group $2 $3 $4, got $got"
	echo "  $1: $got"
}

### Build
t=$SECONDS
GO=$GO ./scripts/package.sh
say "build: $((SECONDS - t)) s"
arch=$(dpkg --print-architecture)
debs=(dist/scimbridge_*_"$arch".deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "want one dist/scimbridge_*_$arch.deb, got: ${debs[*]}"
deb=${debs[0]}
meta=$(cat dist/metadata.json)
version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"$meta")
commit=$(sed -n 's/.*"commit":"\([^"]*\)".*/\1/p' <<<"$meta")
[ -n "$version" ] && [ ${#commit} -eq 40 ] || fail "dist/metadata.json: no version or commit: $meta"
[ "$commit" = "$(git rev-parse HEAD)" ] || fail "snapshot commit $commit is not HEAD $(git rev-parse HEAD)"
say "snapshot $version, commit $commit, $deb"
# The .deb's version sorts after the last tag's release and before the next patch release.
debver=$(dpkg-deb -f "$deb" Version)
tag=$(sed -n 's/.*"tag":"v\{0,1\}\([^"]*\)".*/\1/p' <<<"$meta")
dpkg --compare-versions "$debver" gt "$tag" && dpkg --compare-versions "$debver" lt "${version%%-*}" ||
	fail "deb version $debver does not sort between $tag and ${version%%-*}"
t=$SECONDS

### The release artifacts besides the packages: archives, checksums, SBOMs.
(cd dist && sha256sum --quiet -c checksums.txt) || fail "dist/checksums.txt does not match"
for a in amd64 arm64; do
	tarball=dist/scimbridge_${version}_linux_$a.tar.gz
	got=$(tar tzf "$tarball" | sort | tr '\n' ' ')
	[ "$got" = "README.md deploy/scimbridge.env.example deploy/scimbridge.service docs/packaging.md examples/ad.yaml examples/openldap.yaml scimbridge " ] ||
		fail "$tarball holds: $got"
	tar xzf "$tarball" -C "$work" scimbridge
	got=$($GO version -m "$work/scimbridge" | grep -cE $'^\tbuild\t(CGO_ENABLED=0|GOOS=linux|GOARCH='"$a)\$") || true
	[ "$got" = 3 ] || fail "$tarball: the binary is not a CGO_ENABLED=0 linux/$a build"
	grep -aqF "$version" "$work/scimbridge" || fail "$tarball: the binary does not carry version $version"
	grep -qF "pkg:golang/github.com/scimbridge/scimbridge@$version?goarch=$a" \
		"dist/scimbridge_${version}_linux_$a.cdx.json" || fail "no CycloneDX SBOM for linux/$a"
	grep -qF "$tarball" <<<"dist/$(grep -F "_linux_$a.tar.gz" dist/checksums.txt | cut -d' ' -f3)" ||
		fail "$tarball is not in checksums.txt"
done
rm -f "$work/scimbridge"
ok "artifacts: linux/amd64 and linux/arm64 archives with a static (CGO_ENABLED=0) binary carrying $version, a CycloneDX SBOM each, checksums.txt verified"

### The packaged unit differs from deploy/scimbridge.service only where a package must.
directives() { grep -v -e '^#' -e '^$' "$1"; }
want_diff=$'< ExecStart=/usr/local/bin/scimbridge serve --config /etc/scimbridge/config.yaml
< EnvironmentFile=/etc/scimbridge/scimbridge.env
< ExecReload=/usr/local/bin/scimbridge validate --config /etc/scimbridge/config.yaml
< DynamicUser=yes
> ExecStart=/usr/bin/scimbridge serve --config /etc/scimbridge/config.yaml
> EnvironmentFile=/etc/default/scimbridge
> ExecReload=/usr/bin/scimbridge validate --config /etc/scimbridge/config.yaml'
got_diff=$(diff <(directives deploy/scimbridge.service) <(directives deploy/packaging/scimbridge.service) |
	grep '^[<>]' | sort -s -k1,1) || true
[ "$got_diff" = "$want_diff" ] || fail "the packaged unit's directives drifted from deploy/scimbridge.service:
$got_diff"
ok "unit: deploy/packaging/scimbridge.service = deploy/scimbridge.service but for ExecStart, ExecReload, EnvironmentFile, DynamicUser"

### The .rpm holds the same files, with the configuration files marked %config(noreplace).
if ! command -v rpm >/dev/null; then
	say "installing rpm (to read the .rpm's file list)"
	{ apt-get -o DPkg::Lock::Timeout=300 install -y -q rpm || {
		apt-get -o DPkg::Lock::Timeout=300 update -q &&
			apt-get -o DPkg::Lock::Timeout=300 install -y -q rpm
	}; } >"$work/apt.out" 2>&1 || {
		cat "$work/apt.out" >&2
		fail "apt-get install rpm failed"
	}
fi
rpmfile=$(ls dist/scimbridge-*."$(uname -m)".rpm)
got=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME} %{FILEGROUPNAME} %{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpmfile")
want='-rw-r----- root scimbridge cn /etc/default/scimbridge
drwxr-xr-x root root  /etc/scimbridge
-rw-r--r-- root root cn /etc/scimbridge/config.yaml
-rwxr-xr-x root root  /usr/bin/scimbridge
-rw-r--r-- root root  /usr/lib/systemd/system/scimbridge.service'
[ "$got" = "$want" ] || fail "$rpmfile files:
$got
want:
$want"
for s in preinstall postinstall preuninstall postuninstall; do
	rpm -qp --scripts "$rpmfile" | grep -q "^$s scriptlet" || fail "$rpmfile has no $s scriptlet"
done
ok "rpm: $rpmfile: files, modes, owners, %config(noreplace) (c = config, n = noreplace) and 4 scriptlets as expected"

### First install
pkg -i "$deb"
grep -q 'edit /etc/default/scimbridge' "$work/dpkg.out" || fail "postinst printed no next steps"
expect_log daemon-reload
ok "install: systemd was asked for daemon-reload only (no enable, no start); next steps printed"
echo "--- dpkg -L scimbridge"
dpkg -L scimbridge
echo "---"

say "owners and modes:"
expect_stat /usr/bin/scimbridge 755 root root
expect_stat /usr/lib/systemd/system/scimbridge.service 644 root root
expect_stat /etc/scimbridge 755 root root
expect_stat /etc/scimbridge/config.yaml 644 root root
expect_stat /etc/default/scimbridge 640 root scimbridge
expect_stat /etc/default 755 root root
cmp -s examples/openldap.yaml /etc/scimbridge/config.yaml || fail "config.yaml is not examples/openldap.yaml"
cmp -s deploy/packaging/default.env /etc/default/scimbridge || fail "/etc/default/scimbridge is not default.env"
cmp -s deploy/packaging/scimbridge.service /usr/lib/systemd/system/scimbridge.service ||
	fail "the installed unit is not deploy/packaging/scimbridge.service"
[ "$(cat /var/lib/dpkg/info/scimbridge.conffiles)" = $'/etc/default/scimbridge\n/etc/scimbridge/config.yaml' ] ||
	fail "conffiles: $(cat /var/lib/dpkg/info/scimbridge.conffiles)"
got=$(ldd /usr/bin/scimbridge 2>&1) || true
[ "$got" = $'\tnot a dynamic executable' ] || fail "/usr/bin/scimbridge is not static: ldd: $got"
ok "files: owners, modes and contents as shipped, both conffiles registered, the binary static"

IFS=: read -r _ _ uid gid _ home shell < <(getent passwd scimbridge) || fail "no user scimbridge"
[ "$(getent group scimbridge | cut -d: -f3)" = "$gid" ] || fail "user scimbridge's primary group is not scimbridge"
[ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ] ||
	fail "user scimbridge: uid $uid, home $home, shell $shell"
if [ "$created_user" = 1 ]; then
	ok "user: preinst created system user scimbridge (uid $uid, group scimbridge, $home, $shell)"
else
	ok "user: scimbridge existed before this run (uid $uid), kept"
fi

### The binary: version and validate from the installed paths.
got=$(/usr/bin/scimbridge version)
want="scimbridge $version (commit ${commit:0:7}, $($GO env GOVERSION))"
[ "$got" = "$want" ] || fail "scimbridge version: want '$want', got '$got'"
/usr/bin/scimbridge version --format json | grep -q "\"commit\":\"$commit\"" || fail "version --format json lacks $commit"
ok "version: $got"

# validate_as USER: scimbridge validate --offline with the environment of /etc/default/scimbridge,
# the way systemd would pass it; output in $work/validate.out.
validate_as() {
	runuser -u "$1" -- sh -c 'set -a; . /etc/default/scimbridge; set +a
		exec /usr/bin/scimbridge validate --offline --config /etc/scimbridge/config.yaml' >"$work/validate.out" 2>&1
}
if validate_as root; then
	cat "$work/validate.out"
	fail "validate passed with the shipped placeholder token hash"
fi
grep -qF 'auth.bearer_tokens[0].sha256: must be 64 hex characters' "$work/validate.out" ||
	fail "validate with the placeholder: $(cat "$work/validate.out")"
ok "validate: the shipped /etc/default/scimbridge fails as documented: $(grep -F 'auth.bearer_tokens[0].sha256' "$work/validate.out")"

# Test values, written through the existing file so that its owner and mode stay.
hash=$(printf package-test | sha256sum | cut -d' ' -f1)
sed -e "s/^SCIMBRIDGE_TOKEN_SHA256=.*/SCIMBRIDGE_TOKEN_SHA256=$hash/" \
	-e "s/^LDAP_BIND_PASSWORD=.*/LDAP_BIND_PASSWORD='package-test'/" /etc/default/scimbridge >"$work/env"
cat "$work/env" >/etc/default/scimbridge
for u in root scimbridge; do
	validate_as "$u" || {
		cat "$work/validate.out" >&2
		fail "validate as $u with a valid token hash failed"
	}
done
ok "validate: passes with a valid hash, as root and as user scimbridge (group-readable env file)"

### The unit
if command -v systemd-analyze >/dev/null; then
	systemd-analyze verify /usr/lib/systemd/system/scimbridge.service || fail "systemd-analyze verify"
	ok "unit: systemd-analyze verify passed"
elif [ "${CI:-}" = true ]; then
	fail "systemd-analyze not installed (under CI=true the unit check must run)"
else
	say "unit: systemd-analyze not installed, verify skipped"
fi
# Not enabled and not running. systemctl is-enabled reads the unit files, with or without a manager.
got=$(systemctl is-enabled scimbridge.service 2>&1) || true
[ "$got" = disabled ] || fail "systemctl is-enabled: $got"
if [ -d /run/systemd/system ] && systemctl is-active --quiet scimbridge.service; then
	fail "scimbridge.service is active"
fi
for p in /proc/[0-9]*; do
	[ "$(readlink "$p/exe" 2>/dev/null)" != /usr/bin/scimbridge ] || fail "a /usr/bin/scimbridge runs: pid ${p#/proc/}"
done
ok "service: disabled, not running"

### Conffiles: a reinstall keeps the edited files, and so does an upgrade that ships a new config.yaml.
echo "# edited by package-test" >>/etc/scimbridge/config.yaml
cp /etc/scimbridge/config.yaml "$work/config.edited"
cp /etc/default/scimbridge "$work/env.edited"
pkg -i "$deb"
expect_log daemon-reload "try-restart scimbridge.service"
! grep -q 'edit /etc/default/scimbridge' "$work/dpkg.out" || fail "a reinstall printed the first-install steps"
cmp -s "$work/config.edited" /etc/scimbridge/config.yaml || fail "reinstall replaced the edited config.yaml"
cmp -s "$work/env.edited" /etc/default/scimbridge || fail "reinstall replaced the edited /etc/default/scimbridge"
expect_stat /etc/default/scimbridge 640 root scimbridge
ok "reinstall: edited config.yaml and /etc/default/scimbridge kept; systemd: daemon-reload, try-restart"

# The upgrade: the same package repacked as a higher version whose config.yaml differs.
dpkg-deb -R "$deb" "$work/up"
sed -i "s/^Version: .*/Version: $debver+up1/" "$work/up/DEBIAN/control"
echo "# shipped by the upgrade" >>"$work/up/etc/scimbridge/config.yaml"
(cd "$work/up" && find etc usr -type f -exec md5sum {} + >DEBIAN/md5sums)
dpkg-deb -b "$work/up" "$work/up.deb" >/dev/null
# With a terminal dpkg would ask which config.yaml to keep; without one the upgrade stops there.
if try_pkg -i "$work/up.deb"; then
	fail "the upgrade did not stop at the conffile prompt"
fi
grep -q 'end of file on stdin at conffile prompt' "$work/dpkg.out" || fail "the upgrade failed otherwise"
cmp -s "$work/config.edited" /etc/scimbridge/config.yaml || fail "the stopped upgrade replaced config.yaml"
pkg --configure --force-confold scimbridge
[ "$(dpkg-query -W -f='${Version}' scimbridge)" = "$debver+up1" ] || fail "upgrade not installed"
cmp -s "$work/config.edited" /etc/scimbridge/config.yaml || fail "upgrade replaced the edited config.yaml"
cmp -s "$work/up/etc/scimbridge/config.yaml" /etc/scimbridge/config.yaml.dpkg-dist ||
	fail "upgrade: the new config.yaml is not beside the kept one as config.yaml.dpkg-dist"
cmp -s "$work/env.edited" /etc/default/scimbridge || fail "upgrade replaced the edited /etc/default/scimbridge"
expect_log daemon-reload "try-restart scimbridge.service"
ok "upgrade: without a terminal it stops at the conffile prompt, config.yaml untouched; dpkg --configure --force-confold: edited config.yaml kept, the new one as config.yaml.dpkg-dist; systemd: daemon-reload, try-restart"

### Removal stops and disables; conffiles stay until the purge, and so do the user and group.
got=$(systemctl --root=/ enable scimbridge.service 2>&1) || fail "systemctl enable: $got"
[ -L "$wants" ] || fail "systemctl enable made no $wants"
pkg -r scimbridge
expect_log "stop scimbridge.service" "--no-reload disable scimbridge.service" daemon-reload
[ ! -e "$wants" ] && [ ! -L "$wants" ] || fail "remove left $wants"
[ ! -e /usr/bin/scimbridge ] && [ ! -e /usr/lib/systemd/system/scimbridge.service ] || fail "remove left the binary or the unit"
[ -f /etc/scimbridge/config.yaml ] && [ -f /etc/default/scimbridge ] || fail "remove deleted the conffiles"
[ "$(status)" = config-files ] || fail "after remove: $(status)"
ok "remove: systemd: stop, disable (enablement link gone), daemon-reload; conffiles kept"

pkg -i "$work/up.deb"
expect_log daemon-reload "try-restart scimbridge.service"
got=$(systemctl is-enabled scimbridge.service 2>&1) || true
[ "$got" = disabled ] || fail "install after remove: systemctl is-enabled: $got"
cmp -s "$work/config.edited" /etc/scimbridge/config.yaml || fail "install after remove replaced config.yaml"
ok "install after remove: service disabled, the kept config.yaml used"

# What systemd's LogsDirectory= would have made for server.audit_log: the purge must leave it.
logs_existed=0
[ ! -e /var/log/scimbridge ] || logs_existed=1
mkdir -p /var/log/scimbridge
touch /var/log/scimbridge/package-test.log

# A purge of the installed package (as `apt purge` does it): the removal's steps, then the purge's.
pkg --purge scimbridge
expect_log "stop scimbridge.service" "--no-reload disable scimbridge.service" daemon-reload daemon-reload
for f in /usr/bin/scimbridge /usr/lib/systemd/system/scimbridge.service /etc/default/scimbridge /etc/scimbridge; do
	[ ! -e "$f" ] || fail "purge left $f"
done
[ "$(status)" = not-installed ] || fail "after purge: $(status)"
[ -d /etc/default ] || fail "purge removed /etc/default"
getent passwd scimbridge >/dev/null && getent group scimbridge >/dev/null || fail "purge removed the user or group"
[ -f /var/log/scimbridge/package-test.log ] || fail "purge removed /var/log/scimbridge"
rm -f /var/log/scimbridge/package-test.log
[ "$logs_existed" = 1 ] || rmdir /var/log/scimbridge
ok "purge: every file gone (/etc/scimbridge with config.yaml.dpkg-dist too); user, group and /var/log/scimbridge kept"
say "install checks: $((SECONDS - t)) s"
