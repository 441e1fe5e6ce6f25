package bridge_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
)

// Values that must not reach the directory (issue 11): a value of the wrong
// JSON type for its SCIM attribute, and control or invisible characters in a
// value that names an entry. Each is a 400 invalidValue naming the path, and
// the entry is left exactly as it was (same entryCSN). Then value filters and
// members pr, matched as RFC 7644 §3.4.2.2 says.

const coreSchema = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// typedUser fills every kind of mapped attribute: simple, name's
// sub-attributes, typed elements of emails and phoneNumbers, the extension.
const typedUser = `{` + coreSchema + `,"userName":"typed","displayName":"Typed User","title":"Boss",
	"externalId":"ext-typed","name":{"givenName":"Ty","familyName":"Ped"},
	"emails":[{"type":"work","value":"typed@example.org","primary":true}],
	"phoneNumbers":[{"type":"work","value":"+1 555 0100"}],
	"` + enterpriseURN + `":{"department":"Tech"}}`

// jsonQuote writes s as a JSON string, control characters escaped.
func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// csn is the entry's entryCSN, which every write changes.
func csn(t *testing.T, h *harness, id string) string {
	t.Helper()
	e := h.entry(id)
	if e == nil {
		t.Fatalf("user %s is gone", id)
	}
	return e.GetEqualFoldAttributeValue("entryCSN")
}

func groupCSN(t *testing.T, h *harness, id string) string {
	t.Helper()
	e := h.groupEntry(id)
	if e == nil {
		t.Fatalf("group %s is gone", id)
	}
	return e.GetEqualFoldAttributeValue("entryCSN")
}

// refused asserts a 400 invalidValue whose detail names path.
func refused(t *testing.T, r response, path string) {
	t.Helper()
	scimErr(t, r, http.StatusBadRequest, "invalidValue")
	if d, _ := r.body["detail"].(string); !strings.Contains(d, path) {
		t.Errorf("detail %q does not name %s", d, path)
	}
}

func TestWrongTypesWriteNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(typedUser)
	put := func(extra string) string { return `{` + coreSchema + `,"userName":"typed"` + extra + `}` }
	for _, c := range []struct{ name, method, body, path string }{
		{"PATCH emails as a string", "PATCH", patchBody(`{"op":"replace","path":"emails","value":"x@example.org"}`), "emails"},
		{"PATCH title as a list", "PATCH", patchBody(`{"op":"replace","path":"title","value":["a","b"]}`), "title"},
		{"PATCH name as a string", "PATCH", patchBody(`{"op":"replace","path":"name","value":"Ty Ped"}`), "name"},
		{"PATCH displayName as an object", "PATCH", patchBody(`{"op":"replace","path":"displayName","value":{"first":"a"}}`), "displayName"},
		{"PATCH userName as a number", "PATCH", patchBody(`{"op":"replace","path":"userName","value":42}`), "userName"},
		{"PATCH userName as an object", "PATCH", patchBody(`{"op":"replace","path":"userName","value":{"value":"other"}}`), "userName"},
		{"PATCH path-less, title as a list", "PATCH", patchBody(`{"op":"replace","value":{"title":["a","b"]}}`), "title"},
		{
			"PATCH work email as a list", "PATCH",
			patchBody(`{"op":"replace","path":"emails[type eq \"work\"].value","value":["a@x.org","b@x.org"]}`), `emails[type eq "work"].value`,
		},
		{
			"PATCH primary not a boolean", "PATCH",
			patchBody(`{"op":"replace","path":"emails[type eq \"work\"].primary","value":"yes"}`), `emails[type eq "work"].primary`,
		},
		{"PATCH givenName as an object", "PATCH", patchBody(`{"op":"replace","path":"name.givenName","value":{"x":"y"}}`), "name.givenName"},
		{
			"PATCH department as a list", "PATCH",
			patchBody(`{"op":"replace","path":"` + enterpriseURN + `:department","value":["a","b"]}`), enterpriseURN + ":department",
		},
		{"PATCH path-less, the extension as a string", "PATCH", patchBody(`{"op":"replace","value":{"` + enterpriseURN + `":"x"}}`), enterpriseURN},
		{"PATCH unmapped nickName as an object", "PATCH", patchBody(`{"op":"add","path":"nickName","value":{"a":"b"}}`), "nickName"},
		{"PATCH an e-mail element as a string", "PATCH", patchBody(`{"op":"add","path":"emails","value":"x@example.org"}`), "emails"},
		{"PUT emails as a string", "PUT", put(`,"emails":"x@example.org"`), "emails"},
		{"PUT title as a list", "PUT", put(`,"title":["a","b"]`), "title"},
		{"PUT name as a string", "PUT", put(`,"name":"Ty Ped"`), "name"},
		{"PUT displayName as an object", "PUT", put(`,"displayName":{"first":"a"}`), "displayName"},
		{"PUT a phone number element not an object", "PUT", put(`,"phoneNumbers":["+1 555 0100"]`), "phoneNumbers"},
		{"PUT title as a boolean", "PUT", put(`,"title":true`), "title"},
	} {
		t.Run(c.name, func(t *testing.T) {
			was := csn(t, h, id)
			refused(t, h.do(c.method, "/Users/"+id, c.body), c.path)
			if now := csn(t, h, id); now != was {
				t.Errorf("entryCSN %s → %s: the entry was written", was, now)
			}
		})
	}
	e := h.entry(id)
	one(t, e, "uid", "typed")
	one(t, e, "mail", "typed@example.org")
	one(t, e, "title", "Boss")
	one(t, e, "displayName", "Typed User")
	one(t, e, "givenName", "Ty")
	one(t, e, "sn", "Ped")
	one(t, e, "telephoneNumber", "+1 555 0100")
	one(t, e, "departmentNumber", "Tech")
}

func TestWrongTypesCreateNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, c := range []struct{ name, body, path string }{
		{"emails as a string", `"emails":"x@example.org"`, "emails"},
		{"title as a list", `"title":["a","b"]`, "title"},
		{"name as a string", `"name":"First Last"`, "name"},
		{"displayName as an object", `"displayName":{"first":"a"}`, "displayName"},
		{"phone number element not an object", `"phoneNumbers":["+1 555 0100"]`, "phoneNumbers"},
		{"department as a list", `"` + enterpriseURN + `":{"department":["a","b"]}`, enterpriseURN + ":department"},
		{"manager as a list of two", `"` + enterpriseURN + `":{"manager":["a","b"]}`, enterpriseURN + ":manager"},
		{"unmapped locale as an object", `"locale":{"a":"b"}`, "locale"},
	} {
		t.Run(c.name, func(t *testing.T) {
			refused(t, h.do("POST", "/Users", `{`+coreSchema+`,"userName":"newcomer",`+c.body+`}`), c.path)
			if n := h.count("(uid=newcomer)"); n != 0 {
				t.Errorf("%d entries written", n)
			}
		})
	}
}

// Entra's liberal shapes stay accepted, and null and [] still clear.
func TestLenientValueShapesAccepted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(`{` + coreSchema + `,"userName":"lenient","active":"True","externalId":12345,
		"title":[{"$ref":null,"value":"Wrapped"}],"displayName":{"value":"Object Wrapped"},
		"emails":[{"type":"work","value":"lenient@example.org","primary":"True"}],
		"phoneNumbers":{"type":"work","value":"+1 555 0100"}}`)
	e := h.entry(id)
	one(t, e, "employeeNumber", "12345")
	one(t, e, "title", "Wrapped")
	one(t, e, "displayName", "Object Wrapped")
	one(t, e, "mail", "lenient@example.org")
	one(t, e, "telephoneNumber", "+1 555 0100")

	// One element sent bare replaces the list: its value is read, not lost.
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"emails","value":{"type":"work","value":"bare@example.org"}}`))
	one(t, h.entry(id), "mail", "bare@example.org")
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"title","value":{"value":"Boss"}},`+
		`{"op":"Replace","path":"emails[type eq \"work\"].primary","value":"False"}`))
	one(t, h.entry(id), "title", "Boss")

	// null and [] keep their meaning: no value.
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"title","value":null},`+
		`{"op":"replace","path":"phoneNumbers","value":[]}`))
	e = h.entry(id)
	none(t, e, "title")
	none(t, e, "telephoneNumber")
	one(t, e, "mail", "bare@example.org")
	h.must(http.StatusOK, "PUT", "/Users/"+id, `{`+coreSchema+`,"userName":"lenient","emails":[],"title":null}`)
	none(t, h.entry(id), "mail")
}

func TestGroupWrongTypesWriteNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	r := h.must(http.StatusCreated, "POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName":"typed-group","externalId":"ext-group"}`)
	gid := r.body["id"].(string)
	for _, c := range []struct{ name, method, body, path string }{
		{"PATCH displayName as a list", "PATCH", patchBody(`{"op":"replace","path":"displayName","value":["a","b"]}`), "displayName"},
		{"PATCH externalId as an object", "PATCH", patchBody(`{"op":"replace","path":"externalId","value":{"a":"b"}}`), "externalId"},
		{"PATCH externalId as a list", "PATCH", patchBody(`{"op":"Replace","path":"externalId","value":["a","b"]}`), "externalId"},
		{
			"PUT externalId as a list", "PUT",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"typed-group","externalId":["a","b"]}`, "externalId",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			was := groupCSN(t, h, gid)
			refused(t, h.do(c.method, "/Groups/"+gid, c.body), c.path)
			if now := groupCSN(t, h, gid); now != was {
				t.Errorf("entryCSN %s → %s: the group was written", was, now)
			}
		})
	}
	e := h.groupEntry(gid)
	one(t, e, "cn", "typed-group")
	one(t, e, "description", "ext-group")

	refused(t, h.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],
		"displayName":"other-group","externalId":{"a":"b"}}`), "externalId")
	if got := h.groupsNamed("other-group"); len(got) != 0 {
		t.Errorf("group written: %q", got)
	}
}

