package bridge_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// setPassword gives a user a password so a test can prove a disable really
// stops logins (docs/directory-lab.md: the lock is only enforced under a pwdLockout policy).
func setPassword(t *testing.T, h *harness, dn, pw string) {
	t.Helper()
	req := ldap.NewModifyRequest(dn, nil)
	req.Replace("userPassword", []string{pw})
	if err := h.LDAP.Modify(req); err != nil {
		t.Fatal(err)
	}
}

// Disable and re-enable in both dialects (docs/entra-wire-reference.md §3.3): the default one
// sends the strings "False"/"True", aadOptscim062020 sends booleans, and the
// flag dialect can also carry active inside a path-less replace (§3.4).
func TestEntraDisableEnableUser(t *testing.T) {
	t.Parallel()
	bodies := []struct{ name, disable, enable string }{
		{
			"default dialect strings",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"True"}]}`,
		},
		{
			"aadOptscim062020 booleans",
			`{"Operations":[{"op":"replace","path":"active","value":false}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
			`{"Operations":[{"op":"replace","path":"active","value":true}],"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`,
		},
		{
			"aadOptscim062020 path-less replace with active and userName",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			  {"op":"replace","path":"emails[type eq \"work\"].value","value":"someone@contoso.com"},
			  {"op":"replace","path":"emails[type eq \"work\"].primary","value":true},
			  {"op":"replace","value":{"active":false,"userName":"someone"}}]}`,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":true}}]}`,
		},
		{
			"lower-case strings from an edited Switch mapping",
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"false"}]}`,
			`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"true"}]}`,
		},
	}
	for _, b := range bodies {
		t.Run(b.name, func(t *testing.T) {
			h := newHarness(t, nil)
			id := h.user("u1")
			setPassword(t, h, h.entry(id).DN, "pw-u1")
			if err := bind(t, h, h.entry(id).DN, "pw-u1"); err != nil {
				t.Fatalf("enabled user cannot bind: %v", err)
			}
			r := h.must(http.StatusOK, "PATCH", "/Users/"+id, b.disable)
			if r.body["active"] != false {
				t.Errorf("active after disable = %v", r.body["active"])
			}
			e := h.entry(id)
			one(t, e, "pwdAccountLockedTime", "000001010000Z")
			if err := bind(t, h, e.DN, "pw-u1"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
				t.Errorf("disabled user bind: %v, want invalid credentials", err)
			}
			// A disabled user is still found (Entra forgets only hard-deleted users).
			g := h.must(http.StatusOK, "GET", "/Users/"+id, "")
			if g.body["active"] != false {
				t.Errorf("GET active = %v", g.body["active"])
			}
			q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`active eq false`), "")
			if q.body["totalResults"] != jsonNumber(1) {
				t.Errorf("active eq false: %s", q.raw)
			}
			r = h.must(http.StatusOK, "PATCH", "/Users/"+id, b.enable)
			if r.body["active"] != true {
				t.Errorf("active after enable = %v", r.body["active"])
			}
			e = h.entry(id)
			none(t, e, "pwdAccountLockedTime")
			if err := bind(t, h, e.DN, "pw-u1"); err != nil {
				t.Errorf("re-enabled user cannot bind: %v", err)
			}
		})
	}
}

func TestEntraCreateDisabledUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	r := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"off","active":"False"}`)
	one(t, h.entry(r.body["id"].(string)), "pwdAccountLockedTime", "000001010000Z")
	if r.body["active"] != false {
		t.Errorf("active %v", r.body["active"])
	}
}

