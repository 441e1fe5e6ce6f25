package testenv

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/go-ldap/ldap/v3"
)

// ADConn dials over LDAPS (certificate verified against s.CAFile) and binds as the admin;
// t.Cleanup closes it.
func ADConn(t testing.TB, s *ADServer) *ldap.Conn {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatalf("testenv: connect to %s as %s: %v", s.URL, s.BindDN, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ADNamespace is one test's own OU in the shared AD, so that tests can run in parallel and use
// fixed names (sAMAccountName alice) without colliding... within the OU only: sAMAccountName
// and userPrincipalName are unique in the whole domain, so tests that create users should
// derive them from something unique (e.g. the last part of DN) or clean them up.
type ADNamespace struct {
	DN     string // OU=<unique>,<BaseDN>
	People string // OU=People,<DN>: where the bridge's users go
	Groups string // OU=Groups,<DN>: where the bridge's groups go
}

// NewADNamespace creates OU=<unique>,<BaseDN> with OU=People and OU=Groups below it, and
// registers a t.Cleanup that deletes the whole subtree, children first (what AD calls a tree
// delete, done entry by entry so that it also works where the tree-delete control is not
// granted).
func NewADNamespace(t testing.TB, s *ADServer) ADNamespace {
	t.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	// OU names are limited to 64 characters in AD (ub-organizational-unit-name).
	name := "ns-" + sanitizeRDN(t.Name(), 40) + "-" + hex.EncodeToString(suffix)
	ns := ADNamespace{DN: "OU=" + name + "," + s.BaseDN}
	ns.People = "OU=People," + ns.DN
	ns.Groups = "OU=Groups," + ns.DN

	c, err := s.Dial()
	if err != nil {
		t.Fatalf("testenv: AD namespace: connect to %s: %v", s.URL, err)
	}
	defer c.Close()
	// Registered before the adds so that a half-created namespace is removed too.
	t.Cleanup(func() {
		c, err := s.Dial()
		if err == nil {
			defer c.Close()
			err = DeleteSubtree(c, ns.DN)
		}
		if err != nil {
			t.Errorf("testenv: remove AD namespace %s: %v", ns.DN, err)
		}
	})
	for _, dn := range []string{ns.DN, ns.People, ns.Groups} {
		ou, _, _ := strings.Cut(strings.TrimPrefix(dn, "OU="), ",")
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		req.Attribute("ou", []string{ou})
		if err := c.Add(req); err != nil {
			t.Fatalf("testenv: AD namespace: add %s: %v", dn, err)
		}
	}
	return ns
}

// UnicodePwd encodes password as AD's unicodePwd wants it: in double quotes, UTF-16LE. Write it
// over LDAPS (AD refuses it over a plain connection) with a replace, or an add.
func UnicodePwd(password string) string {
	u := utf16.Encode([]rune(`"` + password + `"`))
	b := make([]byte, 2*len(u))
	for i, r := range u {
		binary.LittleEndian.PutUint16(b[2*i:], r)
	}
	return string(b)
}
