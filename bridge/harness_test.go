package bridge_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// harness is the whole daemon in-process (apptest.Harness, shared with
// internal/daemon's tests); the functions and methods below keep the short
// names this package's tests are written with.
type harness struct{ *apptest.Harness }

// response is apptest.Response under those short names.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func short(r apptest.Response) response { return response{r.Status, r.Header, r.Body, r.Raw} }

// newHarness runs the daemon on examples/openldap.yaml in a namespace of its
// own on the shared slapd (apptest.New).
func newHarness(t testing.TB, mutate func(*config.Config)) *harness {
	t.Helper()
	return &harness{apptest.New(t, mutate)}
}

// adHarness runs it on examples/ad.yaml in an OU of its own on the shared
// Samba DC (apptest.NewAD).
func adHarness(t testing.TB, mutate func(*config.Config)) *harness {
	t.Helper()
	return &harness{apptest.NewAD(t, mutate)}
}

// privateHarness runs it on a slapd of its own, which the test may stop
// (apptest.NewPrivate).
func privateHarness(t testing.TB, mutate func(*config.Config)) (*harness, *testenv.Slapd) {
	t.Helper()
	h, slapd := apptest.NewPrivate(t, mutate)
	return &harness{h}, slapd
}

// rebuild starts a new bridge on h's namespace with h.Cfg as changed by the
// test (a second bridge on the same directory, as after a config change).
func rebuild(t testing.TB, h *harness) *harness {
	t.Helper()
	return rebuildWith(t, h, nil)
}

// rebuildWith is rebuild with the configuration changed by mutate first.
func rebuildWith(t testing.TB, h *harness, mutate func(*config.Config), opts ...daemon.Option) *harness {
	t.Helper()
	return &harness{h.Rebuild(t, mutate, opts...)}
}

// serve starts h's daemon on a loopback port and returns its Tenant URL.
func serve(t testing.TB, h *harness) string {
	t.Helper()
	return h.Serve(t)
}

func (h *harness) do(method, path, body string, headers ...string) response {
	h.T.Helper()
	return short(h.Do(method, path, body, headers...))
}

func (h *harness) must(status int, method, path, body string, headers ...string) response {
	h.T.Helper()
	return short(h.Must(status, method, path, body, headers...))
}

func (h *harness) entry(id string) *ldap.Entry {
	h.T.Helper()
	return h.Entry(id)
}

func (h *harness) count(f string) int {
	h.T.Helper()
	return h.Count(f)
}

func (h *harness) create(body string) string {
	h.T.Helper()
	return h.Create(body)
}

func (h *harness) user(userName string) string {
	h.T.Helper()
	return h.User(userName)
}

func scimErr(t testing.TB, r response, status int, scimType string) {
	t.Helper()
	apptest.SCIMError(t, apptest.Response{Status: r.status, Header: r.header, Body: r.body, Raw: r.raw}, status, scimType)
}

func patchBody(ops string) string { return apptest.PatchBody(ops) }

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

func itoa(n int) string { return strconv.Itoa(n) }