// Replace multiple attributes, §3.3: the default dialect sends one op per
// attribute, the flag dialect one path-less replace with dotted and URN keys.
// employeeNumber is not in the example map: it must be ignored, not refused.
func TestEntraReplaceMultipleAttributes(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"default dialect": `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"displayName","value":"Pvlo"},
			{"op":"Replace","path":"emails[type eq \"work\"].value","value":"TestBcwqnm@test.microsoft.com"},
			{"op":"Replace","path":"name.givenName","value":"Gtfd"},
			{"op":"Replace","path":"name.familyName","value":"Pkqf"},
			{"op":"Replace","path":"externalId","value":"Eqpj"},
			{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Eqpj"}]}`,
		"aadOptscim062020": `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"replace","path":"emails[type eq \"work\"].value","value":"TestBcwqnm@test.microsoft.com"},
			{"op":"replace","value":{"displayName":"Pvlo","name.givenName":"Gtfd","name.familyName":"Pkqf","externalId":"Eqpj",
			  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			id := h.create(entraCreateUser)
			h.must(http.StatusOK, "PATCH", "/Users/"+id, body)
			e := h.entry(id)
			one(t, e, "displayName", "Pvlo")
			one(t, e, "mail", "TestBcwqnm@test.microsoft.com")
			one(t, e, "givenName", "Gtfd")
			one(t, e, "sn", "Pkqf")
			one(t, e, "employeeNumber", "Eqpj")
			one(t, e, "cn", "givenName familyName")
		})
	}
}

// Add a single-value attribute (§3.4, flag sample): enterprise department.
func TestEntraAddDepartment(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("dep")
	r := h.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Tech Infrastructure"}]}`)
	one(t, h.entry(id), "departmentNumber", "Tech Infrastructure")
	if got := path(r.body, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "department"); got != "Tech Infrastructure" {
		t.Errorf("department %v: %s", got, r.raw)
	}
	// Entra's default mapping sends attributes the map does not hold (nickName
	// is a §3.3 sample): accepted and ignored, never a 400.
	h.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"nickName","value":"Babs"},{"op":"Add","path":"preferredLanguage","value":"en"}]}`)
}

// Manager is a reference: Entra sends the manager's SCIM id as a bare string,
// LDAP stores the DN, GET returns {"value": id}; removal comes as a value-path
// remove or a replace with "" (docs/entra-wire-reference.md §1.1, §7.5).
func TestEntraManager(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	boss := h.user("boss")
	id := h.user("worker")
	for _, op := range []string{"Add", "add"} {
		h.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"`+op+`","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+boss+`"}]}`)
		if got := attr(h.entry(id), "manager"); len(got) != 1 || !sameDN(got[0], h.entry(boss).DN) {
			t.Fatalf("LDAP manager %q, want %s", got, h.entry(boss).DN)
		}
		r := h.must(http.StatusOK, "GET", "/Users/"+id, "")
		if got := path(r.body, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "manager", "value"); got != boss {
			t.Fatalf("manager.value = %v: %s", got, r.raw)
		}
		q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`manager eq "`+boss+`"`), "")
		if q.body["totalResults"] != jsonNumber(1) {
			t.Errorf("manager filter: %s", q.raw)
		}
		remove := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"manager[value eq \"` + boss + `\"]"}]}`
		if op == "add" {
			remove = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"manager","value":""}]}`
		}
		h.must(http.StatusOK, "PATCH", "/Users/"+id, remove)
		none(t, h.entry(id), "manager")
	}
}

// A manager id that names no managed user (not provisioned yet, or out of
// scope) does not fail the request: the rest is written, the manager is left
// as it was, and the log names the id with the request id.
func TestUnresolvedManagerIsSkipped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const ghost = "00000000-0000-0000-0000-00000000abcd"
	r := h.must(http.StatusCreated, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"newhire","title":"Engineer","name":{"givenName":"N","familyName":"H"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"`+ghost+`","department":"R&D"}}`)
	id, _ := r.body["id"].(string)
	e := h.entry(id)
	one(t, e, "title", "Engineer")
	one(t, e, "departmentNumber", "R&D")
	none(t, e, "manager")
	if !strings.Contains(h.Logs.String(), ghost) || !strings.Contains(h.Logs.String(), r.header.Get("X-Request-Id")) {
		t.Errorf("no warning naming %s and the request id in the log:\n%s", ghost, h.Logs.String())
	}
	boss := h.user("boss")
	h.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+boss+`"}]}`)
	h.must(http.StatusOK, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+ghost+`"},
		{"op":"Replace","path":"title","value":"Lead"}]}`)
	e = h.entry(id)
	one(t, e, "title", "Lead")
	if got := attr(e, "manager"); len(got) != 1 || !sameDN(got[0], h.entry(boss).DN) {
		t.Errorf("manager %q: an unresolved id must leave the stored manager as it was", got)
	}
}

func TestEntraDeleteUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(entraCreateUser)
	r := h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
	if r.raw != "" {
		t.Errorf("204 with a body: %q", r.raw)
	}
	if h.entry(id) != nil {
		t.Fatal("entry still in LDAP")
	}
	scimErr(t, h.do("GET", "/Users/"+id, ""), http.StatusNotFound, "")
	scimErr(t, h.do("DELETE", "/Users/"+id, ""), http.StatusNotFound, "")
	q := h.must(http.StatusOK, "GET", "/Users?filter=userName+eq+%22Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee%22", "")
	if q.body["totalResults"] != jsonNumber(0) {
		t.Errorf("deleted user still listed: %s", q.raw)
	}
}

func TestDeleteModes(t *testing.T) {
	t.Parallel()
	t.Run("disable", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config) { c.Users.Delete.Mode = "disable" })
		id := h.create(entraCreateUser)
		h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
		e := h.entry(id)
		one(t, e, "pwdAccountLockedTime", "000001010000Z")
		one(t, e, "mail", "Test_User_11bb11bb-cc22-dd33-ee44-55ff55ff55ff@testuser.com")
	})
	t.Run("disable and move", func(t *testing.T) {
		var h *harness
		h = newHarness(t, nil)
		h = rebuildWith(t, h, func(c *config.Config) {
			c.Users.Delete = config.DeleteConfig{Mode: "disable", MoveTo: h.NS.DN, Placeholder: "x"}
		})
		id := h.create(entraCreateUser)
		h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
		if h.entry(id) != nil {
			t.Error("still under users.base_dn")
		}
		moved := testenv.Entry(t, h.LDAP, "uid=Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee,"+h.NS.DN)
		if moved == nil {
			t.Fatal("not moved to delete.move_to")
		}
		one(t, moved, "pwdAccountLockedTime", "000001010000Z")
		scimErr(t, h.do("GET", "/Users/"+id, ""), http.StatusNotFound, "")
	})
	t.Run("anonymize", func(t *testing.T) {
		h := newHarness(t, func(c *config.Config) { c.Users.Delete.Mode = "anonymize" })
		id := h.create(entraCreateUser)
		h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
		e := h.entry(id)
		one(t, e, "pwdAccountLockedTime", "000001010000Z")
		one(t, e, "uid", "deleted-"+id)
		one(t, e, "cn", "deleted-"+id)
		one(t, e, "sn", "deleted-"+id)
		for _, a := range []string{"mail", "givenName", "employeeNumber"} {
			none(t, e, a)
		}
	})
}

