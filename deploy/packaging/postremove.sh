#!/bin/sh
# scimbridge package: after the files are removed (deb postrm, rpm %postun).
# The user and group "scimbridge" are kept, also on a purge: files they own may remain (an audit log
# below /var/log/scimbridge, a TLS key given to the group), and a later user given the same uid or gid
# would own them. Fedora's packaging guidelines (Users and Groups) never remove them for that reason;
# `userdel scimbridge` once you are done with those files. /var/log/scimbridge (created by systemd for
# server.audit_log, not by the package) is kept too: it may be an audit trail.
# dpkg removes the conffiles /etc/default/scimbridge and /etc/scimbridge/config.yaml on a purge.
set -e

# deb: "remove" or "purge" (an upgrade is "upgrade"); rpm: 0 when the last version is erased.
case "$1" in
remove | purge | 0) ;;
*) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
