package testenv_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// ownSlapd starts a private server for tests that stop, pause or restart it, which must never
// happen to the shared one.
func ownSlapd(t *testing.T, opts testenv.SlapdOptions) *testenv.Slapd {
	t.Helper()
	testenv.OpenLDAP(t) // same skip/fail policy as every other test
	if os.Getenv(testenv.EnvURL) != "" {
		t.Skip("uses a private slapd; skipped against an external server, which CI never sets")
	}
	opts.Logf = t.Logf
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := testenv.StartSlapd(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func addUser(t *testing.T, c *ldap.Conn, dn, uid, password string, extra map[string][]string) {
	t.Helper()
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{uid})
	req.Attribute("cn", []string{uid})
	req.Attribute("sn", []string{uid})
	if password != "" {
		req.Attribute("userPassword", []string{password})
	}
	for k, v := range extra {
		req.Attribute(k, v)
	}
	if err := c.Add(req); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
}

func bindAs(s *testenv.Server, dn, password string) error {
	c, err := ldap.DialURL(s.URL)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Bind(dn, password)
}

func TestUserGroupEntryUUIDAndMemberOf(t *testing.T) {
	t.Parallel()
	s := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, s)
	c := testenv.Conn(t, s)

	alice := "uid=alice," + ns.People
	addUser(t, c, alice, "alice", "", map[string][]string{"mail": {"alice@example.org"}})
	e := testenv.Entry(t, c, alice)
	if e == nil || e.GetAttributeValue("entryUUID") == "" {
		t.Fatalf("entryUUID missing: %+v", e)
	}

	group := "cn=staff," + ns.Groups
	req := ldap.NewAddRequest(group, nil)
	req.Attribute("objectClass", []string{"groupOfNames"})
	req.Attribute("cn", []string{"staff"})
	req.Attribute("member", []string{alice})
	if err := c.Add(req); err != nil {
		t.Fatal(err)
	}
	if got := testenv.Entry(t, c, alice, "memberOf").GetAttributeValues("memberOf"); !slices.Equal(got, []string{group}) {
		t.Fatalf("memberOf = %q, want [%s]", got, group)
	}

	// refint_nothing: deleting the last member leaves the placeholder, not an invalid group.
	// refint does this asynchronously (memberof-refint removes other members synchronously,
	// but cannot empty a groupOfNames): an immediate read still shows the deleted DN in
	// roughly a third of tries, for a few milliseconds.
	if err := c.Del(ldap.NewDelRequest(alice, nil)); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	for {
		got := testenv.Entry(t, c, group, "member").GetAttributeValues("member")
		if slices.Equal(got, []string{testenv.NobodyDN}) {
			break
		}
		if time.Since(began) > 3*time.Second {
			t.Fatalf("member after deleting the last member = %q, want [%s]", got, testenv.NobodyDN)
		}
		time.Sleep(time.Millisecond)
	}
	if testenv.Entry(t, c, alice) != nil {
		t.Fatal("deleted user still readable")
	}
}

// The bridge disables users with pwdAccountLockedTime; this proves the configuration makes
// that lock real (docs/directory-lab.md: without the default policy the user could still bind).
func TestLockedUserCannotBind(t *testing.T) {
	t.Parallel()
	s := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, s)
	c := testenv.Conn(t, s)

	bob := "uid=bob," + ns.People
	addUser(t, c, bob, "bob", "Secret-1234", nil)
	if err := bindAs(s, bob, "Secret-1234"); err != nil {
		t.Fatalf("unlocked user cannot bind: %v", err)
	}
	if err := bindAs(s, bob, "wrong"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("wrong password: %v, want invalid credentials", err)
	}

	lock := ldap.NewModifyRequest(bob, nil)
	lock.Add("pwdAccountLockedTime", []string{"000001010000Z"})
	if err := c.Modify(lock); err != nil {
		t.Fatal(err)
	}
	if err := bindAs(s, bob, "Secret-1234"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("locked user: bind error %v, want invalid credentials", err)
	}

	unlock := ldap.NewModifyRequest(bob, nil)
	unlock.Delete("pwdAccountLockedTime", nil)
	if err := c.Modify(unlock); err != nil {
		t.Fatal(err)
	}
	if err := bindAs(s, bob, "Secret-1234"); err != nil {
		t.Fatalf("unlocked again, cannot bind: %v", err)
	}

	// Locked from creation on, as the bridge does for a user provisioned with active=false.
	carol := "uid=carol," + ns.People
	addUser(t, c, carol, "carol", "Secret-1234", map[string][]string{"pwdAccountLockedTime": {"000001010000Z"}})
	if err := bindAs(s, carol, "Secret-1234"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("user locked at creation: bind error %v, want invalid credentials", err)
	}
}

