package bridge_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
)

// The request bodies below are Entra's, from docs/entra-wire-reference.md §1.1 and
// §3.3–3.4 (both dialects). Each test checks the status, the body and the entry
// that landed in LDAP.

const entraCreateUser = `{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
    "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}`

func TestEntraCreateUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	r := h.must(http.StatusCreated, "POST", "/Users", entraCreateUser)
	id, _ := r.body["id"].(string)
	e := h.entry(id)
	if e == nil {
		t.Fatalf("no LDAP entry with entryUUID %q", id)
	}
	if want := "uid=Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee," + h.NS.People; !strings.EqualFold(e.DN, want) {
		t.Errorf("DN %s, want %s", e.DN, want)
	}
	one(t, e, "uid", "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee")
	one(t, e, "employeeNumber", "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
	one(t, e, "mail", "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com")
	one(t, e, "givenName", "givenName")
	one(t, e, "sn", "familyName")
	one(t, e, "cn", "givenName familyName")
	none(t, e, "pwdAccountLockedTime")
	if r.body["userName"] != "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee" || r.body["active"] != true ||
		r.body["externalId"] != "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef" {
		t.Errorf("body: %s", r.raw)
	}
	if got := path(r.body, "name", "familyName"); got != "familyName" {
		t.Errorf("name.familyName = %v", got)
	}
	emails, _ := r.body["emails"].([]any)
	if len(emails) != 1 || path(emails[0], "value") != "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com" ||
		path(emails[0], "type") != "work" {
		t.Errorf("emails = %v", r.body["emails"])
	}
	for _, k := range []string{"resourceType", "created", "lastModified", "location", "version"} {
		if path(r.body, "meta", k) == nil {
			t.Errorf("meta.%s missing: %s", k, r.raw)
		}
	}
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/scim/v2/Users/"+id) || loc != path(r.body, "meta", "location") {
		t.Errorf("Location %q, meta.location %v", loc, path(r.body, "meta", "location"))
	}
	if r.header.Get("ETag") == "" || r.header.Get("ETag") != path(r.body, "meta", "version") {
		t.Errorf("ETag %q vs meta.version %v", r.header.Get("ETag"), path(r.body, "meta", "version"))
	}
}

// The pre-2020 sample: nulls for unset attributes, enterprise attributes at the
// top level, a misspelt extension URN in schemas, active as the string "True"
// (the reference Postman collection posts it so).
func TestEntraCreateUserOldSample(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	r := h.must(http.StatusCreated, "POST", "/Users", `{
   "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0User"],
   "externalId":"jyoung", "userName":"jyoung@testuser.com", "active":"True", "addresses":null,
   "displayName":"Joy Young",
   "emails": [{"type":"work", "value":"jyoung@Contoso.com", "primary":true}],
   "meta": {"resourceType":"User"},
   "name":{"familyName":"Young", "givenName":"Joy"},
   "phoneNumbers":null, "preferredLanguage":null, "title":null, "department":"Sales", "manager":null}`)
	e := h.entry(r.body["id"].(string))
	one(t, e, "displayName", "Joy Young")
	one(t, e, "cn", "Joy Young") // derived: name.formatted was not sent
	one(t, e, "departmentNumber", "Sales")
	none(t, e, "title")
	none(t, e, "pwdAccountLockedTime")
	if r.body["active"] != true {
		t.Errorf("active = %v", r.body["active"])
	}
}

func TestEntraCreateDuplicateUserIs409(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.user("dup@example.org")
	r := h.do("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"DUP@example.org","displayName":"Second"}`)
	scimErr(t, r, http.StatusConflict, "uniqueness")
	if r.body["detail"] == "" {
		t.Error("409 without detail")
	}
	if n := h.count("(uid=dup@example.org)"); n != 1 {
		t.Errorf("%d entries for the userName, want 1", n)
	}
	if n := h.count("(displayName=Second)"); n != 0 {
		t.Error("the duplicate wrote something")
	}
}

func TestEntraGetUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(entraCreateUser)
	r := h.must(http.StatusOK, "GET", "/Users/"+id, "")
	if r.body["id"] != id || r.body["userName"] != "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee" {
		t.Errorf("body %s", r.raw)
	}
	scimErr(t, h.do("GET", "/Users/5171a35d-8207-4e06-8ce2-000000000000", ""), http.StatusNotFound, "")
	scimErr(t, h.do("GET", "/Users/not-a-uuid", ""), http.StatusNotFound, "")
}

func TestEntraQueryUsers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(entraCreateUser)
	cases := []struct {
		name, query string
		want        int
	}{
		{"userName as Test connection logs it (+ for spaces)", "filter=userName+eq+%22Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee%22", 1},
		{"userName differently cased (caseExact=false)", "filter=" + url.QueryEscape(`userName eq "test_user_00AA00AA-bb11-cc22-dd33-44ee44ee44ee"`), 1},
		{"externalId", "filter=" + url.QueryEscape(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`), 1},
		{"work email value path", "filter=" + url.QueryEscape(`emails[type eq "work"].value eq "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com"`), 1},
		{"id and userName", "filter=" + url.QueryEscape(`id eq "`+id+`" and userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee"`), 1},
		{"Test connection: random GUID", "filter=userName+eq+%227d420df3-9995-4831-a406-ecf8166f5f6a%22", 0},
		{"non-existent user", "filter=" + url.QueryEscape(`userName eq "non-existent user"`), 0},
		{"Test connection with the flag on the Tenant URL", "aadOptscim062020&filter=userName+eq+%22nobody%22", 0},
		{"sw", "filter=" + url.QueryEscape(`userName sw "Test_User"`), 1},
		{"co on email", "filter=" + url.QueryEscape(`emails.value co "testuser.com"`), 1},
		{"not", "filter=" + url.QueryEscape(`not (userName eq "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee")`), 0},
		{"unmapped attribute never matches", "filter=" + url.QueryEscape(`nickName eq "x"`), 0},
		{"active eq true", "filter=" + url.QueryEscape(`active eq true`), 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.must(http.StatusOK, "GET", "/Users?"+c.query, "")
			if r.body["totalResults"] != jsonNumber(c.want) {
				t.Fatalf("totalResults %v, want %d: %s", r.body["totalResults"], c.want, r.raw)
			}
			res, ok := r.body["Resources"].([]any)
			if !ok || len(res) != c.want {
				t.Fatalf("Resources %v", r.body["Resources"])
			}
			if s, _ := r.body["schemas"].([]any); len(s) != 1 || s[0] != "urn:ietf:params:scim:api:messages:2.0:ListResponse" {
				t.Errorf("schemas %v", r.body["schemas"])
			}
			if c.want == 1 && path(res[0], "id") != id {
				t.Errorf("found %v", path(res[0], "id"))
			}
		})
	}
}

