package bridge_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/testenv"
)

// The same Entra requests against Samba AD, through examples/ad.yaml with its
// connection settings taken from the environment, exactly as a container would.

// adUnique makes names unique across the domain: sAMAccountName and
// userPrincipalName are domain-wide in AD, not per OU.
func adUnique(t *testing.T, s string) string {
	return fmt.Sprintf("%s%d", s, len(t.Name())*7919+int(strings.ToLower(t.Name())[0])) + strconv.FormatInt(int64(os.Getpid()%9973), 36)
}

func uac(t *testing.T, e *ldap.Entry) int64 {
	t.Helper()
	v, err := strconv.ParseInt(e.GetAttributeValue("userAccountControl"), 10, 64)
	if err != nil {
		t.Fatalf("userAccountControl %q", e.GetAttributeValue("userAccountControl"))
	}
	return v
}

func TestADCreateGetQueryUser(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	upn := adUnique(t, "jane.doe") + "@" + testenv.ADDomain
	body := strings.NewReplacer("Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee", upn,
		"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef", "ext-"+upn).Replace(entraCreateUser)
	r := h.must(http.StatusCreated, "POST", "/Users", body)
	id := r.body["id"].(string)
	if _, ok := ldapmap.ParseGUID(id); !ok {
		t.Fatalf("id %q is not a GUID string", id)
	}
	e := h.entry(id)
	if e == nil {
		t.Fatal("no entry with that objectGUID")
	}
	if !strings.HasPrefix(strings.ToLower(e.DN), "cn=givenname familyname,") {
		t.Errorf("DN %s: want CN=<given family>", e.DN)
	}
	one(t, e, "userPrincipalName", upn)
	one(t, e, "sAMAccountName", ldapmap.SAMAccountName(upn))
	one(t, e, "employeeNumber", "ext-"+upn)
	if v := uac(t, e); v&2 != 0 || v&0x200 == 0 {
		t.Errorf("userAccountControl %d: want an enabled normal account", v)
	}
	if e.GetAttributeValue("pwdLastSet") == "0" {
		t.Error("no password was set (pwdLastSet 0): Windows would refuse to enable the account")
	}
	g := h.must(http.StatusOK, "GET", "/Users/"+id, "")
	if g.body["userName"] != upn || g.body["active"] != true || !strings.HasPrefix(g.header.Get("ETag"), `W/"`) {
		t.Errorf("GET: %s", g.raw)
	}
	q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.ToUpper(upn)+`"`), "")
	if q.body["totalResults"] != jsonNumber(1) {
		t.Errorf("filter: %s", q.raw)
	}
	q = h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`id eq "`+id+`"`), "")
	if q.body["totalResults"] != jsonNumber(1) {
		t.Errorf("filter on id (escaped objectGUID bytes): %s", q.raw)
	}
	scimErr(t, h.do("POST", "/Users", strings.Replace(body, "ext-"+upn, "other", 1)), http.StatusConflict, "uniqueness")
	// Update, rename by displayName (CN), delete.
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.org"},
		{"op":"replace","path":"displayName","value":"Jane Q. Doe"}`))
	e = h.entry(id)
	one(t, e, "mail", "new@example.org")
	if !strings.HasPrefix(e.DN, "CN=Jane Q. Doe,") {
		t.Errorf("after displayName change DN %s", e.DN)
	}
	h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
	if h.entry(id) != nil {
		t.Error("still there")
	}
}

// Disable and enable flip only ACCOUNTDISABLE (0x2): other bits an AD admin
// set (here DONT_EXPIRE_PASSWORD, 0x10000) survive; and the user really
// cannot bind while disabled.
func TestADDisableKeepsOtherUACBits(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	upn := adUnique(t, "uac") + "@" + testenv.ADDomain
	r := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+upn+`","active":true,"password":"Passw0rd!One"}`)
	id := r.body["id"].(string)
	dn := h.entry(id).DN
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("userAccountControl", []string{strconv.Itoa(0x200 | 0x10000)})
	if err := h.LDAP.Modify(m); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"False"}`))
	if v := uac(t, h.entry(id)); v != 0x200|0x10000|0x2 {
		t.Errorf("disabled userAccountControl %#x, want %#x", v, 0x200|0x10000|0x2)
	}
	if err := adBind(h, upn, "Passw0rd!One"); err == nil {
		t.Error("disabled user can bind")
	}
	q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`active eq false and userName eq "`+upn+`"`), "")
	if q.body["totalResults"] != jsonNumber(1) {
		t.Errorf("active eq false (bitwise-AND matching rule): %s", q.raw)
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"active","value":true}`))
	if v := uac(t, h.entry(id)); v != 0x200|0x10000 {
		t.Errorf("enabled userAccountControl %#x, want %#x", v, 0x200|0x10000)
	}
	if err := adBind(h, upn, "Passw0rd!One"); err != nil {
		t.Errorf("re-enabled user cannot bind: %v", err)
	}
	if r := h.must(http.StatusOK, "GET", "/Users/"+id, ""); r.body["active"] != true || strings.Contains(r.raw, "Passw0rd") {
		t.Errorf("GET: %s", r.raw)
	}
}

