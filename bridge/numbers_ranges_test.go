package bridge_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
)

// Per-server number ranges (issue 14): each directory server (ldap.url, then
// ldap.failover_urls) hands out numbers from its own counter and range, so
// that numbers a failed server handed out but had not replicated cannot be
// handed out again by the server that takes over.

// deadURL is where nothing listens: a server that is down.
const deadURL = "ldap://127.0.0.1:1"

// onServer points the bridge at the harness's directory as server 0 (ldap.url)
// or server 1 (failover_urls[0]), the other one being down.
func onServer(c *config.Config, good string, server int) {
	if server == 0 {
		c.LDAP.URL, c.LDAP.FailoverURLs = good, []string{deadURL}
	} else {
		c.LDAP.URL, c.LDAP.FailoverURLs = deadURL, []string{good}
	}
}

// posixUsers makes new users posixAccounts whose uidNumber comes from ranges.
func posixUsers(c *config.Config, ranges ...config.NumberRange) {
	c.Users.ObjectClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount"}
	c.Users.UIDNumber = config.GIDNumberConfig{Ranges: ranges}
	c.Users.Derive = append(c.Users.Derive,
		config.DeriveConfig{LDAP: "homeDirectory", Template: "/home/{{ .uid }}"},
		config.DeriveConfig{LDAP: "gidNumber", Template: "100"})
}

// posixGroups makes new groups posixGroups whose gidNumber comes from ranges.
func posixGroups(c *config.Config, ranges ...config.NumberRange) {
	c.Groups.ObjectClasses = []string{"top", "posixGroup"}
	c.Groups.MemberAttribute = "memberUid"
	c.Groups.EmptyMember = ""
	c.Groups.Filter = "(objectClass=posixGroup)"
	c.Groups.GIDNumber = config.GIDNumberConfig{Ranges: ranges}
}

// counterValue is what the counter entry dn holds in attr, "" when there is
// no such entry.
func counterValue(h *harness, dn, attr string) string {
	h.T.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{attr}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return ""
	}
	if err != nil || len(res.Entries) != 1 {
		h.T.Fatalf("read %s: %v", dn, err)
	}
	return res.Entries[0].GetAttributeValue(attr)
}

// A bridge whose ldap.url is down runs on failover_urls[0] and takes
// uidNumbers from ranges[1]; one on ldap.url takes them from ranges[0]. Each
// server's counter is written only by requests running on that server. The
// first create of each bridge is also the first request of its pool: it
// fails over to the standby rather than being pinned to the dead ldap.url.
func TestUIDNumberRangePerServer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := h.Cfg.LDAP.URL
	ranges := []config.NumberRange{
		{CounterDN: "cn=uidNext-1," + h.NS.DN, Start: 1000, End: 1999},
		{CounterDN: "cn=uidNext-2," + h.NS.DN, Start: 5000, End: 5999},
	}
	standby := rebuildWith(t, h, func(c *config.Config) { onServer(c, good, 1); posixUsers(c, ranges...) })
	for i := range 3 {
		one(t, standby.entry(standby.user("standby"+itoa(i))), "uidNumber", itoa(5000+i))
	}
	if v := counterValue(h, ranges[0].CounterDN, "uidNumber"); v != "" {
		t.Errorf("the counter of server 0 holds %q: a request on server 1 used it", v)
	}
	if v := counterValue(h, ranges[1].CounterDN, "uidNumber"); v != "5003" {
		t.Errorf("the counter of server 1 holds %q, want 5003", v)
	}

	primary := rebuildWith(t, h, func(c *config.Config) { onServer(c, good, 0); posixUsers(c, ranges...) })
	for i := range 2 {
		one(t, primary.entry(primary.user("primary"+itoa(i))), "uidNumber", itoa(1000+i))
	}
	if v := counterValue(h, ranges[1].CounterDN, "uidNumber"); v != "5003" {
		t.Errorf("the counter of server 1 holds %q after creates on server 0, want 5003", v)
	}
}

