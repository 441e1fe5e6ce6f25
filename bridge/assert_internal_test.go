package bridge

import (
	"context"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/testenv"
)

// The If-Match assertion is checked by slapd at write time: a write carrying
// a stale entryCSN fails with 412 and changes nothing, even if the version
// check before it had passed (a concurrent writer in between).
func TestAssertionMakesIfMatchAtomic(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	c := testenv.Conn(t, srv)
	dn := "uid=asserted," + ns.People
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"inetOrgPerson"})
	add.Attribute("cn", []string{"a"})
	add.Attribute("sn", []string{"a"})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	read := func() string {
		e := testenv.Entry(t, c, dn, "entryCSN", "title")
		return e.GetAttributeValue("entryCSN")
	}
	csn := read()
	pool, err := NewPool(config.LDAPConfig{
		URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword, PoolSize: 1,
		Timeout: 5e9, DialTimeout: 5e9,
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	u := &Users{dir: pool, log: zerolog.Nop()}
	// Someone else writes after our read.
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("title", []string{"theirs"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	upd := &ldapmap.Update{Changes: []ldap.Change{{
		Operation:    ldap.ReplaceAttribute,
		Modification: ldap.PartialAttribute{Type: "title", Vals: []string{"ours"}},
	}}, Assert: "(entryCSN=" + ldap.EscapeFilter(csn) + ")"}
	_, err = u.apply(context.Background(), dn, upd)
	if scimerr.KindOf(classify(err)) != scimerr.PreconditionFailed {
		t.Fatalf("stale write: %v, want PreconditionFailed", err)
	}
	if got := testenv.Entry(t, c, dn, "title").GetAttributeValue("title"); got != "theirs" {
		t.Errorf("title %q: the stale write went through", got)
	}
	upd.Assert = "(entryCSN=" + ldap.EscapeFilter(read()) + ")"
	if _, err := u.apply(context.Background(), dn, upd); err != nil {
		t.Fatalf("fresh write: %v", err)
	}
}
