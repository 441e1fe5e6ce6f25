package bridge_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
)

// Group requests from docs/entra-wire-reference.md §1.2 and §3.3–3.4.

const entraCreateGroup = `{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
    "displayName": "displayName",
    "meta": {
        "resourceType": "Group"
    }
}`

// groupEntry reads a group by SCIM id straight from LDAP.
func (h *harness) groupEntry(id string) *ldap.Entry {
	h.T.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(h.NS.Groups, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0,
		false, h.IDFilter(id), []string{"*", "+"}, nil))
	if err != nil {
		h.T.Fatal(err)
	}
	if len(res.Entries) == 0 {
		return nil
	}
	return res.Entries[0]
}

func (h *harness) group(name string) string {
	h.T.Helper()
	r := h.must(http.StatusCreated, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+name+`"}`)
	return r.body["id"].(string)
}

// members returns the member attribute values, as DNs compared case-insensitively.
func members(t testing.TB, e *ldap.Entry, attr string) []string {
	t.Helper()
	var out []string
	for _, v := range e.GetEqualFoldAttributeValues(attr) {
		out = append(out, strings.ToLower(v))
	}
	return out
}

func wantMembers(t testing.TB, e *ldap.Entry, attr string, want ...string) {
	t.Helper()
	got := members(t, e, attr)
	if len(got) != len(want) {
		t.Fatalf("%s = %q, want %q", attr, got, want)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			found = found || sameDN(g, w) || g == strings.ToLower(w)
		}
		if !found {
			t.Fatalf("%s = %q, want %q", attr, got, want)
		}
	}
}

const nobody = "cn=nobody,dc=example,dc=org"

func TestEntraCreateAndGetGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	r := h.must(http.StatusCreated, "POST", "/Groups", entraCreateGroup)
	id := r.body["id"].(string)
	e := h.groupEntry(id)
	if e == nil {
		t.Fatal("no group entry")
	}
	one(t, e, "cn", "displayName")
	one(t, e, "description", "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
	wantMembers(t, e, "member", nobody) // groupOfNames needs one member while empty
	if r.body["displayName"] != "displayName" || r.body["externalId"] != "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159" ||
		path(r.body, "meta", "resourceType") != "Group" {
		t.Errorf("body %s", r.raw)
	}
	if m, _ := r.body["members"].([]any); len(m) != 0 {
		t.Errorf("placeholder shown as a member: %s", r.raw)
	}
	g := h.must(http.StatusOK, "GET", "/Groups/"+id+"?excludedAttributes=members", "")
	if _, has := g.body["members"]; has || g.body["id"] != id {
		t.Errorf("GET excludedAttributes=members: %s", g.raw)
	}
	q := h.must(http.StatusOK, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "DISPLAYNAME"`), "")
	res, _ := q.body["Resources"].([]any)
	if q.body["totalResults"] != jsonNumber(1) || len(res) != 1 || path(res[0], "id") != id || path(res[0], "members") != nil {
		t.Errorf("filter by displayName: %s", q.raw)
	}
	q = h.must(http.StatusOK, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "random-probe"`), "")
	if q.body["totalResults"] != jsonNumber(0) {
		t.Errorf("probe: %s", q.raw)
	}
	scimErr(t, h.do("POST", "/Groups", entraCreateGroup), http.StatusConflict, "uniqueness")
	scimErr(t, h.do("POST", "/Groups", `{"externalId":"x"}`), http.StatusBadRequest, "invalidValue")
}

