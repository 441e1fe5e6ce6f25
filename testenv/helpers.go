package testenv

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// Conn dials and binds as the admin (t.Cleanup closes it); helper for tests that read LDAP
// directly, e.g. to check what the bridge wrote.
func Conn(t testing.TB, s *Server) *ldap.Conn {
	t.Helper()
	c, err := s.Dial()
	if err != nil {
		t.Fatalf("testenv: connect to %s as %s: %v", s.URL, s.BindDN, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Entry reads one object by DN, with operational attributes by default because entryUUID and
// memberOf (the attributes the bridge depends on) are operational in OpenLDAP. It returns nil
// when there is no such object, so that tests can assert deletion.
func Entry(t testing.TB, c *ldap.Conn, dn string, attrs ...string) *ldap.Entry {
	t.Helper()
	if len(attrs) == 0 {
		attrs = []string{"*", "+"}
	}
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		t.Fatalf("testenv: read %s: %v", dn, err)
	}
	if len(res.Entries) != 1 {
		t.Fatalf("testenv: read %s: %d entries", dn, len(res.Entries))
	}
	return res.Entries[0]
}

// Namespace is one test's own subtree, so that tests can share a server, run in parallel and
// use fixed names (uid=alice) without colliding. Fields are DNs.
type Namespace struct {
	DN     string // ou=<unique>,<BaseDN>
	People string // ou=people,<DN>: where the bridge's users go
	Groups string // ou=groups,<DN>: where the bridge's groups go
}

// NewNamespace creates ou=<unique>,<BaseDN> with ou=people and ou=groups below it, and registers
// a t.Cleanup that deletes the whole subtree. Groups need a member from the start
// (groupOfNames); NobodyDN is the placeholder refint also uses.
func NewNamespace(t testing.TB, s *Server) Namespace {
	t.Helper()
	dn, people, groups := newOUTree(t, "ou", s.BaseDN, s.Dial)
	return Namespace{DN: dn, People: people, Groups: groups}
}

// newOUTree creates <attr>=ns-<test>-<random>,<base> with people and groups OUs below it and
// registers a cleanup of the whole subtree (children first, entry by entry, which also works
// on AD where the tree-delete control may not be granted). OpenLDAP and AD differ only in how
// they spell the attribute and how a connection is made.
func newOUTree(t testing.TB, attr, base string, dial func() (*ldap.Conn, error)) (dn, people, groups string) {
	t.Helper()
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	// OU names are limited to 64 characters in AD (ub-organizational-unit-name).
	name := "ns-" + sanitizeRDN(t.Name(), 40) + "-" + hex.EncodeToString(suffix)
	dn = attr + "=" + name + "," + base
	people, groups = attr+"=people,"+dn, attr+"=groups,"+dn
	c, err := dial()
	if err != nil {
		t.Fatalf("testenv: namespace: connect: %v", err)
	}
	defer c.Close()
	// Registered before the adds so that a half-created namespace is removed too.
	t.Cleanup(func() {
		c, err := dial()
		if err == nil {
			defer c.Close()
			err = DeleteSubtree(c, dn)
		}
		if err != nil {
			t.Errorf("testenv: remove namespace %s: %v", dn, err)
		}
	})
	for _, d := range []string{dn, people, groups} {
		ou, _, _ := strings.Cut(d[len(attr)+1:], ",")
		req := ldap.NewAddRequest(d, nil)
		req.Attribute("objectClass", []string{"organizationalUnit"})
		req.Attribute("ou", []string{ou})
		if err := c.Add(req); err != nil {
			t.Fatalf("testenv: namespace: add %s: %v", d, err)
		}
	}
	return dn, people, groups
}

// sanitizeRDN turns a test name into a readable RDN value that needs no DN escaping, so that a
// leftover namespace can be traced back to its test.
func sanitizeRDN(s string, max int) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-') {
			b[i] = '-'
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// DeleteSubtree deletes dn and everything below it, children first, because OpenLDAP refuses to
// delete a non-leaf and has no tree-delete control. A missing dn is not an error.
func DeleteSubtree(c *ldap.Conn, dn string) error {
	// Retried because another client (a bridge still running in the background) may add a child
	// between the search and the deletes.
	for round := 0; ; round++ {
		res, err := c.SearchWithPaging(ldap.NewSearchRequest(dn, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
			0, 0, false, "(objectClass=*)", []string{"1.1"}, nil), 500)
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
			return nil
		}
		if err != nil {
			return err
		}
		dns := make([]string, len(res.Entries))
		for i, e := range res.Entries {
			dns[i] = e.DN
		}
		// A child's DN ends with its parent's DN, so it is always longer: longest first deletes
		// children before parents.
		sort.Slice(dns, func(i, j int) bool { return len(dns[i]) > len(dns[j]) })
		var nonLeaf bool
		for _, d := range dns {
			err := c.Del(ldap.NewDelRequest(d, nil))
			switch {
			case err == nil, ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject):
			case ldap.IsErrorWithCode(err, ldap.LDAPResultNotAllowedOnNonLeaf) && round < 5:
				nonLeaf = true
			default:
				return fmt.Errorf("delete %s: %w", d, err)
			}
		}
		if !nonLeaf {
			return nil
		}
	}
}

// LogBuffer collects output written from several goroutines (a bridge's
// log, a child process's stdout and stderr), for tests that assert on it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