// PUT replaces: attributes absent from the body are cleared.
func TestPutReplacesUser(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.create(entraCreateUser)
	r := h.must(http.StatusOK, "PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee","displayName":"Put Name","title":"Boss",
		"name":{"givenName":"P","familyName":"Q"}}`)
	e := h.entry(id)
	one(t, e, "displayName", "Put Name")
	one(t, e, "title", "Boss")
	one(t, e, "sn", "Q")
	none(t, e, "mail")
	none(t, e, "employeeNumber")
	if r.body["active"] != true {
		t.Errorf("active %v", r.body["active"])
	}
	scimErr(t, h.do("PUT", "/Users/"+id, `{"displayName":"no userName"}`), http.StatusBadRequest, "invalidValue")
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, n := range []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"} {
		h.user(n)
	}
	seen := map[string]bool{}
	for start := 1; start <= 7; start += 3 {
		r := h.must(http.StatusOK, "GET", "/Users?startIndex="+itoa(start)+"&count=3", "")
		res, _ := r.body["Resources"].([]any)
		want := min(3, 8-start)
		if r.body["totalResults"] != jsonNumber(7) || len(res) != want || r.body["startIndex"] != jsonNumber(start) ||
			r.body["itemsPerPage"] != jsonNumber(want) {
			t.Fatalf("startIndex=%d: %s", start, r.raw)
		}
		for _, x := range res {
			seen[path(x, "userName").(string)] = true
		}
	}
	if len(seen) != 7 {
		t.Errorf("pages covered %d users, want 7: %v", len(seen), seen)
	}
	r := h.must(http.StatusOK, "GET", "/Users?count=0", "")
	if r.body["totalResults"] != jsonNumber(7) || len(r.body["Resources"].([]any)) != 0 {
		t.Errorf("count=0: %s", r.raw)
	}
	r = h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`userName sw "p"`)+"&attributes=userName", "")
	res := r.body["Resources"].([]any)
	if len(res) != 7 || path(res[0], "name") != nil || path(res[0], "id") == nil || path(res[0], "userName") == nil {
		t.Errorf("attributes=userName: %s", r.raw)
	}
	r = h.must(http.StatusOK, "GET", "/Users?excludedAttributes=name,meta&count=1", "")
	res = r.body["Resources"].([]any)
	if len(res) != 1 || path(res[0], "name") != nil || path(res[0], "meta") != nil || path(res[0], "userName") == nil {
		t.Errorf("excludedAttributes: %s", r.raw)
	}
}

// Every request reuses the pool's connections: none is dialed per operation.
func TestPoolReusesConnections(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for i := 0; i < 20; i++ {
		id := h.user("pool" + itoa(i))
		h.must(http.StatusOK, "GET", "/Users/"+id, "")
	}
	if d := h.App.Pool().Dialed(); d < 1 || d > h.Cfg.LDAP.PoolSize {
		t.Errorf("dialed %d connections for 40 requests, pool size %d", d, h.Cfg.LDAP.PoolSize)
	}
}

func sameDN(a, b string) bool {
	pa, err1 := ldap.ParseDN(a)
	pb, err2 := ldap.ParseDN(b)
	return err1 == nil && err2 == nil && pa.EqualFold(pb)
}

// disable.method attribute, for directories without ppolicy.
func TestDisableByAttribute(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) {
		c.Users.Disable = config.DisableConfig{Method: "attribute", Attribute: "employeeType", DisabledValue: "disabled"}
	})
	id := h.user("attr")
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"False"}`))
	one(t, h.entry(id), "employeeType", "disabled")
	none(t, h.entry(id), "pwdAccountLockedTime")
	q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`active eq false`), "")
	if q.body["totalResults"] != jsonNumber(1) {
		t.Errorf("%s", q.raw)
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"replace","path":"active","value":true}`))
	none(t, h.entry(id), "employeeType")
	r := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"attr-off","active":false}`)
	one(t, h.entry(r.body["id"].(string)), "employeeType", "disabled")
}

// A directory that is down answers 503 with Retry-After, so Entra retries the
// object instead of counting a failure, and the bridge recovers by itself.
func TestDirectoryDownIs503(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("before-outage")
	h2 := rebuildWith(t, h, func(c *config.Config) {
		c.LDAP.URL = "ldap://127.0.0.1:1" // nothing listens there
		c.LDAP.DialTimeout = 500 * time.Millisecond
	})
	for _, req := range [][2]string{{"GET", "/Users/" + id}, {"GET", "/Users?filter=userName+eq+%22x%22"}, {"POST", "/Users"}} {
		body := ""
		if req[0] == "POST" {
			body = `{"userName":"during-outage"}`
		}
		r := h2.do(req[0], req[1], body)
		scimErr(t, r, http.StatusServiceUnavailable, "")
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s: no Retry-After", req[0], req[1])
		}
	}
	if h.count("(uid=during-outage)") != 0 {
		t.Error("written during the outage")
	}
}
