package bridge_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// BenchmarkGroupMember measures one member add + remove (two PATCHes) on a
// 1k-member and a 50k-member groupOfNames, through the bridge and as the raw
// LDAP modifies the bridge issues, on the same group in the same run. slapd
// itself rewrites the whole entry on every member change (docs/directory-lab.md: ~22x from 1k
// to 50k); the bridge must add nothing that grows with the group: its time
// should track the raw time. It also times GET with excludedAttributes=members,
// which must not depend on the group's size at all.
func BenchmarkGroupMember(b *testing.B) {
	h := newHarness(b, nil)
	uid := h.user("bench-member")
	userDN := h.entry(uid).DN
	for _, size := range []int{1000, 50000} {
		gid, gdn := bigGroup(b, h, size)
		add := patchBody(`{"op":"Add","path":"members","value":[{"value":"` + uid + `"}]}`)
		remove := patchBody(`{"op":"Remove","path":"members","value":[{"value":"` + uid + `"}]}`)
		b.Run(fmt.Sprintf("raw-add-remove/%d", size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, op := range []func(*ldap.ModifyRequest){
					func(m *ldap.ModifyRequest) { m.Add("member", []string{userDN}) },
					func(m *ldap.ModifyRequest) { m.Delete("member", []string{userDN}) },
				} {
					m := ldap.NewModifyRequest(gdn, nil)
					op(m)
					if err := h.LDAP.Modify(m); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("bridge-add-remove/%d", size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if r := h.do("PATCH", "/Groups/"+gid, add); r.status != http.StatusNoContent {
					b.Fatalf("add: %d %s", r.status, r.raw)
				}
				if r := h.do("PATCH", "/Groups/"+gid, remove); r.status != http.StatusNoContent {
					b.Fatalf("remove: %d %s", r.status, r.raw)
				}
			}
		})
		b.Run(fmt.Sprintf("raw-add-remove-after/%d", size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				for _, op := range []func(*ldap.ModifyRequest){
					func(m *ldap.ModifyRequest) { m.Add("member", []string{userDN}) },
					func(m *ldap.ModifyRequest) { m.Delete("member", []string{userDN}) },
				} {
					m := ldap.NewModifyRequest(gdn, nil)
					op(m)
					if err := h.LDAP.Modify(m); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
		b.Run(fmt.Sprintf("bridge-get-excluding-members/%d", size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if r := h.do("GET", "/Groups/"+gid+"?excludedAttributes=members", ""); r.status != http.StatusOK {
					b.Fatalf("get: %d", r.status)
				}
			}
		})
		b.Run(fmt.Sprintf("raw-read-with-members/%d", size), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, err := h.LDAP.Search(ldap.NewSearchRequest(gdn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0,
					false, "(objectClass=*)", []string{"member"}, nil)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bigGroup adds a groupOfNames with size member DNs straight into LDAP (the
// members need not exist: OpenLDAP does not check) and returns its SCIM id and DN.
func bigGroup(b *testing.B, h *harness, size int) (string, string) {
	b.Helper()
	dn := fmt.Sprintf("cn=big%d,%s", size, h.NS.Groups)
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"top", "groupOfNames"})
	req.Attribute("cn", []string{fmt.Sprintf("big%d", size)})
	vals := make([]string, size)
	for i := range vals {
		vals[i] = fmt.Sprintf("uid=filler%06d,%s", i, h.NS.People)
	}
	req.Attribute("member", vals)
	if err := h.LDAP.Add(req); err != nil {
		b.Fatal(err)
	}
	e := h.groupEntryByDN(dn)
	return e.GetAttributeValue("entryUUID"), dn
}

func (h *harness) groupEntryByDN(dn string) *ldap.Entry {
	h.T.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"entryUUID"}, nil))
	if err != nil || len(res.Entries) != 1 {
		h.T.Fatalf("read %s: %v", dn, err)
	}
	return res.Entries[0]
}