// forbiddenInNames are the characters a name may not hold: C0 (with TAB, LF,
// CR), DEL, C1, bidi embeddings, overrides and isolates, zero-width
// characters and the BOM.
var forbiddenInNames = map[string]string{
	"LF": "\n", "CR": "\r", "TAB": "\t", "SOH": "\u0001", "ESC": "\u001b", "DEL": "\u007f", "NEL": "\u0085",
	"CSI": "\u009b", "LRE": "\u202a", "RLO": "\u202e", "LRI": "\u2066", "PDI": "\u2069", "ZWSP": "\u200b",
	"ZWJ": "\u200d", "WJ": "\u2060", "BOM": "\ufeff",
}

func TestControlCharactersInNamesWriteNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("clean")
	gid := h.group("clean-group")
	names := make([]string, 0, len(forbiddenInNames))
	for n := range forbiddenInNames {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		bad := "evil" + forbiddenInNames[n] + "name"
		t.Run(n, func(t *testing.T) {
			refused(t, h.do("POST", "/Users", `{`+coreSchema+`,"userName":`+jsonQuote(bad)+`}`), "userName")
			if c := h.count("(uid=evil*)"); c != 0 {
				t.Errorf("%d users written", c)
			}
			was := csn(t, h, id)
			refused(t, h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"userName","value":`+jsonQuote(bad)+`}`)), "userName")
			if now := csn(t, h, id); now != was {
				t.Errorf("user written: entryCSN %s → %s", was, now)
			}

			refused(t, h.do("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":`+jsonQuote(bad)+`}`),
				"displayName")
			if got := h.groupsNamed("evil"); len(got) != 0 {
				t.Errorf("groups written: %q", got)
			}
			was = groupCSN(t, h, gid)
			refused(t, h.do("PATCH", "/Groups/"+gid, patchBody(`{"op":"replace","path":"displayName","value":`+jsonQuote(bad)+`}`)),
				"displayName")
			if now := groupCSN(t, h, gid); now != was {
				t.Errorf("group written: entryCSN %s → %s", was, now)
			}
		})
	}
	// A value that names nothing may hold them: only names are refused.
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"displayName","value":"tab\there"}`))
	one(t, h.entry(id), "displayName", "tab\there")
}

// A blank userName is refused by the bridge itself: the detail is the
// bridge's, not the directory's diagnostic.
func TestBlankUserNameWritesNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("notblank")
	for _, blank := range []string{" ", "   ", "\u00a0", "\u3000 "} {
		r := h.do("POST", "/Users", `{`+coreSchema+`,"userName":`+jsonQuote(blank)+`}`)
		refused(t, r, "userName")
		if d, _ := r.body["detail"].(string); strings.Contains(d, "directory") || strings.Contains(d, "LDAP") {
			t.Errorf("detail %q carries the directory's diagnostic", d)
		}
		was := csn(t, h, id)
		refused(t, h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"userName","value":`+jsonQuote(blank)+`}`)), "userName")
		if now := csn(t, h, id); now != was {
			t.Errorf("%q: entryCSN %s → %s", blank, was, now)
		}
	}
	if n := h.count("(objectClass=inetOrgPerson)"); n != 1 {
		t.Errorf("%d users, want only notblank", n)
	}
}

