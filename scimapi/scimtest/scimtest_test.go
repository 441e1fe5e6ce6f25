package scimtest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The engine is what every golden file relies on to fail: each case here is
// a mismatch it must report, or a capture it must make.

func TestMatch(t *testing.T) {
	cases := []struct {
		name      string
		want, got string
		vars      map[string]string
		err       string // "" for a match
		captured  map[string]string
	}{
		{name: "subset", want: `{"a":1}`, got: `{"a":1,"b":2}`},
		{name: "missing key", want: `{"c":1}`, got: `{"a":1}`, err: "c: missing"},
		{name: "other value", want: `{"a":"x"}`, got: `{"a":"y"}`, err: `a: "y", want "x"`},
		{name: "number vs string", want: `{"a":1}`, got: `{"a":"1"}`, err: "a:"},
		{name: "bool", want: `{"a":false}`, got: `{"a":true}`, err: "a: true"},
		{name: "null wanted", want: `{"a":null}`, got: `{"a":0}`, err: "a:"},
		{name: "nested", want: `{"m":{"v":"x"}}`, got: `{"m":{"v":"y","w":1}}`, err: "m.v"},
		{name: "array order", want: `{"l":[{"v":"a"},{"v":"b"}]}`, got: `{"l":[{"v":"b"},{"v":"a"}]}`, err: "l[0].v"},
		{name: "array length", want: `{"l":[]}`, got: `{"l":[1]}`, err: "want 0 element(s)"},
		{name: "array elements are subsets", want: `{"l":[{"v":"a"}]}`, got: `{"l":[{"v":"a","t":"w"}]}`},
		{
			name: "capture", want: `{"id":"{{u}}","meta":{"location":"http://x/Users/{{u}}"}}`,
			got: `{"id":"42","meta":{"location":"http://x/Users/42"}}`, captured: map[string]string{"u": "42"},
		},
		{
			name: "capture disagrees", want: `{"id":"{{u}}","meta":{"location":"http://x/Users/{{u}}"}}`,
			got: `{"id":"42","meta":{"location":"http://x/Users/43"}}`, err: "{{u}}",
		},
		{name: "bound must equal", want: `{"id":"{{u}}"}`, got: `{"id":"7"}`, vars: map[string]string{"u": "6"}, err: `"7", but {{u}} is "6"`},
		{
			name: "bound inside text", want: `{"l":"{{base}}/Users/{{u}}"}`, got: `{"l":"http://b/Users/7"}`,
			vars: map[string]string{"base": "http://a", "u": "7"}, err: "want {{base}}/Users/{{u}}",
		},
		{name: "any matches anything present", want: `{"a":"{{any}}"}`, got: `{"a":{"x":1}}`},
		{name: "any needs presence", want: `{"a":"{{any}}"}`, got: `{}`, err: "a: missing"},
		{name: "any is not null", want: `{"a":"{{any}}"}`, got: `{"a":null}`, err: "a: null"},
		{name: "placeholder takes a scalar", want: `{"a":"{{x}}"}`, got: `{"a":[1]}`, err: "want a value for {{x}}"},
		{name: "text template needs a string", want: `{"a":"v{{x}}"}`, got: `{"a":3}`, err: "want a string"},
		{name: "regexp characters are literal", want: `{"a":"W/\"{{x}}\""}`, got: `{"a":"W/\"3\""}`, captured: map[string]string{"x": "3"}},
		{name: "regexp characters do not match others", want: `{"a":"a.c"}`, got: `{"a":"abc"}`, err: "a:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, err := decode([]byte(c.want))
			if err != nil {
				t.Fatal(err)
			}
			got, err := decode([]byte(c.got))
			if err != nil {
				t.Fatal(err)
			}
			vars := map[string]string{}
			for k, v := range c.vars {
				vars[k] = v
			}
			err = match("", want, got, true, vars)
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("unexpected mismatch: %v", err)
			case c.err != "" && err == nil:
				t.Fatalf("no mismatch, want one containing %q", c.err)
			case c.err != "" && !strings.Contains(err.Error(), c.err):
				t.Fatalf("mismatch %q, want it to contain %q", err, c.err)
			}
			for k, v := range c.captured {
				if vars[k] != v {
					t.Errorf("{{%s}} = %q, want %q", k, vars[k], v)
				}
			}
		})
	}
}

func TestSubstitute(t *testing.T) {
	vars := map[string]string{"u": `a"b`}
	if got, err := substitute(`{"v":"{{u}}"}`, vars, true); err != nil || got != `{"v":"a\"b"}` {
		t.Errorf("in JSON: %q, %v", got, err)
	}
	if got, err := substitute(`/Users/{{u}}`, vars, false); err != nil || got != `/Users/a"b` {
		t.Errorf("in a path: %q, %v", got, err)
	}
	if _, err := substitute(`/Users/{{nope}}`, vars, false); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("an uncaptured name: %v", err)
	}
}