// The Windows-safe order: the add carries the password and a disabled
// account; only a second write enables it. The password is set over LDAPS and
// works; PATCH password resets it.
func TestADPasswordThenEnable(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "audit.log")
	h := adHarness(t, func(c *config.Config) { c.Server.AuditLog = file })
	upn := adUnique(t, "pw") + "@" + testenv.ADDomain
	r := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+upn+`","active":"True","password":"Passw0rd!Two"}`)
	id := r.body["id"].(string)
	if err := adBind(h, upn, "Passw0rd!Two"); err != nil {
		t.Fatalf("bind with the SCIM password: %v", err)
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"password","value":"Passw0rd!Three"}`))
	if err := adBind(h, upn, "Passw0rd!Three"); err != nil {
		t.Errorf("bind after reset: %v", err)
	}
	_ = h.App.Stop(context.Background())
	raw, _ := os.ReadFile(file)
	if strings.Contains(string(raw), "Passw0rd") {
		t.Fatal("password in the audit log")
	}
	var create struct {
		Writes []struct {
			Op    string   `json:"ldap_op"`
			Attrs []string `json:"attributes"`
		} `json:"ldap_writes"`
	}
	_ = json.Unmarshal([]byte(strings.SplitN(string(raw), "\n", 2)[0]), &create)
	if len(create.Writes) != 2 || create.Writes[0].Op != "add" || !contains(create.Writes[0].Attrs, "unicodePwd") ||
		!contains(create.Writes[0].Attrs, "userAccountControl") || create.Writes[1].Op != "modify" ||
		strings.Join(create.Writes[1].Attrs, ",") != "userAccountControl,userAccountControl" {
		t.Errorf("create writes %+v: want add with unicodePwd and a disabled account, then the enable", create.Writes)
	}
}

// sAMAccountName is derived from userName (at most 20 characters) and CN from
// the display name; collisions get predictable suffixes.
func TestADNameCollisions(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	stem := adUnique(t, "collide")
	first := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+stem+`@one.example","displayName":"Same Name `+stem+`"}`)
	second := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+stem+`@two.example","displayName":"Same Name `+stem+`"}`)
	e1, e2 := h.entry(first.body["id"].(string)), h.entry(second.body["id"].(string))
	sam := ldapmap.SAMAccountName(stem)
	one(t, e1, "sAMAccountName", sam)
	one(t, e2, "sAMAccountName", ldapmap.SAMCandidate(sam, 2))
	if !strings.HasPrefix(e2.DN, "CN=Same Name "+stem+" (2),") {
		t.Errorf("second DN %s", e2.DN)
	}
	if len([]rune(e2.GetAttributeValue("sAMAccountName"))) > 20 {
		t.Error("sAMAccountName longer than 20")
	}
}

