// Package scimtest replays golden SCIM exchanges (scimapi/testdata/entra/*.json)
// against any http.Handler serving a Tenant URL: scimapi over an in-memory store
// in milliseconds, and the whole bridge over slapd. The same files drive both,
// so what Entra sends and needs back is written once.
//
// Only tests import this package; it imports testing, which the shipped binary
// must not link (cmd/scimbridge/deps_test.go).
//
// # File format
//
// A file is one scenario:
//
//	{
//	  "description": "what Entra does here",
//	  "source": "docs/entra-wire-reference.md §1.1",
//	  "exchanges": [
//	    {"name": "...", "method": "POST", "path": "/Users",
//	     "request": {...}, "status": 201, "response": {...},
//	     "responseHeaders": {"ETag": "{{v1}}"}, "absent": ["password"]}
//	  ]
//	}
//
// Per exchange:
//   - path is appended to the Tenant URL (so "?aadOptscim062020/Users" is the
//     flag written before the resource path); spaces and double quotes in it
//     are percent-encoded, anything else is sent as written, so a file can
//     show Entra's own "filter=userName+eq+%22x%22" (so a + meant as a
//     character is written %2B);
//   - request is the JSON body, sent as Entra sends it (application/scim+json;
//     charset=utf-8), or absent for no body;
//   - auth is "" (the valid token), "none" (no Authorization header) or
//     "wrong" (a well-formed token that is not configured);
//   - headers are extra request headers (If-Match);
//   - status is the expected status (a 204 must come without a body, any
//     body as application/scim+json); response, when present, is a subset of
//     the body: every key given must be there with an equal value, arrays
//     must have the same length and match element by element, in order;
//   - responseHeaders are expected response headers, compared like strings
//     of response;
//   - absent lists keys that must not be in the body, as dotted paths from
//     its top ("Resources.members" looks into every resource; a URN key is
//     written whole: "urn:...:2.0:User.manager"); null, [] and {} count as
//     absent (RFC 7643 §2.5);
//   - tier is "" (replayed everywhere), "memory" or "ldap" (replayed only by
//     the tier of that name), for a step whose answer depends on the store.
//
// # Placeholders
//
// Values that differ per run (ids, versions, times) are written {{name}}.
// In response and responseHeaders, the first sight of a name captures what is
// there, every later sight must be equal; {{any}} matches anything present;
// a placeholder may sit inside a string ("{{base}}/Users/{{user1}}"). In path,
// headers and request, names are replaced by their captured values; using one
// not captured yet is an error in the file. {{base}} is the Tenant URL.
package scimtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// File is one golden scenario.
type File struct {
	// Name is the file name without .json, used as the test name.
	Name        string     `json:"-"`
	Description string     `json:"description"`
	Source      string     `json:"source"`
	Exchanges   []Exchange `json:"exchanges"`
}

// Exchange is one request and what must come back; see the package comment.
type Exchange struct {
	Name            string            `json:"name"`
	Tier            string            `json:"tier"`
	Method          string            `json:"method"`
	Path            string            `json:"path"`
	Auth            string            `json:"auth"`
	Headers         map[string]string `json:"headers"`
	Request         json.RawMessage   `json:"request"`
	Status          int               `json:"status"`
	Response        json.RawMessage   `json:"response"`
	ResponseHeaders map[string]string `json:"responseHeaders"`
	Absent          []string          `json:"absent"`
}

// Tiers a step may be limited to.
const (
	TierMemory = "memory"
	TierLDAP   = "ldap"
)

// IsWrite tells whether x asks for a change of a resource (for counting
// audit lines).
func (x Exchange) IsWrite() bool {
	switch x.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// RunsOn tells whether x is replayed by tier.
func (x Exchange) RunsOn(tier string) bool { return x.Tier == "" || x.Tier == tier }

// wrongToken is well-formed (scb_ and 64 hex digits) so that the refusal is
// about the token, not its syntax.
const wrongToken = "scb_0000000000000000000000000000000000000000000000000000000000000000"

// Load reads every *.json of dir, sorted by name. A file that does not parse,
// has an unknown key (a misspelt "respone" would otherwise check nothing) or an
// invalid exchange fails t.
func Load(t testing.TB, dir string) []File {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no golden files in %s", dir)
	}
	sort.Strings(paths)
	files := make([]File, 0, len(paths))
	for _, p := range paths {
		f, err := parseFile(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		files = append(files, f)
	}
	return files
}

func parseFile(path string) (File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, err
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return File{}, err
	}
	f.Name = strings.TrimSuffix(filepath.Base(path), ".json")
	if f.Description == "" || f.Source == "" {
		return File{}, fmt.Errorf("description and source are required")
	}
	if len(f.Exchanges) == 0 {
		return File{}, fmt.Errorf("no exchanges")
	}
	for i, x := range f.Exchanges {
		if err := x.validate(); err != nil {
			return File{}, fmt.Errorf("exchange %d (%s): %v", i+1, x.Name, err)
		}
	}
	return f, nil
}

// The values an exchange's method, tier and auth may take ("" is the default
// of the last two).
var (
	knownMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	knownTiers   = []string{"", TierMemory, TierLDAP}
	knownAuth    = []string{"", "none", "wrong"}
)