// Entries named by a derived value, as AD names users CN=<displayName>: the
// derived name is checked like a mapped one, and the message names the SCIM
// attribute it came from.
func TestControlCharactersInDerivedNames(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) {
		c.Users.RDN = "cn"
		var attrs []config.AttributeMapping
		for _, a := range c.Users.Attributes {
			if !strings.EqualFold(a.LDAP, "cn") {
				attrs = append(attrs, a)
			}
		}
		c.Users.Attributes = attrs
		c.Users.Derive = []config.DeriveConfig{
			{LDAP: "cn", Template: `{{ coalesce .displayName .uid }}`},
			{LDAP: "sn", Template: `{{ coalesce .sn .uid }}`},
		}
	})
	id := h.create(`{` + coreSchema + `,"userName":"derived","displayName":"Derived User"}`)
	if e := h.entry(id); e == nil || !strings.HasPrefix(strings.ToLower(e.DN), "cn=derived user,") {
		t.Fatalf("entry %v is not named by its displayName", e)
	}
	refused(t, h.do("POST", "/Users", `{`+coreSchema+`,"userName":"spoof","displayName":"Jane\u202eeoD"}`), "displayName")
	if n := h.count("(uid=spoof)"); n != 0 {
		t.Errorf("%d entries written", n)
	}
	was := csn(t, h, id)
	refused(t, h.do("PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"displayName","value":"two\nlines"}`)), "displayName")
	if now := csn(t, h, id); now != was {
		t.Errorf("entryCSN %s → %s", was, now)
	}
}

// filterIDs lists the ids a filtered GET returns.
func filterIDs(t *testing.T, h *harness, resource, f string) []string {
	t.Helper()
	r := h.must(http.StatusOK, "GET", "/"+resource+"?filter="+url.QueryEscape(f), "")
	var ids []string
	list, _ := r.body["Resources"].([]any)
	for _, res := range list {
		ids = append(ids, path(res, "id").(string))
	}
	sort.Strings(ids)
	return ids
}

func sameIDs(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

// A value filter matches users who have an element satisfying it: not inside
// the brackets does not match users who have no element at all.
func TestValueFilterNeedsAnElement(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	with := h.create(`{` + coreSchema + `,"userName":"with-mail","emails":[{"type":"work","value":"with@example.org"}]}`)
	without := h.user("without-mail")
	for _, c := range []struct {
		filter string
		want   []string
	}{
		{`emails[not (type eq "work")]`, nil},
		{`emails[not (value eq "other@example.org")]`, []string{with}},
		{`emails[value ne "other@example.org"]`, []string{with}},
		{`emails[not (value eq "with@example.org")]`, nil},
		{`emails[type eq "work"]`, []string{with}},
		{`not (emails[type eq "work"])`, []string{without}},
		{`not (emails[not (type eq "work")])`, []string{with, without}},
	} {
		sameIDs(t, c.filter, filterIDs(t, h, "Users", c.filter), c.want...)
	}
}

// members pr is about real members: the placeholder that keeps an empty
// groupOfNames valid (groups.empty_member) is no member.
func TestMembersPresentIgnoresPlaceholder(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	empty := h.group("empty-group")
	full := h.group("full-group")
	u := h.user("member")
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+full, patchBody(`{"op":"add","path":"members","value":[{"value":"`+u+`"}]}`))
	wantMembers(t, h.groupEntry(empty), "member", nobody)

	sameIDs(t, "members pr", filterIDs(t, h, "Groups", `members pr`), full)
	sameIDs(t, "not (members pr)", filterIDs(t, h, "Groups", `not (members pr)`), empty)
	sameIDs(t, "members.value pr", filterIDs(t, h, "Groups", `members.value pr`), full)

	h.must(http.StatusNoContent, "PATCH", "/Groups/"+full, patchBody(`{"op":"remove","path":"members[value eq \"`+u+`\"]"}`))
	sameIDs(t, "members pr after the last member left", filterIDs(t, h, "Groups", `members pr`))
	sameIDs(t, "not (members pr) after the last member left", filterIDs(t, h, "Groups", `not (members pr)`), empty, full)
}