func TestCheckAnswer(t *testing.T) {
	answer := func(status int, ct, body string, hdr ...string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		for i := 0; i+1 < len(hdr); i += 2 {
			rec.Header().Set(hdr[i], hdr[i+1])
		}
		if ct != "" {
			rec.Header().Set("Content-Type", ct)
		}
		rec.WriteHeader(status)
		rec.WriteString(body)
		return rec
	}
	const scim = "application/scim+json"
	cases := []struct {
		name string
		x    Exchange
		rec  *httptest.ResponseRecorder
		err  string
	}{
		{"status", Exchange{Status: 200}, answer(404, scim, `{}`), "status 404, want 200"},
		{"204 with a body", Exchange{Status: 204}, answer(204, scim, `{"a":1}`), "204 with a body"},
		{"content type", Exchange{Status: 200}, answer(200, "application/json", `{}`), "Content-Type"},
		{"not JSON", Exchange{Status: 200}, answer(200, scim, `{`), "not JSON"},
		{"no body", Exchange{Status: 200, Response: []byte(`{"a":1}`)}, answer(200, "", ""), "no body"},
		{"absent", Exchange{Status: 200, Absent: []string{"password"}}, answer(200, scim, `{"password":"x"}`), "password is present"},
		{
			"absent in every resource",
			Exchange{Status: 200, Absent: []string{"Resources.members"}},
			answer(200, scim, `{"Resources":[{},{"members":[{"value":"x"}]}]}`), "Resources[1].members is present",
		},
		{
			"absent under a URN key",
			Exchange{Status: 200, Absent: []string{"urn:x:2.0:User.manager"}},
			answer(200, scim, `{"urn:x:2.0:User":{"manager":{"value":"m"}}}`), "urn:x:2.0:User.manager is present",
		},
		{
			"absent means no value, but \"\" is one",
			Exchange{Status: 200, Absent: []string{"a", "b", "c", "d"}},
			answer(200, scim, `{"a":null,"b":[],"c":{},"d":""}`), "d is present",
		},
		{"header missing", Exchange{Status: 200, ResponseHeaders: map[string]string{"ETag": "{{v}}"}}, answer(200, scim, `{}`), "header ETag"},
		{
			"header differs",
			Exchange{Status: 200, ResponseHeaders: map[string]string{"Location": "http://x/{{any}}"}},
			answer(200, scim, `{}`, "Location", "http://y/1"), "Location",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := check(c.x, c.rec, map[string]string{})
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Fatalf("error %v, want one containing %q", err, c.err)
			}
		})
	}
	ok := Exchange{
		Status: 200, Response: []byte(`{"id":"{{u}}"}`), Absent: []string{"password"},
		ResponseHeaders: map[string]string{"ETag": `W/"{{v}}"`},
	}
	vars := map[string]string{}
	if err := check(ok, answer(200, scim, `{"id":"1","name":"n"}`, "ETag", `W/"9"`), vars); err != nil {
		t.Fatal(err)
	}
	if vars["u"] != "1" || vars["v"] != "9" {
		t.Errorf("captured %v", vars)
	}
}

// Replay sends what the file says: the path under the Tenant URL with spaces
// and quotes encoded, the token (or none, or a wrong one), the body with
// captured values in it, and skips the other tier's steps.
func TestReplaySends(t *testing.T) {
	var seen []string
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		seen = append(seen, r.Method+" "+r.URL.RequestURI()+" auth="+r.Header.Get("Authorization")+
			" if-match="+r.Header.Get("If-Match")+" ct="+r.Header.Get("Content-Type")+" body="+string(b))
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"u-1"}`))
	})
	f := File{Name: "t", Exchanges: []Exchange{
		{Name: "a", Method: "POST", Path: "/Users", Request: []byte(`{"userName":"x"}`), Status: 201, Response: []byte(`{"id":"{{u}}"}`)},
		{Name: "b", Method: "GET", Path: `/Users?filter=id eq "{{u}}"`, Auth: "none", Status: 201},
		{Name: "c", Tier: TierLDAP, Method: "GET", Path: "/skipped", Status: 201},
		{
			Name: "d", Method: "PATCH", Path: "/Users/{{u}}", Auth: "wrong", Headers: map[string]string{"If-Match": "{{u}}"},
			Request: []byte(`{"v":"{{u}}"}`), Status: 201,
		},
	}}
	Replay(t, f, Target{Handler: h, BaseURL: "http://b.test/scim/v2/", Token: "tok", Tier: TierMemory})
	want := []string{
		`POST /scim/v2/Users auth=Bearer tok if-match= ct=application/scim+json; charset=utf-8 body={"userName":"x"}`,
		`GET /scim/v2/Users?filter=id%20eq%20%22u-1%22 auth= if-match= ct= body=`,
		`PATCH /scim/v2/Users/u-1 auth=Bearer ` + wrongToken + ` if-match=u-1 ct=application/scim+json; charset=utf-8 body={"v":"u-1"}`,
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent\n%s\nwant\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	cases := map[string]string{
		"unknown key":   `{"description":"d","source":"s","exchanges":[{"name":"n","method":"GET","path":"/Users","status":200,"respone":{}}]}`,
		"no source":     `{"description":"d","exchanges":[{"name":"n","method":"GET","path":"/Users","status":200}]}`,
		"bad tier":      `{"description":"d","source":"s","exchanges":[{"name":"n","tier":"mem","method":"GET","path":"/Users","status":200}]}`,
		"204 with body": `{"description":"d","source":"s","exchanges":[{"name":"n","method":"DELETE","path":"/Users/x","status":204,"response":{}}]}`,
		"no name":       `{"description":"d","source":"s","exchanges":[{"method":"GET","path":"/Users","status":200}]}`,
		"relative path": `{"description":"d","source":"s","exchanges":[{"name":"n","method":"GET","path":"Users","status":200}]}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "x.json")
			if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := parseFile(p); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