// Add and remove members in both dialects: one modify of just those values,
// idempotent under Entra's retries, the placeholder swapped in and out.
func TestEntraGroupMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("team")
	u1, u2 := h.user("m1"), h.user("m2")
	dn1, dn2 := h.entry(u1).DN, h.entry(u2).DN

	add := patchBody(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + u1 + `"}]}`)
	r := h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add)
	if r.raw != "" {
		t.Errorf("204 with body %q", r.raw)
	}
	wantMembers(t, h.groupEntry(gid), "member", dn1)
	if mo := attr(h.entry(u1), "memberOf"); len(mo) != 1 || !sameDN(mo[0], h.groupEntry(gid).DN) {
		t.Errorf("memberOf %q", mo)
	}
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add) // Entra re-sends adds
	wantMembers(t, h.groupEntry(gid), "member", dn1)

	// aadOptscim062020 add: no $ref; two members, one already there.
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid,
		patchBody(`{"op":"add","path":"members","value":[{"value":"`+u1+`"},{"value":"`+u2+`"}]}`))
	wantMembers(t, h.groupEntry(gid), "member", dn1, dn2)

	g := h.must(http.StatusOK, "GET", "/Groups/"+gid, "")
	ms, _ := g.body["members"].([]any)
	if len(ms) != 2 {
		t.Fatalf("members: %s", g.raw)
	}
	for _, m := range ms {
		v, _ := path(m, "value").(string)
		if (v != u1 && v != u2) || !strings.HasSuffix(path(m, "$ref").(string), "/Users/"+v) {
			t.Errorf("member %v", m)
		}
	}
	u := h.must(http.StatusOK, "GET", "/Users/"+u1, "")
	if gs, _ := u.body["groups"].([]any); len(gs) != 1 || path(gs[0], "value") != gid || path(gs[0], "display") != "team" {
		t.Errorf("user groups: %s", u.raw)
	}

	// Default dialect removal: value array with "$ref": null (removes only u1).
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid,
		patchBody(`{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+u1+`"}]}`))
	wantMembers(t, h.groupEntry(gid), "member", dn2)
	// Removing an absent member is not an error.
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid,
		patchBody(`{"op":"Remove","path":"members","value":[{"value":"`+u1+`"}]}`))
	// aadOptscim062020 removal of the last member: the placeholder comes back.
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"remove","path":"members[value eq \"`+u2+`\"]"}`))
	wantMembers(t, h.groupEntry(gid), "member", nobody)
	g = h.must(http.StatusOK, "GET", "/Groups/"+gid, "")
	if ms, _ := g.body["members"].([]any); len(ms) != 0 {
		t.Errorf("empty group shows members: %s", g.raw)
	}
	// Adding to the empty group removes the placeholder.
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add)
	wantMembers(t, h.groupEntry(gid), "member", dn1)
}

func TestGroupMemberUnknownIDWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("strict")
	u1 := h.user("known")
	r := h.do("PATCH", "/Groups/"+gid, patchBody(`{"op":"Add","path":"members","value":[{"value":"`+u1+
		`"},{"value":"00000000-0000-0000-0000-000000000000"}]}`))
	scimErr(t, r, http.StatusBadRequest, "invalidValue")
	wantMembers(t, h.groupEntry(gid), "member", nobody)
	r = h.do("PATCH", "/Groups/"+gid, patchBody(`{"op":"Replace","path":"displayName","value":"renamed"},`+
		`{"op":"Add","path":"members","value":[{"value":"nope"}]}`))
	scimErr(t, r, http.StatusBadRequest, "invalidValue")
	one(t, h.groupEntry(gid), "cn", "strict")
}