func TestADGroups(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	name := adUnique(t, "team")
	r := h.must(http.StatusCreated, "POST", "/Groups", strings.Replace(entraCreateGroup, `"displayName"`+": \"displayName\"", `"displayName": "`+name+`"`, 1))
	gid := r.body["id"].(string)
	g := h.groupEntry(gid)
	one(t, g, "groupType", "-2147483646")
	none(t, g, "member") // AD allows empty groups: no placeholder
	u := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+adUnique(t, "member")+`@`+testenv.ADDomain+`"}`).body["id"].(string)
	add := patchBody(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + u + `"}]}`)
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add)
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, add) // AD would say 68 without the permissive control
	wantMembers(t, h.groupEntry(gid), "member", h.entry(u).DN)
	if mo := attr(h.entry(u), "memberOf"); len(mo) != 1 {
		t.Errorf("memberOf %q", mo)
	}
	q := h.must(http.StatusOK, "GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "`+name+`"`), "")
	if q.body["totalResults"] != jsonNumber(1) {
		t.Errorf("%s", q.raw)
	}
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"remove","path":"members[value eq \"`+u+`\"]"}`))
	h.must(http.StatusNoContent, "PATCH", "/Groups/"+gid, patchBody(`{"op":"remove","path":"members[value eq \"`+u+`\"]"}`))
	none(t, h.groupEntry(gid), "member")
	h.must(http.StatusNoContent, "DELETE", "/Groups/"+gid, "")
}

// AD caps a plain search at 1000 entries (Samba does not, so the test counts
// on the bridge paging anyway): a 1500-user list is complete and pages right.
func TestADListOf1500UsersPages(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	const n = 1500
	stem := adUnique(t, "p")
	// Samba takes ~140 adds/s at best with 4 connections (docs/directory-lab.md): add in parallel.
	errs := make(chan error, 4)
	for w := 0; w < 4; w++ {
		go func(w int) {
			c, err := h.AD.Dial()
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := w; i < n; i += 4 {
				cn := fmt.Sprintf("%s-%04d", stem, i)
				req := ldap.NewAddRequest("CN="+cn+","+h.NS.People, nil)
				req.Attribute("objectClass", []string{"user"})
				req.Attribute("sAMAccountName", []string{ldapmap.SAMAccountName(cn)})
				req.Attribute("userPrincipalName", []string{cn + "@" + testenv.ADDomain})
				if err := c.Add(req); err != nil {
					errs <- fmt.Errorf("add %d: %w", i, err)
					return
				}
			}
			errs <- nil
		}(w)
	}
	for w := 0; w < 4; w++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	r := h.must(http.StatusOK, "GET", "/Users?count=0", "")
	if r.body["totalResults"] != jsonNumber(n) {
		t.Fatalf("totalResults %v, want %d", r.body["totalResults"], n)
	}
	r = h.must(http.StatusOK, "GET", "/Users?startIndex=1401&count=200&attributes=userName", "")
	if res, _ := r.body["Resources"].([]any); len(res) != 100 || r.body["totalResults"] != jsonNumber(n) {
		t.Errorf("last page: %d resources, totalResults %v", len(res), r.body["totalResults"])
	}
	r = h.must(http.StatusOK, "GET", "/Users?startIndex=990&count=20&attributes=userName", "")
	if res, _ := r.body["Resources"].([]any); len(res) != 20 {
		t.Errorf("page across 1000: %d", len(res))
	}
	// A group with all 1,500 as members: GET reads the member list in ranges
	// (Windows returns at most 1,500 values per read and says member;range=...).
	g := h.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+stem+`-all"}`)
	gdn := h.groupEntry(g.body["id"].(string)).DN
	// Deleted before its members (cleanups run last-registered first): with
	// the group still there, each member's delete also updates the group's
	// 1,500-value member attribute, and the namespace's clean-up took 80-140 s
	// instead of about 10.
	t.Cleanup(func() {
		if err := h.LDAP.Del(ldap.NewDelRequest(gdn, nil)); err != nil {
			t.Errorf("delete %s: %v", gdn, err)
		}
	})
	m := ldap.NewModifyRequest(gdn, nil)
	var dns []string
	for i := 0; i < n; i++ {
		dns = append(dns, fmt.Sprintf("CN=%s-%04d,%s", stem, i, h.NS.People))
	}
	m.Add("member", dns)
	if err := h.LDAP.Modify(m); err != nil {
		t.Fatal(err)
	}
	r = h.must(http.StatusOK, "GET", "/Groups/"+g.body["id"].(string), "")
	if ms, _ := r.body["members"].([]any); len(ms) != n {
		t.Errorf("group members: %d, want %d", len(ms), n)
	}
}

func adBind(h *harness, user, pw string) error {
	c, err := h.AD.Dial()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Bind(user, pw)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
