#!/bin/sh
# scimbridge package: after the files are in place (deb postinst, rpm %post).
# Never enables or starts the service: the shipped configuration is not usable until the token hash,
# the bind password and the directory are filled in. On an upgrade a running service is restarted so
# that it runs the new binary (try-restart leaves a stopped one stopped).
set -e

# deb: "configure" with the previously configured version ("" on a first install);
# rpm: the number of installed versions of the package (1 on a first install).
case "$1" in
configure) if [ -z "$2" ]; then action=install; else action=upgrade; fi ;;
1) action=install ;;
[0-9]*) action=upgrade ;;
*) exit 0 ;; # abort-upgrade, abort-remove, ...: nothing of ours to undo
esac

# /run/systemd/system exists only while systemd is the running init (sd_booted(3)); in a container or a
# chroot there is no manager to reload.
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ "$action" = upgrade ]; then
		systemctl try-restart scimbridge.service || true
	fi
fi

if [ "$action" = install ]; then
	cat <<'MSG'
scimbridge is installed but not enabled or started. Next:
  1. edit /etc/default/scimbridge (SCIMBRIDGE_TOKEN_SHA256 from `scimbridge token new --name entra`,
     LDAP_BIND_PASSWORD) and /etc/scimbridge/config.yaml (the directory, the attribute map)
  2. systemctl enable --now scimbridge
Docs: docs/packaging.md and docs/configuration.md in the scimbridge repository.
MSG
fi
exit 0
