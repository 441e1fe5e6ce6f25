package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// SCIM URNs and media type (RFC 7643 §8.7, RFC 7644 §3.1, §3.12).
const (
	contentType      = "application/scim+json"
	schemaError      = "urn:ietf:params:scim:api:messages:2.0:Error"
	schemaList       = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	schemaPatch      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	schemaEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// maxBody caps what is read of one response.
const maxBody = 4 << 20

// testUser is a user the check creates.
type testUser struct {
	id, userName, email, externalID string
}

// testGroup is the group the check creates.
type testGroup struct {
	id, name string
}

// created is something the check made and must delete.
type created struct {
	path, label string
	gone        bool
}

// checker holds one run's state: what it created, and the ids later steps use.
type checker struct {
	o      Options
	base   string
	shown  string // base without a password, for the report
	run    string // random, in every name of this run
	seq    int
	report Report
	// abort, once set, says why every further step cannot run.
	abort string

	user, manager testUser
	managerSet    bool
	group         testGroup
	made          []*created
	// tried are names POSTed without an id coming back (a timeout, or a
	// failure after the write): the clean-up looks them up by name.
	tried []tried
}

type tried struct {
	kind kind
	name string
}

// response is one decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
	// notJSON is set when a non-empty body did not decode as a JSON object.
	notJSON error
}

// send makes one request, bounded by Options.Timeout. path is relative to the
// Tenant URL and already escaped.
func (c *checker) send(ctx context.Context, method, path, body, token string) (*response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, c.short(path), err)
	}
	// Entra sends the bare token with the Bearer scheme; no scim+json Accept on
	// GETs (docs/entra-wire-reference.md §2, azure-docs#94189), this charset on bodies (§1.1).
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("User-Agent", "scimbridge-check")
	if body != "" {
		req.Header.Set("Content-Type", contentType+"; charset=utf-8")
	}
	resp, err := c.o.HTTPClient.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, fmt.Errorf("%s %s: no answer within %v (--timeout)", method, c.short(path), c.o.Timeout)
		}
		return nil, fmt.Errorf("%s %s: %w", method, c.short(path), unwrapURLError(err))
	}
	defer func() { _ = resp.Body.Close() }()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading the response: %w", method, c.short(path), err)
	}
	r := &response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			r.notJSON = err
		}
	}
	return r, nil
}

// unwrapURLError drops *url.Error's "Get \"URL\":" prefix: the row names the
// request already.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// expect sends with the configured token and fails unless the status is one
// of want and a body that should be JSON is.
func (c *checker) expect(ctx context.Context, method, path, body string, want ...int) (*response, error) {
	r, err := c.send(ctx, method, path, body, c.o.Token)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(want, r.status) {
		return r, fmt.Errorf("%s %s: %s", method, c.short(path), r.describeWant(statuses(want)))
	}
	if r.notJSON != nil {
		return r, fmt.Errorf("%s %s: %d with a body that is not a JSON object: %v", method, c.short(path), r.status, r.notJSON)
	}
	return r, nil
}

// describe is the status with the SCIM error's scimType and detail, if any.
func (r *response) describe() string { return r.describeWant("") }

// describeWant is describe with what was expected next to the status:
// "400 invalidValue (want 201): detail".
func (r *response) describeWant(want string) string {
	s := strconv.Itoa(r.status)
	detail := strings.TrimSpace(string(r.raw))
	if r.body != nil {
		if t := str(r.body["scimType"]); t != "" {
			s += " " + t
		}
		detail = str(r.body["detail"])
	}
	if want != "" {
		s += " (want " + want + ")"
	}
	if detail != "" {
		s += ": " + detail
	}
	return s
}

func statuses(want []int) string {
	parts := make([]string, len(want))
	for i, w := range want {
		parts[i] = strconv.Itoa(w)
	}
	return strings.Join(parts, " or ")
}

// short is a path for a report: ids replaced by what they stand for, the query
// cut.
func (c *checker) short(path string) string {
	path, q, _ := strings.Cut(path, "?")
	for _, r := range []struct{ id, name string }{
		{c.user.id, "{user}"}, {c.manager.id, "{manager}"}, {c.group.id, "{group}"},
	} {
		if r.id != "" {
			path = strings.ReplaceAll(path, r.id, r.name)
		}
	}
	if q != "" {
		path += "?…"
	}
	return path
}

// list checks a ListResponse (RFC 7644 §3.4.2) and returns its resources.
func list(r *response) ([]map[string]any, error) {
	if !slices.Contains(strs(r.body["schemas"]), schemaList) {
		return nil, fmt.Errorf("not a ListResponse: schemas %v", r.body["schemas"])
	}
	raw, ok := r.body["Resources"].([]any)
	if !ok {
		if r.body["Resources"] == nil {
			return nil, fmt.Errorf("no Resources array (Entra expects \"Resources\": [] when nothing matches)")
		}
		return nil, fmt.Errorf("the Resources member is %T, not an array", r.body["Resources"])
	}
	total, ok := number(r.body["totalResults"])
	if !ok {
		return nil, fmt.Errorf("totalResults %v is not a number", r.body["totalResults"])
	}
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("a resource is %T, not an object", x)
		}
		out = append(out, m)
	}
	if total < int64(len(out)) {
		return nil, fmt.Errorf("totalResults %d but %d Resources", total, len(out))
	}
	return out, nil
}

// filterQuery is "filter=<f>" encoded as Entra does: + for spaces, %22 for
// quotes (docs/entra-wire-reference.md §1.1, §2).
func filterQuery(f string) string { return "filter=" + url.QueryEscape(f) }

// quote renders a SCIM filter string literal (RFC 7644 §3.4.2.2, JSON rules).
func quote(s string) string { return jsonString(s) }

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// get reads a nested value: get(body, "name", "givenName").
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func strs(v any) []string {
	xs, _ := v.([]any)
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, str(x))
	}
	return out
}

func number(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func isSCIMJSON(h http.Header) bool {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	return err == nil && mt == contentType
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// guid is a random (version 4) GUID, as Entra's Test connection sends.
func guid() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
