package slapd

import (
	"crypto/rand"
	"crypto/sha1"
	_ "embed"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
)

// The slapd.conf template and base LDIF live under docker/ so that the Docker image used by
// docker-compose and the servers started here run exactly the same configuration.
var (
	//go:embed docker/slapd.conf
	slapdConfTemplate string
	//go:embed docker/base.ldif
	baseLDIF string
)

// Fixed names of the throwaway directory. They are part of the base LDIF, so they are constants
// rather than options: tests and the demo configuration can rely on them.
const (
	DefaultBaseDN   = "dc=example,dc=org"
	DefaultBindDN   = "cn=admin," + DefaultBaseDN
	DefaultPassword = "admin"
	// NobodyDN is the placeholder member that refint puts into a groupOfNames when its last
	// member is deleted, and that callers can use for an otherwise empty group.
	NobodyDN = "cn=nobody," + DefaultBaseDN
)

// Candidate locations of slapd's schema files and dynamic modules. Debian and Ubuntu use the
// first ones; the others cover common distributions so that a developer's machine works too.
var (
	schemaDirs = []string{"/etc/ldap/schema", "/etc/openldap/schema", "/usr/local/etc/openldap/schema"}
	moduleDirs = []string{"/usr/lib/ldap", "/usr/lib64/openldap", "/usr/lib/openldap", "/usr/libexec/openldap", "/usr/local/libexec/openldap"}
)

// firstDirWith returns the first dir holding file, or dirs[0] so that slapd's own error names a
// plausible path.
func firstDirWith(dirs []string, file string) string {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, file)); err == nil {
			return d
		}
	}
	return dirs[0]
}

// renderSlapdConf fills the template's placeholders, the same ones the Docker entrypoint
// replaces with sed.
func renderSlapdConf(dir, rootPW string) string {
	r := strings.NewReplacer(
		"@DIR@", dir,
		"@ROOTPW@", sshaHash(rootPW),
		"@SCHEMADIR@", firstDirWith(schemaDirs, "core.schema"),
		"@MODULEPATH@", firstDirWith(moduleDirs, "back_mdb.so"),
	)
	return r.Replace(slapdConfTemplate)
}

// sshaHash stores the root password hashed, as slappasswd would: the hash has no characters
// that need quoting in slapd.conf, whatever password a caller chooses.
func sshaHash(pw string) string {
	salt := make([]byte, 8)
	_, _ = rand.Read(salt)
	h := sha1.New()
	h.Write([]byte(pw))
	h.Write(salt)
	return "{SSHA}" + base64.StdEncoding.EncodeToString(append(h.Sum(nil), salt...))
}

// randomPassword is used when the caller does not care, so that a forgotten server on a
// shared machine does not accept a well-known password.
func RandomPassword() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
