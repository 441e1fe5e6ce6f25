package testenv_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// replTimeout bounds each wait for replication. It normally takes milliseconds; a provider
// coming back after a kill needs up to a second more, because its peer retries once a second.
const replTimeout = 10 * time.Second

// waitEntry waits until dn exists (want true) or is gone (want false) on provider i.
func waitEntry(t *testing.T, p *testenv.Pair, i int, dn string, want bool) *ldap.Entry {
	t.Helper()
	c := testenv.Conn(t, &p.Provider(i).Server)
	deadline := time.Now().Add(replTimeout)
	for {
		e := testenv.Entry(t, c, dn)
		if (e != nil) == want {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("provider %d: %s exists=%v after %v, want %v", i, dn, e != nil, replTimeout, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// requireSame waits for convergence and then requires both providers to hold the same entries.
func requireSame(t *testing.T, p *testenv.Pair) {
	t.Helper()
	ctx := context.Background()
	if err := p.WaitConverged(ctx, replTimeout); err != nil {
		t.Fatal(err)
	}
	a, err := p.Entries(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Entries(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if d := testenv.DiffEntries(a, b); d != nil {
		t.Fatalf("providers differ after converging:\n%s", strings.Join(d, "\n"))
	}
}

func TestReplicatedBothWays(t *testing.T) {
	t.Parallel()
	p := testenv.ProviderPair(t)
	if p.ServerID(0) != 1 || p.ServerID(1) != 2 {
		t.Fatalf("serverIDs %d, %d; want 1, 2", p.ServerID(0), p.ServerID(1))
	}
	c0 := testenv.Conn(t, &p.Provider(0).Server)
	c1 := testenv.Conn(t, &p.Provider(1).Server)

	// Seeded, not loaded twice: the same entry has the same identity (the SCIM id) on both.
	for _, dn := range []string{testenv.DefaultBaseDN, "ou=people," + testenv.DefaultBaseDN, testenv.NobodyDN} {
		u0 := testenv.Entry(t, c0, dn, "entryUUID").GetAttributeValue("entryUUID")
		u1 := testenv.Entry(t, c1, dn, "entryUUID").GetAttributeValue("entryUUID")
		if u0 == "" || u0 != u1 {
			t.Errorf("%s: entryUUID %q on provider 0, %q on provider 1", dn, u0, u1)
		}
	}

	people := "ou=people," + testenv.DefaultBaseDN
	alice, bob := "uid=alice,"+people, "uid=bob,"+people
	addUser(t, c0, alice, "alice", "", nil)
	e := waitEntry(t, p, 1, alice, true)
	if got, want := e.GetAttributeValue("entryUUID"), testenv.Entry(t, c0, alice).GetAttributeValue("entryUUID"); got != want {
		t.Errorf("alice's entryUUID %q on provider 1, %q on provider 0", got, want)
	}
	addUser(t, c1, bob, "bob", "bob-secret", nil)
	waitEntry(t, p, 0, bob, true)
	if err := bindAs(&p.Provider(0).Server, bob, "bob-secret"); err != nil {
		t.Fatalf("bob's bind on provider 0, before the lock: %v", err)
	}
	// The bridge's disable (the ppolicy lock) written on one provider must hold on the other.
	lock := ldap.NewModifyRequest(bob, nil)
	lock.Add("pwdAccountLockedTime", []string{"000001010000Z"})
	if err := c1.Modify(lock); err != nil {
		t.Fatal(err)
	}

	// A group written on one provider gives its member memberOf on both: the bridge reads
	// memberOf, and slapo-memberof(5) warns that it does not mix well with syncrepl.
	group := "cn=admins,ou=groups," + testenv.DefaultBaseDN
	add := ldap.NewAddRequest(group, nil)
	add.Attribute("objectClass", []string{"groupOfNames"})
	add.Attribute("cn", []string{"admins"})
	add.Attribute("member", []string{alice, bob})
	if err := c1.Add(add); err != nil {
		t.Fatal(err)
	}
	mod := ldap.NewModifyRequest(alice, nil)
	mod.Replace("mail", []string{"alice@example.org"})
	if err := c0.Modify(mod); err != nil {
		t.Fatal(err)
	}
	requireSame(t, p)
	for i, c := range []*ldap.Conn{c0, c1} {
		for _, dn := range []string{alice, bob} {
			if got := testenv.Entry(t, c, dn, "memberOf").GetAttributeValues("memberOf"); len(got) != 1 || !strings.EqualFold(got[0], group) {
				t.Errorf("provider %d: %s memberOf %q, want %s", i, dn, got, group)
			}
		}
	}
	if err := bindAs(&p.Provider(0).Server, bob, "bob-secret"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("bob's bind on provider 0 after the lock on provider 1: %v, want invalid credentials", err)
	}
	csn, err := p.ContextCSN(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if csn[1] == "" || csn[2] == "" {
		t.Errorf("contextCSN %v: want a value for serverIDs 1 and 2 after writes on both", csn)
	}
}

// The case HA is for: a provider dies without a clean shutdown, writes go to the other one,
// and the dead one catches up when it is back.
func TestReplicatedKillAndRestart(t *testing.T) {
	t.Parallel()
	p := testenv.ProviderPair(t)
	people := "ou=people," + testenv.DefaultBaseDN
	c0 := testenv.Conn(t, &p.Provider(0).Server)
	before := "uid=before," + people
	addUser(t, c0, before, "before", "", nil)
	waitEntry(t, p, 1, before, true)

	// Acknowledged by provider 0 just before it dies: provider 1 may get it only once 0 is back.
	last := "uid=last," + people
	addUser(t, c0, last, "last", "", nil)
	if err := p.Kill(0); err != nil {
		t.Fatal(err)
	}
	c1 := testenv.Conn(t, &p.Provider(1).Server)
	during := "uid=during," + people
	addUser(t, c1, during, "during", "", nil)
	mod := ldap.NewModifyRequest(before, nil)
	mod.Replace("description", []string{"changed while provider 0 was down"})
	if err := c1.Modify(mod); err != nil {
		t.Fatal(err)
	}
	if err := c1.Del(ldap.NewDelRequest(before, nil)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := p.Start(ctx, 0); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	// What the lab saw lag (docs/directory-lab.md): provider 0's contextCSN for its own serverID.
	if a, err := p.ContextCSN(ctx, 0); err == nil {
		b, _ := p.ContextCSN(ctx, 1)
		t.Logf("right after the restart: contextCSN %v on provider 0, %v on provider 1", a, b)
	}
	waitEntry(t, p, 0, during, true)
	waitEntry(t, p, 0, before, false)
	waitEntry(t, p, 1, last, true)
	requireSame(t, p)
	t.Logf("provider 0 caught up %v after its restart", time.Since(began).Round(time.Millisecond))

	// And it replicates again in both directions.
	c0 = testenv.Conn(t, &p.Provider(0).Server)
	after := "uid=after," + people
	addUser(t, c0, after, "after", "", nil)
	waitEntry(t, p, 1, after, true)
	requireSame(t, p)
}

// A write that only the crashed provider has (its peer was down, or had not applied it when
// the kill came) must reach the peer once both are back, and before later writes overtake it.
// Before the accesslog database had a syncprov checkpoint, the peer never got it and both
// contextCSNs still agreed: replication diverged silently.
func TestReplicatedWriteBeforeCrash(t *testing.T) {
	t.Parallel()
	p := testenv.ProviderPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	people := "ou=people," + testenv.DefaultBaseDN
	c0 := testenv.Conn(t, &p.Provider(0).Server)
	before := "uid=before," + people
	addUser(t, c0, before, "before", "", nil)
	waitEntry(t, p, 1, before, true)

	if err := p.Kill(1); err != nil {
		t.Fatal(err)
	}
	only0 := "uid=only0," + people
	addUser(t, c0, only0, "only0", "", nil)
	if err := p.Kill(0); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 0} { // the one without the write first, as after a failover
		if err := p.Start(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	waitEntry(t, p, 1, only0, true)
	c0 = testenv.Conn(t, &p.Provider(0).Server)
	after := "uid=after," + people
	addUser(t, c0, after, "after", "", nil)
	waitEntry(t, p, 1, after, true)
	requireSame(t, p)
}

// A delete must stay a delete: with the first session running without its serverID (the
// cn=config two-modify pitfall), the peer echoed the add back after the delete and re-created
// the entry.
func TestReplicatedDeleteNotResurrected(t *testing.T) {
	t.Parallel()
	p := testenv.ProviderPair(t)
	people := "ou=people," + testenv.DefaultBaseDN
	c0 := testenv.Conn(t, &p.Provider(0).Server)
	c1 := testenv.Conn(t, &p.Provider(1).Server)

	// Added and deleted on one provider before the peer has applied the add.
	quick := "uid=quick," + people
	addUser(t, c0, quick, "quick", "", nil)
	if err := c0.Del(ldap.NewDelRequest(quick, nil)); err != nil {
		t.Fatal(err)
	}
	// Added on one provider, deleted on the other once it arrived.
	crossed := "uid=crossed," + people
	addUser(t, c0, crossed, "crossed", "", nil)
	waitEntry(t, p, 1, crossed, true)
	if err := c1.Del(ldap.NewDelRequest(crossed, nil)); err != nil {
		t.Fatal(err)
	}
	requireSame(t, p)
	// An echo would come back within the replication lag (milliseconds); look again later.
	time.Sleep(time.Second)
	for i, c := range []*ldap.Conn{c0, c1} {
		for _, dn := range []string{quick, crossed} {
			if testenv.Entry(t, c, dn) != nil {
				t.Errorf("provider %d: %s came back after its delete", i, dn)
			}
		}
	}
	requireSame(t, p)
}

func TestParseCSN(t *testing.T) {
	const s = "20261201154238.142558Z#00000a#002#000001"
	c, err := testenv.ParseCSN(s)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 12, 1, 15, 42, 38, 142558000, time.UTC)
	if !c.Time.Equal(want) || c.Count != 10 || c.SID != 2 || c.Mod != 1 {
		t.Errorf("ParseCSN(%q) = %+v", s, c)
	}
	if c.String() != s {
		t.Errorf("String() = %q, want %q", c.String(), s)
	}
	for _, bad := range []string{
		"", "20261201154238.142558Z#000000#001", "2026#0#1#0",
		"20261201154238.142558Z#000000#zz#000000", "20261201154238.142558Z#000000#1000#000000",
		"20261201154238.142558Z##001#000000",
	} {
		if _, err := testenv.ParseCSN(bad); err == nil {
			t.Errorf("ParseCSN(%q): no error", bad)
		}
	}
}

// AccessLog shows a write on the provider that made it and on the one that
// replayed it.
func TestReplicatedAccessLog(t *testing.T) {
	t.Parallel()
	p := testenv.ProviderPair(t)
	ctx := context.Background()
	dn := "ou=accesslog-probe," + testenv.DefaultBaseDN
	c, err := p.Provider(0).Dial()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"organizationalUnit"})
	req.Attribute("ou", []string{"accesslog-probe"})
	if err := c.Add(req); err != nil {
		t.Fatal(err)
	}
	if err := p.WaitConverged(ctx, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		log, err := p.AccessLog(ctx, i, dn)
		if err != nil || len(log) != 1 || !strings.Contains(log[0], " add result=0 ") {
			t.Errorf("provider %d: %q, %v", i, log, err)
		}
	}
}
