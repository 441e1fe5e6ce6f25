#!/bin/sh
# scimbridge package: before the files are unpacked (deb preinst, rpm %pre).
# Creates the system group and user "scimbridge" the service runs as, so that the package's files owned by
# group scimbridge (/etc/default/scimbridge) get that group when they are unpacked. An existing user or
# group of that name is kept as it is. Neither is removed when the package is (docs/packaging.md).
# useradd and groupadd: Debian's passwd package (priority required), shadow-utils on RPM systems.
set -e

if ! getent group scimbridge >/dev/null; then
	groupadd --system scimbridge
fi
if ! getent passwd scimbridge >/dev/null; then
	useradd --system --gid scimbridge --no-create-home --home-dir /nonexistent \
		--shell /usr/sbin/nologin --comment "scimbridge SCIM bridge" scimbridge
fi
exit 0
