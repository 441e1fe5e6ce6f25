package bridge_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// harness runs the whole bridge in-process on examples/openldap.yaml, pointed
// at the shared test slapd and at a namespace of its own.
type harness struct {
	t     testing.TB
	srv   *testenv.Server
	ns    testenv.Namespace
	ldap  *ldap.Conn
	app   *daemon.App
	token string
	cfg   *config.Config
	ad    *testenv.ADServer  // set for Active Directory runs
	logs  *testenv.LogBuffer // the bridge's log, warn level and up
}

// idFilter finds an entry by SCIM id: entryUUID, or AD's objectGUID as escaped
// bytes.
func (h *harness) idFilter(id string) string {
	if h.ad == nil {
		return "(entryUUID=" + ldap.EscapeFilter(id) + ")"
	}
	b, ok := ldapmap.ParseGUID(id)
	if !ok {
		h.t.Fatalf("id %q is not a GUID", id)
	}
	var esc strings.Builder
	for _, x := range b {
		fmt.Fprintf(&esc, "\\%02x", x)
	}
	return "(objectGUID=" + esc.String() + ")"
}

// exampleConfig loads examples/openldap.yaml as an admin would, with the
// connection settings overridden through the environment: pointed at srv and
// at the namespace ns, with the token hash given.
func exampleConfig(t testing.TB, srv *testenv.Server, ns testenv.Namespace, hash string) *config.Config {
	t.Helper()
	env := []string{
		"LDAP_BIND_PASSWORD=" + srv.BindPassword,
		"SCIMBRIDGE_TOKEN_SHA256=" + hash,
		"SCIMBRIDGE_LDAP__URL=" + srv.URL,
		"SCIMBRIDGE_LDAP__BIND_DN=" + srv.BindDN,
		"SCIMBRIDGE_USERS__BASE_DN=" + ns.People,
		"SCIMBRIDGE_GROUPS__BASE_DN=" + ns.Groups,
	}
	cfg, err := config.Load(config.Source{File: "examples/openldap.yaml", Data: examples.OpenLDAP,
		Environ: func() []string { return env }})
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	return cfg
}

// testLogger keeps the bridge's warnings in logs, for tests that assert what
// an admin would read; SCIMBRIDGE_TEST_LOG=1 also prints every line.
func testLogger(logs *testenv.LogBuffer) zerolog.Logger {
	if os.Getenv("SCIMBRIDGE_TEST_LOG") != "" {
		return zerolog.New(io.MultiWriter(logs, os.Stderr))
	}
	return zerolog.New(logs).Level(zerolog.WarnLevel)
}

// newHarness loads the example configuration exactly as an admin would, with
// the connection settings overridden through the environment, then lets
// mutate adjust it (delete mode, disable method, ...).
func newHarness(t testing.TB, mutate func(*config.Config)) *harness {
	t.Helper()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg := exampleConfig(t, srv, ns, hash)
	if mutate != nil {
		mutate(cfg)
		if err := cfg.Validate(); err != nil {
			t.Fatalf("mutated config: %v", err)
		}
	}
	// Warnings are kept for tests that assert what an admin would read.
	logs := &testenv.LogBuffer{}
	log := testLogger(logs)
	app, err := daemon.NewApp(cfg, log)
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	t.Cleanup(func() { _ = app.Pool().Close() })
	return &harness{t: t, srv: srv, ns: ns, ldap: testenv.Conn(t, srv), app: app, token: tok, cfg: cfg, logs: logs}
}

type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends one request through the real HTTP handler.
func (h *harness) do(method, path, body string, headers ...string) response {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://bridge.test/scim/v2"+path, r)
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.app.Handler().ServeHTTP(w, req)
	out := response{status: w.Code, header: w.Header(), raw: w.Body.String()}
	if w.Body.Len() > 0 {
		dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&out.body); err != nil {
			h.t.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, w.Body.String())
		}
		if ct := w.Header().Get("Content-Type"); ct != scimapi.ContentType {
			h.t.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return out
}

// must asserts the status and returns the response.
func (h *harness) must(status int, method, path, body string, headers ...string) response {
	h.t.Helper()
	r := h.do(method, path, body, headers...)
	if r.status != status {
		h.t.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.status, status, r.raw)
	}
	return r
}

// entry reads the user entry with SCIM id id straight from LDAP (nil if none).
func (h *harness) entry(id string) *ldap.Entry {
	h.t.Helper()
	res, err := h.ldap.Search(ldap.NewSearchRequest(h.ns.People, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0,
		false, h.idFilter(id), []string{"*", "+"}, nil))
	if err != nil {
		h.t.Fatalf("search %s: %v", id, err)
	}
	if len(res.Entries) == 0 {
		return nil
	}
	return res.Entries[0]
}

// count returns how many entries under the people OU match f.
func (h *harness) count(f string) int {
	h.t.Helper()
	res, err := h.ldap.Search(ldap.NewSearchRequest(h.ns.People, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0,
		false, f, []string{"1.1"}, nil))
	if err != nil {
		h.t.Fatalf("search %s: %v", f, err)
	}
	return len(res.Entries)
}

// create posts a user and returns its id.
func (h *harness) create(body string) string {
	h.t.Helper()
	r := h.must(http.StatusCreated, "POST", "/Users", body)
	id, _ := r.body["id"].(string)
	if id == "" {
		h.t.Fatalf("no id in %s", r.raw)
	}
	return id
}

func (h *harness) user(userName string) string {
	return h.create(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName +
		`","active":true,"name":{"givenName":"G","familyName":"F"}}`)
}

// attr returns the values of an LDAP attribute.
func attr(e *ldap.Entry, name string) []string {
	if e == nil {
		return nil
	}
	return e.GetEqualFoldAttributeValues(name)
}

func one(t testing.TB, e *ldap.Entry, name, want string) {
	t.Helper()
	got := attr(e, name)
	if len(got) != 1 || got[0] != want {
		t.Errorf("LDAP %s = %q, want [%q]", name, got, want)
	}
}

func none(t testing.TB, e *ldap.Entry, name string) {
	t.Helper()
	if got := attr(e, name); len(got) != 0 {
		t.Errorf("LDAP %s = %q, want no value", name, got)
	}
}

// path reads a nested value from a decoded body: path(b, "name", "givenName").
func path(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func scimErr(t testing.TB, r response, status int, scimType string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if s, _ := r.body["schemas"].([]any); len(s) != 1 || s[0] != scimapi.SchemaError {
		t.Errorf("not a SCIM error body: %s", r.raw)
	}
	if got, _ := r.body["scimType"].(string); got != scimType {
		t.Errorf("scimType %q, want %q (%s)", got, scimType, r.raw)
	}
	if got, _ := r.body["status"].(string); got != strconv.Itoa(status) {
		t.Errorf("status field %q, want %q", got, strconv.Itoa(status))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// rebuild starts a new bridge on h's namespace with h.cfg as changed by the
// test (a second bridge on the same directory, as after a config change).
func rebuild(t testing.TB, h *harness) *harness {
	return rebuildWith(t, h, nil)
}

func rebuildWith(t testing.TB, h *harness, mutate func(*config.Config), opts ...daemon.Option) *harness {
	t.Helper()
	cfg := *h.cfg
	if mutate != nil {
		mutate(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("config: %v", err)
	}
	app, err := daemon.NewApp(&cfg, testLogger(h.logs), opts...)
	if err != nil {
		t.Fatalf("NewApp: %v", err)
	}
	t.Cleanup(func() { _ = app.Pool().Close() })
	h2 := *h
	h2.app, h2.cfg = app, &cfg
	return &h2
}
