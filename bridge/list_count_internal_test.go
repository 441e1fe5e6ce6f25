package bridge

import (
	"context"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// Where the directory cannot count (the paged path), countMatches reads at
// most bound DNs: below it the count is exact; past it the answer is the
// bound or the first position not yet known to be empty, whichever is
// larger, so that a client paging until startIndex passes totalResults goes
// on. slapd gives no size estimate (always 0), so the DNs are read.
func TestCountMatchesBounded(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	c := testenv.Conn(t, srv)
	for _, uid := range []string{"c1", "c2", "c3", "c4", "c5"} {
		add := ldap.NewAddRequest("uid="+uid+","+ns.People, nil)
		add.Attribute("objectClass", []string{"inetOrgPerson"})
		add.Attribute("cn", []string{uid})
		add.Attribute("sn", []string{uid})
		if err := c.Add(add); err != nil {
			t.Fatal(err)
		}
	}
	pool, err := NewPool(config.LDAPConfig{
		URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword, PoolSize: 1, PageSize: 2,
		Timeout: 5e9, DialTimeout: 5e9,
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	q := listQuery{base: ns.People, filter: "(objectClass=inetOrgPerson)"}
	ctx := context.Background()
	if _, ok := sizeEstimate(ctx, pool, q); ok {
		t.Error("slapd gave a paged-results size estimate; the docs say it never does")
	}
	for _, tc := range []struct{ more, bound, want int }{
		{2, 10, 5}, // exact below the bound
		{2, 3, 3},  // the bound
		{4, 3, 4},  // the first position not known to be empty
		{0, 3, 3},  // count=0: nothing known beyond the bound
	} {
		if n, err := countMatches(ctx, pool, q, tc.more, tc.bound); err != nil || n != tc.want {
			t.Errorf("more %d, bound %d: %d, %v; want %d", tc.more, tc.bound, n, err, tc.want)
		}
	}
}