// The end of a range is the last number handed out; then creates fail with a
// 500 whose logged cause tells the admin which server's range ran out, and
// write nothing. The counter is left as it is.
func TestUIDNumberRangeExhausted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := h.Cfg.LDAP.URL
	ranges := []config.NumberRange{
		{CounterDN: "cn=uidNext-1," + h.NS.DN, Start: 1000, End: 1999},
		{CounterDN: "cn=uidNext-2," + h.NS.DN, Start: 5000, End: 5001},
	}
	standby := rebuildWith(t, h, func(c *config.Config) { onServer(c, good, 1); posixUsers(c, ranges...) })
	one(t, standby.entry(standby.user("last0")), "uidNumber", "5000")
	one(t, standby.entry(standby.user("last1")), "uidNumber", "5001")
	for range 2 {
		r := standby.do("POST", "/Users", `{"userName":"one-too-many"}`)
		scimErr(t, r, http.StatusInternalServerError, "")
	}
	if n := h.count("(uid=one-too-many)"); n != 0 {
		t.Errorf("%d entries added without a uidNumber", n)
	}
	if v := counterValue(h, ranges[1].CounterDN, "uidNumber"); v != "5002" {
		t.Errorf("counter holds %q, want 5002", v)
	}
	want := "users.uid_number.ranges[1]: the uidNumber range 5000-5001 of directory server 1 (ldap.failover_urls[0]) " +
		"is exhausted (counter cn=uidNext-2," + h.NS.DN + " holds 5002): raise its end, or give the server another range"
	if !strings.Contains(h.Logs.String(), want) {
		t.Errorf("the log does not say %q:\n%s", want, h.Logs.String())
	}
	// Server 0's range is not touched by server 1 running out.
	if v := counterValue(h, ranges[0].CounterDN, "uidNumber"); v != "" {
		t.Errorf("the counter of server 0 holds %q", v)
	}
}

// groups.gid_number.ranges work the same way for posixGroups.
func TestGIDNumberRangePerServer(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := h.Cfg.LDAP.URL
	ranges := []config.NumberRange{
		{CounterDN: "cn=gidNext-1," + h.NS.DN, Start: 20000, End: 20999},
		{CounterDN: "cn=gidNext-2," + h.NS.DN, Start: 30000, End: 30001},
	}
	standby := rebuildWith(t, h, func(c *config.Config) { onServer(c, good, 1); posixGroups(c, ranges...) })
	one(t, standby.groupEntry(standby.group("standby0")), "gidNumber", "30000")
	one(t, standby.groupEntry(standby.group("standby1")), "gidNumber", "30001")
	r := standby.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"one-too-many"}`)
	scimErr(t, r, http.StatusInternalServerError, "")
	want := "groups.gid_number.ranges[1]: the gidNumber range 30000-30001 of directory server 1 (ldap.failover_urls[0]) is exhausted"
	if !strings.Contains(h.Logs.String(), want) {
		t.Errorf("the log does not say %q:\n%s", want, h.Logs.String())
	}
	if v := counterValue(h, ranges[0].CounterDN, "gidNumber"); v != "" {
		t.Errorf("the counter of server 0 holds %q: a request on server 1 used it", v)
	}

	primary := rebuildWith(t, h, func(c *config.Config) { onServer(c, good, 0); posixGroups(c, ranges...) })
	one(t, primary.groupEntry(primary.group("primary0")), "gidNumber", "20000")
	one(t, primary.groupEntry(primary.group("primary1")), "gidNumber", "20001")
}

// A counter below its range (set by hand, or another range's) would hand out
// numbers outside the range, which may be another server's: refused.
func TestNumberCounterBelowRange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := h.Cfg.LDAP.URL
	ranges := []config.NumberRange{
		{CounterDN: "cn=uidNext-1," + h.NS.DN, Start: 1000, End: 1999},
		{CounterDN: "cn=uidNext-2," + h.NS.DN, Start: 5000, End: 5999},
	}
	add := ldap.NewAddRequest(ranges[1].CounterDN, nil)
	add.Attribute("objectClass", []string{"top", "device", "extensibleObject"})
	add.Attribute("cn", []string{"uidNext-2"})
	add.Attribute("uidNumber", []string{"1500"})
	if err := h.LDAP.Add(add); err != nil {
		t.Fatal(err)
	}
	standby := rebuildWith(t, h, func(c *config.Config) { onServer(c, good, 1); posixUsers(c, ranges...) })
	scimErr(t, standby.do("POST", "/Users", `{"userName":"below"}`), http.StatusInternalServerError, "")
	want := "users.uid_number.ranges[1]: counter cn=uidNext-2," + h.NS.DN + " holds 1500, below the range 5000-5999 " +
		"of directory server 1 (ldap.failover_urls[0])"
	if !strings.Contains(h.Logs.String(), want) {
		t.Errorf("the log does not say %q:\n%s", want, h.Logs.String())
	}
}

// The single counter_dn is shared by every server, as before ranges: a bridge
// on failover_urls[0] takes its numbers from it too.
func TestNumberCounterSingleOnFailover(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	good := h.Cfg.LDAP.URL
	standby := rebuildWith(t, h, func(c *config.Config) {
		onServer(c, good, 1)
		posixUsers(c)
		c.Users.UIDNumber = config.GIDNumberConfig{CounterDN: "cn=uidNext," + h.NS.DN, Start: 7000}
	})
	one(t, standby.entry(standby.user("shared0")), "uidNumber", "7000")
	one(t, standby.entry(standby.user("shared1")), "uidNumber", "7001")
}