// Update Group [Non-member attributes]: displayName is the RDN, so a modrdn.
func TestEntraRenameGroup(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("before")
	u1 := h.user("stays")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"Add","path":"members","value":[{"value":"`+u1+`"}]}`))
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid,
		patchBody(`{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}`))
	e := h.groupEntry(gid)
	if !strings.HasPrefix(strings.ToLower(e.DN), "cn=1879db59-3bdf-4490-ad68-ab880a269474updateddisplayname,") {
		t.Errorf("DN %s", e.DN)
	}
	wantMembers(t, e, "member", h.entry(u1).DN)
	g := h.must(http.StatusOK, "GET", "/Groups/"+gid+"?excludedAttributes=members", "")
	if g.body["displayName"] != "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName" {
		t.Errorf("%s", g.raw)
	}
}

func TestDeleteUserLeavesGroups(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("left")
	u1, u2 := h.user("goes"), h.user("remains")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid,
		patchBody(`{"op":"Add","path":"members","value":[{"value":"`+u1+`"},{"value":"`+u2+`"}]}`))
	h.must(http.StatusNoContent, "DELETE", "/Users/"+u1, "")
	wantMembers(t, h.groupEntry(gid), "member", h.entry(u2).DN)
	h.must(http.StatusNoContent, "DELETE", "/Users/"+u2, "")
	// refint puts the placeholder in asynchronously (testenv's finding): poll.
	deadline := time.Now().Add(2 * time.Second)
	for {
		got := members(t, h.groupEntry(gid), "member")
		if len(got) == 1 && sameDN(got[0], nobody) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("members after deleting every user: %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestDeleteGroupKeepsUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("doomed")
	u1 := h.user("survivor")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"Add","path":"members","value":[{"value":"`+u1+`"}]}`))
	h.must(http.StatusNoContent, "DELETE", "/Groups/"+gid, "")
	if h.groupEntry(gid) != nil {
		t.Fatal("group still there")
	}
	if h.entry(u1) == nil {
		t.Fatal("user deleted with the group")
	}
	scimErr(t, h.do("GET", "/Groups/"+gid, ""), http.StatusNotFound, "")
}

func TestPutGroupReplacesMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	gid := h.group("put")
	u1, u2 := h.user("a1"), h.user("a2")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"Add","path":"members","value":[{"value":"`+u1+`"}]}`))
	r := h.must(http.StatusOK, "PUT", "/Groups/"+gid, `{"displayName":"put","externalId":"e1","members":[{"value":"`+u2+`"}]}`)
	wantMembers(t, h.groupEntry(gid), "member", h.entry(u2).DN)
	one(t, h.groupEntry(gid), "description", "e1")
	if ms, _ := r.body["members"].([]any); len(ms) != 1 || path(ms[0], "value") != u2 {
		t.Errorf("%s", r.raw)
	}
	h.must(http.StatusOK, "PUT", "/Groups/"+gid, `{"displayName":"put","members":[]}`)
	wantMembers(t, h.groupEntry(gid), "member", nobody)
	none(t, h.groupEntry(gid), "description")
}

func TestDefaultGroups(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	staff := h.group("staff")
	staffDN := h.groupEntry(staff).DN
	h2 := rebuildWith(t, h, func(c *config.Config) { c.Users.DefaultGroups = []string{staffDN} })
	u1 := h2.user("newcomer")
	u2 := h2.user("second")
	wantMembers(t, h2.groupEntry(staff), "member", h2.entry(u1).DN, h2.entry(u2).DN)
}

func TestGroupsDisabled(t *testing.T) {
	t.Parallel()
	f := false
	h := newHarness(t, func(c *config.Config) { c.Groups.Enabled = &f })
	for _, p := range []string{"/Groups", "/Groups/x", "/Groups?excludedAttributes=members&filter=displayName+eq+%22x%22"} {
		r := h.do("GET", p, "")
		scimErr(t, r, http.StatusNotImplemented, "")
		if !strings.Contains(r.body["detail"].(string), "groups.enabled") {
			t.Errorf("detail does not say how to fix it: %s", r.raw)
		}
	}
	h.user("still-works")
}

func TestPosixGroupMemberUID(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	counter := "cn=gidnext," + h.NS.Groups
	h = rebuildWith(t, h, func(c *config.Config) {
		c.Groups.ObjectClasses = []string{"top", "posixGroup"}
		c.Groups.MemberAttribute = "memberUid"
		c.Groups.EmptyMember = ""
		c.Groups.Filter = "(objectClass=posixGroup)"
		c.Groups.GIDNumber.CounterDN = counter
		c.Groups.GIDNumber.Start = 5000
	})
	g1 := h.group("posix1")
	g2 := h.group("posix2")
	one(t, h.groupEntry(g1), "gidNumber", "5000")
	one(t, h.groupEntry(g2), "gidNumber", "5001")
	none(t, h.groupEntry(g1), "memberUid") // posixGroup may be empty
	u1, u2 := h.user("pu1"), h.user("pu2")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+g1,
		patchBody(`{"op":"Add","path":"members","value":[{"value":"`+u1+`"},{"value":"`+u2+`"}]}`))
	wantMembers(t, h.groupEntry(g1), "memberUid", "pu1", "pu2")
	g := h.must(http.StatusOK, "GET", "/Groups/"+g1, "")
	if ms, _ := g.body["members"].([]any); len(ms) != 2 {
		t.Errorf("members %s", g.raw)
	}
	q := h.must(http.StatusOK, "GET", "/Groups?filter="+url.QueryEscape(`members[value eq "`+u1+`"]`)+"&excludedAttributes=members", "")
	if q.body["totalResults"] != jsonNumber(1) {
		t.Errorf("filter on members: %s", q.raw)
	}
	// Renaming a user follows into memberUid (no refint for memberUid).
	h.must(http.StatusOK, "PATCH", "/Users/"+u1, patchBody(`{"op":"replace","path":"userName","value":"pu1-renamed"}`))
	wantMembers(t, h.groupEntry(g1), "memberUid", "pu1-renamed", "pu2")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+g1, patchBody(`{"op":"remove","path":"members[value eq \"`+u2+`\"]"}`))
	wantMembers(t, h.groupEntry(g1), "memberUid", "pu1-renamed")
	h.must(http.StatusNoContent, "DELETE", "/Users/"+u1, "")
	none(t, h.groupEntry(g1), "memberUid")
}

// posixAccount users get unique uidNumbers from a counter entry, and
// homeDirectory from a template.
func TestPosixAccountUIDNumber(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h = rebuildWith(t, h, func(c *config.Config) {
		c.Users.ObjectClasses = []string{"top", "person", "organizationalPerson", "inetOrgPerson", "posixAccount"}
		c.Users.UIDNumber = config.GIDNumberConfig{CounterDN: "cn=uidnext," + h.NS.DN, Start: 7000}
		c.Users.Derive = append(c.Users.Derive,
			config.DeriveConfig{LDAP: "homeDirectory", Template: "/home/{{ .uid }}"},
			config.DeriveConfig{LDAP: "loginShell", Template: "/bin/bash"},
			config.DeriveConfig{LDAP: "gidNumber", Template: "100"})
	})
	seen := map[string]bool{}
	for i := 0; i < 5; i++ {
		e := h.entry(h.user("posix" + itoa(i)))
		n := e.GetAttributeValue("uidNumber")
		if seen[n] || n == "" {
			t.Fatalf("uidNumber %q handed out twice or missing", n)
		}
		seen[n] = true
		one(t, e, "homeDirectory", "/home/posix"+itoa(i))
		one(t, e, "loginShell", "/bin/bash")
	}
	if !seen["7000"] || !seen["7004"] {
		t.Errorf("numbers %v", seen)
	}
	// Two bridges on the same directory, creating at the same time.
	h2 := rebuild(t, h)
	var wg sync.WaitGroup
	for b, hb := range []*harness{h, h2} {
		wg.Add(1)
		go func(b int, hb *harness) {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				if r := hb.do("POST", "/Users", `{"userName":"race`+itoa(b)+`-`+itoa(i)+`"}`); r.status != http.StatusCreated {
					t.Errorf("%d %s", r.status, r.raw)
				}
			}
		}(b, hb)
	}
	wg.Wait()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(h.NS.People, ldap.ScopeSingleLevel, 0, 0, 0, false, "(uid=race*)",
		[]string{"uidNumber"}, nil))
	if err != nil || len(res.Entries) != 20 {
		t.Fatalf("%v, %d entries", err, len(res.Entries))
	}
	for _, e := range res.Entries {
		n := e.GetAttributeValue("uidNumber")
		if seen[n] {
			t.Errorf("uidNumber %s handed out twice", n)
		}
		seen[n] = true
	}
}
