#!/bin/sh
# Renders slapd.conf from the same template testenv embeds (same @...@ placeholders), loads the
# base LDIF into an empty database, then runs slapd in the foreground as the container's main process.
set -eu

TPL=/usr/share/scimbridge-openldap
DIR=${SLAPD_DIR:-/var/lib/scimbridge-openldap}
: "${LDAP_ADMIN_PASSWORD:?set LDAP_ADMIN_PASSWORD (the password of cn=admin,dc=example,dc=org)}"

mkdir -p "$DIR/db"
# Hashed so that no password character needs escaping in slapd.conf or in sed below; read from
# a file so that it does not show in the process list.
pwfile=$(mktemp)
printf '%s' "$LDAP_ADMIN_PASSWORD" >"$pwfile"
hash=$(slappasswd -h '{SSHA}' -T "$pwfile")
rm -f "$pwfile"

sed -e "s|@DIR@|$DIR|g" \
    -e "s|@ROOTPW@|$hash|g" \
    -e "s|@SCHEMADIR@|/etc/ldap/schema|g" \
    -e "s|@MODULEPATH@|/usr/lib/ldap|g" \
    "$TPL/slapd.conf" >"$DIR/slapd.conf"
chmod 0600 "$DIR/slapd.conf"

if [ ! -e "$DIR/db/data.mdb" ]; then
    slapadd -q -f "$DIR/slapd.conf" -l "$TPL/base.ldif"
    echo "scimbridge-openldap: loaded the base entries of dc=example,dc=org"
fi
chown -R openldap:openldap "$DIR"

# -d none: stay in the foreground (Docker's process), log errors to stderr.
exec slapd -d "${SLAPD_DEBUG:-none}" -u openldap -g openldap -f "$DIR/slapd.conf" -h "${SLAPD_URLS:-ldap:///}"
