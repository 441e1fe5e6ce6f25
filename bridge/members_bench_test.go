package bridge_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// BenchmarkGroupMemberBulk measures one PATCH that adds n members and one that
// removes them, for n = 100, 1,000 and 10,000, next to the raw LDAP modifies
// that make the same change on the same group in the same run. It reports
// µs per member for both: the bridge's cost per member must stay flat as n
// grows (linear in n), as slapd's does. "readd" re-sends members already
// present (Entra retries), which the bridge answers with bounded look-ups.
func BenchmarkGroupMemberBulk(b *testing.B) {
	h := newHarness(b, nil)
	const most = 10000
	ids, dns := bulkUsers(b, h, most)
	gid := h.group("bulk")
	gdn := h.groupEntry(gid).DN
	for _, n := range []int{100, 1000, most} {
		values := make([]string, n)
		for i := range values {
			values[i] = `{"value":"` + ids[i] + `"}`
		}
		list := "[" + strings.Join(values, ",") + "]"
		add := patchBody(`{"op":"add","path":"members","value":` + list + `}`)
		remove := patchBody(`{"op":"remove","path":"members","value":` + list + `}`)
		perMember := func(b *testing.B, d time.Duration, ops int) {
			b.ReportMetric(float64(d.Microseconds())/float64(ops*n*b.N), "µs/member")
		}
		b.Run(fmt.Sprintf("raw/%d", n), func(b *testing.B) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for _, op := range []func(*ldap.ModifyRequest){
					func(m *ldap.ModifyRequest) { m.Add("member", dns[:n]) },
					func(m *ldap.ModifyRequest) { m.Delete("member", dns[:n]) },
				} {
					m := ldap.NewModifyRequest(gdn, nil)
					op(m)
					if err := h.LDAP.Modify(m); err != nil {
						b.Fatal(err)
					}
				}
			}
			perMember(b, time.Since(start), 2)
		})
		b.Run(fmt.Sprintf("bridge/%d", n), func(b *testing.B) {
			start := time.Now()
			for i := 0; i < b.N; i++ {
				for _, body := range []string{add, remove} {
					if r := h.do("PATCH", "/Groups/"+gid, body); r.status != http.StatusNoContent {
						b.Fatalf("%d %s", r.status, r.raw)
					}
				}
			}
			perMember(b, time.Since(start), 2)
		})
		b.Run(fmt.Sprintf("bridge-readd/%d", n), func(b *testing.B) {
			if r := h.do("PATCH", "/Groups/"+gid, add); r.status != http.StatusNoContent {
				b.Fatalf("%d %s", r.status, r.raw)
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if r := h.do("PATCH", "/Groups/"+gid, add); r.status != http.StatusNoContent {
					b.Fatalf("%d %s", r.status, r.raw)
				}
			}
			perMember(b, time.Since(start), 1)
			b.StopTimer()
			if r := h.do("PATCH", "/Groups/"+gid, remove); r.status != http.StatusNoContent {
				b.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
}

// bulkUsers adds n users straight into LDAP and returns their SCIM ids
// (entryUUID) and DNs.
func bulkUsers(b *testing.B, h *harness, n int) (ids, dns []string) {
	b.Helper()
	for i := 0; i < n; i++ {
		dn := fmt.Sprintf("uid=bulk%05d,%s", i, h.NS.People)
		req := ldap.NewAddRequest(dn, nil)
		req.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson"})
		req.Attribute("uid", []string{fmt.Sprintf("bulk%05d", i)})
		req.Attribute("cn", []string{"Bulk"})
		req.Attribute("sn", []string{"Bulk"})
		if err := h.LDAP.Add(req); err != nil {
			b.Fatal(err)
		}
		dns = append(dns, dn)
	}
	res, err := h.LDAP.SearchWithPaging(ldap.NewSearchRequest(h.NS.People, ldap.ScopeSingleLevel, ldap.NeverDerefAliases,
		0, 0, false, "(uid=bulk*)", []string{"entryUUID", "uid"}, nil), 1000)
	if err != nil {
		b.Fatal(err)
	}
	byDN := map[string]string{}
	for _, e := range res.Entries {
		byDN[strings.ToLower(e.DN)] = e.GetAttributeValue("entryUUID")
	}
	for _, dn := range dns {
		ids = append(ids, byDN[strings.ToLower(dn)])
	}
	return ids, dns
}
