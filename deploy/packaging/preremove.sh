#!/bin/sh
# scimbridge package: before the files are removed (deb prerm, rpm %preun).
# On removal (not on an upgrade) stops the service and disables it, so that no enablement link is left
# pointing at a unit file that is about to go; a later install leaves it disabled, like a first one.
set -e

# deb: "remove" (an upgrade is "upgrade"); rpm: 0 when the last version is erased.
case "$1" in
remove | 0) ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl stop scimbridge.service || true
fi
# disable works without a running manager too: it only removes the [Install] links.
if command -v systemctl >/dev/null; then
	systemctl --no-reload disable scimbridge.service >/dev/null 2>&1 || true
fi
exit 0
