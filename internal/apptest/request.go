package apptest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi"
)

// Response is one answer of the daemon's HTTP handler.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any // JSON numbers as json.Number
	Raw    string
}

// Do sends one request through the daemon's HTTP handler, without a
// listener, with h's token.
func (h *Harness) Do(method, path, body string, headers ...string) Response {
	h.T.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://bridge.test/scim/v2"+path, r)
	req.Header.Set("Authorization", "Bearer "+h.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	h.App.Handler().ServeHTTP(w, req)
	out := Response{Status: w.Code, Header: w.Header(), Raw: w.Body.String()}
	if w.Body.Len() > 0 {
		dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&out.Body); err != nil {
			h.T.Fatalf("%s %s: response is not JSON: %v\n%s", method, path, err, w.Body.String())
		}
		if ct := w.Header().Get("Content-Type"); ct != scimapi.ContentType {
			h.T.Errorf("%s %s: Content-Type %q", method, path, ct)
		}
	}
	return out
}

// Must is Do, failing the test unless the answer has status.
func (h *Harness) Must(status int, method, path, body string, headers ...string) Response {
	h.T.Helper()
	r := h.Do(method, path, body, headers...)
	if r.Status != status {
		h.T.Fatalf("%s %s: status %d, want %d\n%s", method, path, r.Status, status, r.Raw)
	}
	return r
}

// Create posts a user and returns its id.
func (h *Harness) Create(body string) string {
	h.T.Helper()
	r := h.Must(http.StatusCreated, "POST", "/Users", body)
	id, _ := r.Body["id"].(string)
	if id == "" {
		h.T.Fatalf("no id in %s", r.Raw)
	}
	return id
}

// User creates an active user with a name and returns its id.
func (h *Harness) User(userName string) string {
	h.T.Helper()
	return h.Create(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + userName +
		`","active":true,"name":{"givenName":"G","familyName":"F"}}`)
}

// IDFilter finds an entry by SCIM id: entryUUID, or AD's objectGUID as
// escaped bytes.
func (h *Harness) IDFilter(id string) string {
	if h.AD == nil {
		return "(entryUUID=" + ldap.EscapeFilter(id) + ")"
	}
	b, ok := ldapmap.ParseGUID(id)
	if !ok {
		h.T.Fatalf("id %q is not a GUID", id)
	}
	var esc strings.Builder
	for _, x := range b {
		fmt.Fprintf(&esc, "\\%02x", x)
	}
	return "(objectGUID=" + esc.String() + ")"
}

// Entry reads the user entry with SCIM id id straight from LDAP (nil if none).
func (h *Harness) Entry(id string) *ldap.Entry {
	h.T.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(h.NS.People, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0,
		false, h.IDFilter(id), []string{"*", "+"}, nil))
	if err != nil {
		h.T.Fatalf("search %s: %v", id, err)
	}
	if len(res.Entries) == 0 {
		return nil
	}
	return res.Entries[0]
}

// Count returns how many entries directly under the people OU match f.
func (h *Harness) Count(f string) int {
	h.T.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(h.NS.People, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0,
		false, f, []string{"1.1"}, nil))
	if err != nil {
		h.T.Fatalf("search %s: %v", f, err)
	}
	return len(res.Entries)
}

// SCIMError asserts that r is a SCIM error (RFC 7644 §3.12) with status and
// scimType ("" for none).
func SCIMError(t testing.TB, r Response, status int, scimType string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	if s, _ := r.Body["schemas"].([]any); len(s) != 1 || s[0] != scimapi.SchemaError {
		t.Errorf("not a SCIM error body: %s", r.Raw)
	}
	if got, _ := r.Body["scimType"].(string); got != scimType {
		t.Errorf("scimType %q, want %q (%s)", got, scimType, r.Raw)
	}
	if got, _ := r.Body["status"].(string); got != strconv.Itoa(status) {
		t.Errorf("status field %q, want %q", got, strconv.Itoa(status))
	}
}

// PatchBody wraps PATCH operations (JSON objects, comma-separated) in a
// PatchOp message.
func PatchBody(ops string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
}