func (x Exchange) validate() error {
	switch {
	case !slices.Contains(knownMethods, x.Method):
		return fmt.Errorf("method %q", x.Method)
	case x.Name == "":
		return fmt.Errorf("no name")
	case !slices.Contains(knownTiers, x.Tier):
		return fmt.Errorf("tier %q", x.Tier)
	case !slices.Contains(knownAuth, x.Auth):
		return fmt.Errorf("auth %q", x.Auth)
	case !strings.HasPrefix(x.Path, "/") && !strings.HasPrefix(x.Path, "?"):
		return fmt.Errorf("path %q must start with / or ?", x.Path)
	case x.Status < 100 || x.Status > 599:
		return fmt.Errorf("status %d", x.Status)
	case x.Status == http.StatusNoContent && len(x.Response) > 0:
		return fmt.Errorf("a 204 has no body to compare")
	}
	for _, raw := range []json.RawMessage{x.Request, x.Response} {
		if len(raw) > 0 && !json.Valid(raw) {
			return fmt.Errorf("invalid JSON")
		}
	}
	return nil
}

// Target is what a file is replayed against.
type Target struct {
	Handler http.Handler
	// BaseURL is the Tenant URL, e.g. http://bridge.test/scim/v2.
	BaseURL string
	// Token is a configured bearer token.
	Token string
	// Tier is TierMemory or TierLDAP: steps of the other tier are skipped.
	Tier string
}

// Replay sends f's exchanges in order and stops at the first that does not
// answer as written: later steps use what earlier ones captured.
func Replay(t testing.TB, f File, tgt Target) {
	t.Helper()
	vars := map[string]string{"base": strings.TrimSuffix(tgt.BaseURL, "/")}
	for i, x := range f.Exchanges {
		if !x.RunsOn(tgt.Tier) {
			continue
		}
		if err := replayOne(tgt, x, vars); err != nil {
			t.Fatalf("%s step %d (%s): %s %s: %v", f.Name, i+1, x.Name, x.Method, x.Path, err)
		}
	}
}

func replayOne(tgt Target, x Exchange, vars map[string]string) error {
	path, err := substitute(x.Path, vars, false)
	if err != nil {
		return err
	}
	path = strings.NewReplacer(" ", "%20", `"`, "%22").Replace(path)
	var body io.Reader
	if len(x.Request) > 0 {
		b, err := substitute(string(x.Request), vars, true)
		if err != nil {
			return fmt.Errorf("request: %v", err)
		}
		body = strings.NewReader(b)
	}
	req := httptest.NewRequest(x.Method, strings.TrimSuffix(tgt.BaseURL, "/")+path, body)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	switch x.Auth {
	case "":
		req.Header.Set("Authorization", "Bearer "+tgt.Token)
	case "wrong":
		req.Header.Set("Authorization", "Bearer "+wrongToken)
	}
	for k, v := range x.Headers {
		s, err := substitute(v, vars, false)
		if err != nil {
			return fmt.Errorf("header %s: %v", k, err)
		}
		req.Header.Set(k, s)
	}
	rec := httptest.NewRecorder()
	tgt.Handler.ServeHTTP(rec, req)
	return check(x, rec, vars)
}

// check compares one answer with x, capturing placeholders into vars.
func check(x Exchange, rec *httptest.ResponseRecorder, vars map[string]string) error {
	raw := rec.Body.Bytes()
	if rec.Code != x.Status {
		return fmt.Errorf("status %d, want %d\n%s", rec.Code, x.Status, raw)
	}
	var got any
	if len(bytes.TrimSpace(raw)) > 0 {
		if x.Status == http.StatusNoContent {
			return fmt.Errorf("204 with a body: %s", raw)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/scim+json" {
			return fmt.Errorf("Content-Type %q, want application/scim+json", ct)
		}
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&got); err != nil {
			return fmt.Errorf("body is not JSON: %v\n%s", err, raw)
		}
	}
	if len(x.Response) > 0 {
		if got == nil {
			return fmt.Errorf("no body, want %s", x.Response)
		}
		want, err := decode(x.Response)
		if err != nil {
			return err
		}
		if err := match("", want, got, true, vars); err != nil {
			return fmt.Errorf("response %v\n%s", err, raw)
		}
	}
	for _, name := range sortedKeys(x.ResponseHeaders) {
		have := rec.Header().Values(name)
		if len(have) != 1 {
			return fmt.Errorf("header %s: %q, want one value", name, have)
		}
		if err := match(name, x.ResponseHeaders[name], have[0], true, vars); err != nil {
			return fmt.Errorf("header %v", err)
		}
	}
	for _, a := range x.Absent {
		if p, ok := present(got, strings.Split(a, "."), ""); ok {
			return fmt.Errorf("%s is present, want it absent\n%s", p, raw)
		}
	}
	return nil
}

func decode(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// present finds the first value at the dotted path keys below v, looking into
// every element of an array on the way; it returns where it found it.
func present(v any, keys []string, at string) (string, bool) {
	if len(keys) == 0 {
		return at, !unassigned(v)
	}
	switch t := v.(type) {
	case map[string]any:
		// A key may hold dots itself (urn:...:2.0:User), so every run of
		// segments is tried as one key.
		for n := 1; n <= len(keys); n++ {
			k := strings.Join(keys[:n], ".")
			if next, ok := t[k]; ok {
				if p, ok := present(next, keys[n:], join(at, k)); ok {
					return p, true
				}
			}
		}
	case []any:
		for i, el := range t {
			if p, ok := present(el, keys, fmt.Sprintf("%s[%d]", at, i)); ok {
				return p, true
			}
		}
	}
	return "", false
}

// unassigned tells null, [] and {} apart from a value: RFC 7643 §2.5 makes
// them equivalent to an absent attribute, and a service provider may send
// "members": [] for a group without members, as Microsoft's sample does.
func unassigned(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func join(at, key string) string {
	if at == "" {
		return key
	}
	return at + "." + key
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