func TestNamespaceCleanupRemovesSubtree(t *testing.T) {
	t.Parallel()
	s := testenv.OpenLDAP(t)
	var ns testenv.Namespace
	t.Run("inner", func(t *testing.T) {
		ns = testenv.NewNamespace(t, s)
		c := testenv.Conn(t, s)
		for _, uid := range []string{"u1", "u2", "u3"} {
			addUser(t, c, "uid="+uid+","+ns.People, uid, "", nil)
		}
		req := ldap.NewAddRequest("cn=g,"+ns.Groups, nil)
		req.Attribute("objectClass", []string{"groupOfNames"})
		req.Attribute("cn", []string{"g"})
		req.Attribute("member", []string{"uid=u1," + ns.People, "uid=u2," + ns.People})
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
		if testenv.Entry(t, c, ns.Groups) == nil {
			t.Fatal("namespace not created")
		}
	})
	if testenv.Entry(t, testenv.Conn(t, s), ns.DN) != nil {
		t.Fatalf("%s still exists after the subtest's cleanup", ns.DN)
	}
}

func TestRestartKeepsDataAndPort(t *testing.T) {
	t.Parallel()
	s := ownSlapd(t, testenv.SlapdOptions{Password: `we"ird \pw`})
	c := testenv.Conn(t, &s.Server)
	dn := "uid=dora,ou=people," + s.BaseDN
	addUser(t, c, dn, "dora", "", nil)
	url := s.URL

	if err := s.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s.URL != url {
		t.Fatalf("URL changed from %s to %s", url, s.URL)
	}
	// The old connection died with the old process; a new one must see the entry.
	if testenv.Entry(t, testenv.Conn(t, &s.Server), dn) == nil {
		t.Fatal("entry lost by Restart")
	}
}

func TestPauseResume(t *testing.T) {
	t.Parallel()
	s := ownSlapd(t, testenv.SlapdOptions{})
	c := testenv.Conn(t, &s.Server)
	c.SetTimeout(300 * time.Millisecond)
	read := func() error {
		_, err := c.Search(ldap.NewSearchRequest(s.BaseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"1.1"}, nil))
		return err
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}
	if err := s.Pause(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if err := read(); err == nil {
		t.Fatal("paused server answered")
	}
	if d := time.Since(began); d < 250*time.Millisecond {
		t.Fatalf("paused server failed after %v: want a timeout, not a refusal", d)
	}
	if err := s.Resume(); err != nil {
		t.Fatal(err)
	}
	// go-ldap gives up on the connection after a timeout; a new one must work at once.
	if testenv.Entry(t, testenv.Conn(t, &s.Server), s.BaseDN) == nil {
		t.Fatal("no base entry after Resume")
	}
}

func TestStopRemovesTempDirAndReusedDirKeepsData(t *testing.T) {
	t.Parallel()
	s := ownSlapd(t, testenv.SlapdOptions{})
	dir, pid := s.Dir(), s.Pid()
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("temp dir %s survives Stop: %v", dir, err)
	}
	if err := s.Restart(context.Background()); err == nil {
		t.Fatal("Restart after Stop succeeded")
	}
	if pid == 0 {
		t.Fatal("no pid")
	}

	// A caller-supplied Dir (the demo's) survives Stop and keeps its entries across starts.
	own := t.TempDir()
	s1 := ownSlapd(t, testenv.SlapdOptions{Dir: own, Password: "first"})
	addUser(t, testenv.Conn(t, &s1.Server), "uid=eve,ou=people,"+s1.BaseDN, "eve", "", nil)
	if err := s1.Stop(); err != nil {
		t.Fatal(err)
	}
	s2 := ownSlapd(t, testenv.SlapdOptions{Dir: own, Password: "second"})
	if testenv.Entry(t, testenv.Conn(t, &s2.Server), "uid=eve,ou=people,"+s2.BaseDN) == nil {
		t.Fatal("entry lost when reusing Dir")
	}
}
