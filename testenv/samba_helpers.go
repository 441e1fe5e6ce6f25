package testenv

import (
	"encoding/binary"
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
	dn, people, groups := newOUTree(t, "OU", s.BaseDN, s.Dial)
	return ADNamespace{DN: dn, People: people, Groups: groups}
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
