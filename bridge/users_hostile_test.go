package bridge_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
)

// Bad input gets a SCIM error with the right status and scimType, never a 500,
// and writes nothing.
func TestHostileInputsWriteNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	victim := h.user("victim")
	cases := []struct {
		name, method, path, body string
		status                   int
		scimType                 string
	}{
		{"malformed JSON", "POST", "/Users", `{"userName": "x",`, 400, "invalidSyntax"},
		{"JSON array body", "POST", "/Users", `[{"userName":"x"}]`, 400, "invalidSyntax"},
		{"trailing garbage", "POST", "/Users", `{"userName":"x"} {}`, 400, "invalidSyntax"},
		{"missing userName", "POST", "/Users", `{"displayName":"nobody"}`, 400, "invalidValue"},
		{"userName not a string", "POST", "/Users", `{"userName":42}`, 400, "invalidValue"},
		{"active not a boolean", "POST", "/Users", `{"userName":"x","active":"maybe"}`, 400, "invalidValue"},
		{"NUL byte in userName", "POST", "/Users", `{"userName":"nul\u0000byte"}`, 400, "invalidValue"},
		{"NUL byte in displayName", "POST", "/Users", `{"userName":"nul2","displayName":"a\u0000b"}`, 400, "invalidValue"},
		{"oversized value", "POST", "/Users", `{"userName":"big","displayName":"` + strings.Repeat("x", 100<<10) + `"}`, 400, "invalidValue"},
		{"bad filter", "GET", "/Users?filter=" + url.QueryEscape(`userName eqq "x"`), "", 400, "invalidFilter"},
		{"unterminated filter", "GET", "/Users?filter=" + url.QueryEscape(`userName eq "x`), "", 400, "invalidFilter"},
		{"NUL in filter", "GET", "/Users?filter=" + url.QueryEscape("userName eq \"a\x00b\""), "", 400, "invalidFilter"},
		{"bad count", "GET", "/Users?count=ten", "", 400, "invalidValue"},
		{"bad attributes", "GET", "/Users?attributes=" + url.QueryEscape("name[[x"), "", 400, "invalidPath"},
		{"PATCH unknown op", "PATCH", "/Users/" + victim, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"explode","path":"title","value":"x"}]}`, 400, "invalidSyntax"},
		{"PATCH bad path", "PATCH", "/Users/" + victim, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}`, 400, "invalidPath"},
		{"PATCH remove without path", "PATCH", "/Users/" + victim, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove"}]}`, 400, "noTarget"},
		{"PATCH remove userName", "PATCH", "/Users/" + victim, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"userName"}]}`, 400, "mutability"},
		{"PATCH id", "PATCH", "/Users/" + victim, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"id","value":"other"}]}`, 400, "mutability"},
		{"PATCH NUL value", "PATCH", "/Users/" + victim, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"a\u0000"},{"op":"replace","path":"displayName","value":"ok"}]}`, 400, "invalidValue"},
		{"PATCH unknown user", "PATCH", "/Users/00000000-0000-0000-0000-000000000000", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`, 404, ""},
		{"unknown endpoint", "GET", "/Nothing", "", 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			scimErr(t, h.do(c.method, c.path, c.body), c.status, c.scimType)
		})
	}
	if n := h.count("(objectClass=inetOrgPerson)"); n != 1 {
		t.Errorf("%d entries in the OU after the hostile requests, want only the victim", n)
	}
	e := h.entry(victim)
	none(t, e, "title")
	none(t, e, "displayName")
}

// A filter value is a literal: `*)(uid=*` finds no one instead of everyone.
func TestFilterValuesAreEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.user("alice")
	h.user("bob")
	for _, v := range []string{`*`, `*)(uid=*`, `a*`, `\2a`, `)(|(uid=*)`} {
		r := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`userName eq "`+strings.ReplaceAll(v, `\`, `\\`)+`"`), "")
		if r.body["totalResults"] != jsonNumber(0) {
			t.Errorf("userName eq %q matched: %s", v, r.raw)
		}
	}
	r := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`userName co "*"`), "")
	if r.body["totalResults"] != jsonNumber(0) {
		t.Errorf(`userName co "*" matched: %s`, r.raw)
	}
}

// A userName that looks like DN syntax stays one RDN value under the base.
func TestDNValuesAreEscaped(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, name := range []string{`evil,dc=example,dc=org`, `a+cn=b`, `#lead`, ` spaced `, `q"uote\back<>;`} {
		r := h.must(http.StatusCreated, "POST", "/Users", `{"userName":`+quote(name)+`}`)
		e := h.entry(r.body["id"].(string))
		if e == nil {
			t.Fatalf("%q: no entry", name)
		}
		parent := e.DN[strings.Index(e.DN, ",ou=people")+1:]
		if !strings.EqualFold(parent, h.NS.People) {
			t.Errorf("%q landed at %s", name, e.DN)
		}
		one(t, e, "uid", name)
		if r.body["userName"] != name {
			t.Errorf("userName %v", r.body["userName"])
		}
	}
}

func TestBodyLimit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	body := `{"userName":"huge","displayName":"` + strings.Repeat("x", 10<<20) + `"}`
	scimErr(t, h.do("POST", "/Users", body), http.StatusRequestEntityTooLarge, "")
	if h.count("(uid=huge)") != 0 {
		t.Error("written")
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) {
		c.Auth.BearerTokens = append(c.Auth.BearerTokens, config.TokenConfig{
			Name:    "old",
			SHA256:  "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", // sha256("test")
			Expires: time.Now().Add(-time.Hour),
		})
	})
	for name, auth := range map[string]string{
		"missing":       "",
		"wrong":         "Bearer nope",
		"basic":         "Basic dXNlcjpwYXNz",
		"expired token": "Bearer test",
	} {
		t.Run(name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "http://bridge.test/scim/v2/Users?filter=userName+eq+%22x%22", nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			w := httptest.NewRecorder()
			h.App.Handler().ServeHTTP(w, req)
			if w.Code != http.StatusUnauthorized || !strings.Contains(w.Body.String(), "urn:ietf:params:scim:api:messages:2.0:Error") {
				t.Errorf("%d %s", w.Code, w.Body.String())
			}
		})
	}
	// The right token works with the Tenant URL's flag in any position.
	for _, u := range []string{"/Users?aadOptscim062020&filter=userName+eq+%22x%22", "?aadOptscim062020/Users?filter=userName+eq+%22x%22"} {
		r := h.do("GET", u, "")
		if r.status != http.StatusOK || r.body["totalResults"] != jsonNumber(0) {
			t.Errorf("%s: %d %s", u, r.status, r.raw)
		}
	}
}

func quote(s string) string {
	b := strings.Builder{}
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}