// Update User [Multi-valued properties], §1.1: one LDAP modify of mail and sn.
func TestEntraPatchMultiValued(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(entraCreateUser)
	before := h.entry(id)
	r := h.must(http.StatusOK, "PATCH", "/Users/"+id, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [
            {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
            {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
    ]}`)
	e := h.entry(id)
	one(t, e, "mail", "updatedEmail@microsoft.com")
	one(t, e, "sn", "updatedFamilyName")
	one(t, e, "givenName", "givenName")
	one(t, e, "cn", "givenName familyName") // name.formatted is Entra's to send, not recomputed
	if e.GetAttributeValue("modifiersName") == "" || e.GetAttributeValue("entryCSN") == before.GetAttributeValue("entryCSN") {
		t.Error("entry not modified")
	}
	if path(r.body, "name", "familyName") != "updatedFamilyName" || path(r.body, "emails") == nil {
		t.Errorf("body %s", r.raw)
	}
	emails, _ := r.body["emails"].([]any)
	if len(emails) != 1 || path(emails[0], "value") != "updatedEmail@microsoft.com" {
		t.Errorf("emails %v", emails)
	}
}

// Update User [Single-valued properties], §1.1: userName is the RDN, so this is
// a modrdn; the id must not change.
func TestEntraPatchUserNameRenames(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(entraCreateUser)
	r := h.must(http.StatusOK, "PATCH", "/Users/"+id, `{
    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
    "Operations": [{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]}`)
	if r.body["id"] != id || r.body["userName"] != "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com" {
		t.Errorf("body %s", r.raw)
	}
	e := h.entry(id)
	if want := "uid=5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com," + h.NS.People; !strings.EqualFold(e.DN, want) {
		t.Errorf("DN %s, want %s", e.DN, want)
	}
	one(t, e, "uid", "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com")
	one(t, e, "mail", "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com")
	if h.count("(uid=Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee)") != 0 {
		t.Error("old name still there")
	}
	h.must(http.StatusOK, "GET", "/Users/"+id, "")
}

func TestEntraPatchUserNameToTakenNameIs409(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.user("taken")
	id := h.user("mine")
	r := h.do("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","path":"userName","value":"taken"},{"op":"replace","path":"displayName","value":"X"}]}`)
	scimErr(t, r, http.StatusConflict, "uniqueness")
	e := h.entry(id)
	one(t, e, "uid", "mine")
	none(t, e, "displayName")
}

func jsonNumber(n int) any { return json.Number(strconv.Itoa(n)) }

// bind tries a simple bind as dn, as a login would.
func bind(t testing.TB, h *harness, dn, pw string) error {
	t.Helper()
	c, err := ldap.DialURL(h.Srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.Bind(dn, pw)
}

// A second POST of the same userName is 409 uniqueness (RFC 7644 §3.3), also
// when it is Entra retrying a POST whose answer it lost (same externalId): then,
// before answering, it finishes what the first attempt left undone (here: the
// default group the first attempt did not join). With another externalId nothing
// is written.
func TestDuplicateCreateIs409AndFinishesRetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	staff := h.group("staff")
	staffDN := h.groupEntry(staff).DN
	h = rebuildWith(t, h, func(c *config.Config) { c.Users.DefaultGroups = []string{staffDN} })
	first := h.must(http.StatusCreated, "POST", "/Users", entraCreateUser)
	id, _ := first.body["id"].(string)
	dn := h.entry(id).DN
	wantMembers(t, h.groupEntry(staff), "member", dn)
	// The first attempt "stopped" before joining its default group.
	del := ldap.NewModifyRequest(staffDN, nil)
	del.Replace("member", []string{h.Cfg.Groups.EmptyMember})
	if err := h.LDAP.Modify(del); err != nil {
		t.Fatal(err)
	}
	before := h.entry(id).GetAttributeValue("entryCSN")

	scimErr(t, h.do("POST", "/Users", entraCreateUser), http.StatusConflict, "uniqueness")
	wantMembers(t, h.groupEntry(staff), "member", dn)
	if h.count("(objectClass=inetOrgPerson)") != 1 {
		t.Errorf("a retry added an entry")
	}

	other := strings.Replace(entraCreateUser, "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "ffffffff-8d2a-4f8e-bf98-7363c4aed4ef", 1)
	other = strings.Replace(other, `"givenName": "givenName"`, `"givenName": "Other"`, 1)
	scimErr(t, h.do("POST", "/Users", other), http.StatusConflict, "uniqueness")
	e := h.entry(id)
	if e.GetAttributeValue("entryCSN") != before || e.GetAttributeValue("givenName") != "givenName" {
		t.Errorf("a conflicting POST with another externalId wrote to the existing user: %v", e.Attributes)
	}
}
