package scimapi_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// memStore is a ResourceStore that keeps resources as decoded JSON in memory,
// for the golden replays (golden_test.go). It knows SCIM, not LDAP: what it
// does is what RFC 7643/7644 and Entra ask of any service provider (ids,
// meta, versions, uniqueness, filters, PATCH), and nothing a directory adds
// (mapped attributes only, derived cn, groups of a user, ppolicy). Steps whose
// answer depends on that are marked "tier": "ldap" in the golden files.
type memStore struct {
	kind string // User or Group, for meta.resourceType and schemas
	// unique is the attribute no two resources may share, compared ignoring
	// case: userName (RFC 7643 §4.1.1, uniqueness server, caseExact false),
	// or displayName for groups, which Entra matches on and requires unique
	// (docs/entra-wire-reference.md §1).
	unique string
	// patchNoContent answers a PATCH with 204, as Microsoft recommends for
	// groups (docs/entra-wire-reference.md §1.2).
	patchNoContent bool

	mu      sync.Mutex
	byID    map[string]*memEntry
	order   []string // creation order: lists are stable
	version int
}

type memEntry struct {
	res     scimapi.Resource
	created string
}

var _ scimapi.ResourceStore = (*memStore)(nil)

func newMemUsers() *memStore {
	return &memStore{kind: "User", unique: "userName", byID: map[string]*memEntry{}}
}

func newMemGroups() *memStore {
	return &memStore{kind: "Group", unique: "displayName", patchNoContent: true, byID: map[string]*memEntry{}}
}

func (s *memStore) Create(_ context.Context, res scimapi.Resource) (scimapi.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	res = deepCopyJSON(res)
	if err := s.check(res, ""); err != nil {
		return nil, err
	}
	id := newUUID()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	res["id"] = id
	s.byID[id] = &memEntry{res: res, created: now}
	s.order = append(s.order, id)
	s.stamp(res, now, now)
	return deepCopyJSON(res), nil
}

func (s *memStore) Get(_ context.Context, id string, _ scimapi.Fields) (scimapi.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.find(id)
	if err != nil {
		return nil, err
	}
	return deepCopyJSON(e.res), nil
}

func (s *memStore) List(_ context.Context, f filter.Expr, startIndex, count int, _ scimapi.Fields) (int, []scimapi.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []scimapi.Resource
	for _, id := range s.order {
		if res := s.byID[id].res; f == nil || memMatch(f, res) {
			hits = append(hits, res)
		}
	}
	total := len(hits)
	from := min(startIndex-1, total)
	to := min(from+count, total)
	out := make([]scimapi.Resource, 0, to-from)
	for _, r := range hits[from:to] {
		out = append(out, deepCopyJSON(r))
	}
	return total, out, nil
}

func (s *memStore) Replace(_ context.Context, id string, res scimapi.Resource, ifMatch string) (scimapi.Resource, error) {
	return s.update(id, ifMatch, func(scimapi.Resource) (scimapi.Resource, error) {
		return deepCopyJSON(res), nil
	}, false)
}

func (s *memStore) Patch(_ context.Context, id string, ops []patch.Operation, ifMatch string) (scimapi.Resource, error) {
	return s.update(id, ifMatch, func(before scimapi.Resource) (scimapi.Resource, error) {
		after := deepCopyJSON(before)
		if err := patch.Apply(after, ops); err != nil {
			return nil, err
		}
		return after, nil
	}, s.patchNoContent)
}

func (s *memStore) Delete(_ context.Context, id, ifMatch string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.find(id)
	if err != nil {
		return err
	}
	if !scimapi.ETagMatches(ifMatch, memVersion(e.res)) {
		return scimerr.New(scimerr.PreconditionFailed, "resource %s changed", id)
	}
	delete(s.byID, id)
	for i, o := range s.order {
		if o == id {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
	return nil
}

// update is the one write path of PUT and PATCH: If-Match against the
// current version (RFC 7644 §3.14), the change, the checks a create makes,
// then a new version. noContent answers nil (204).
func (s *memStore) update(id, ifMatch string, change func(scimapi.Resource) (scimapi.Resource, error), noContent bool) (scimapi.Resource, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, err := s.find(id)
	if err != nil {
		return nil, err
	}
	if !scimapi.ETagMatches(ifMatch, memVersion(e.res)) {
		return nil, scimerr.New(scimerr.PreconditionFailed, "resource %s changed", id)
	}
	after, err := change(e.res)
	if err != nil {
		return nil, err
	}
	if err := s.check(after, id); err != nil {
		return nil, err
	}
	after["id"] = id
	s.stamp(after, e.created, time.Now().UTC().Format(time.RFC3339Nano))
	e.res = after
	if noContent {
		return nil, nil
	}
	return deepCopyJSON(after), nil
}

func (s *memStore) find(id string) (*memEntry, error) {
	e, ok := s.byID[id]
	if !ok {
		return nil, scimerr.New(scimerr.NotFound, "%s %s not found", s.kind, id)
	}
	return e, nil
}

// check brings res into its stored shape and refuses what no SCIM service
// provider may store: wrong types and a second resource with the unique name.
// self is the id res replaces ("" for a create).
func (s *memStore) check(res scimapi.Resource, self string) error {
	for _, k := range []string{"id", "meta", "schemas", "password"} {
		// password is returned never (RFC 7643 §4.1.1): there is no login here,
		// so it is not kept at all.
		delete(res, scimjson.KeyOf(res, k))
	}
	if err := memCoerce(res); err != nil {
		return err
	}
	name, _ := scimjson.Lookup(res, s.unique)
	str, ok := name.(string)
	if !ok || strings.TrimSpace(str) == "" {
		return scimerr.New(scimerr.InvalidValue, "%s takes a non-empty string", s.unique)
	}
	for id, e := range s.byID {
		other, _ := scimjson.Lookup(e.res, s.unique)
		if id != self && strings.EqualFold(fmt.Sprint(other), str) {
			return scimerr.New(scimerr.Uniqueness, "another %s has this %s", strings.ToLower(s.kind), s.unique)
		}
	}
	return nil
}

// stamp sets schemas and meta (RFC 7643 §3.1) and a new version.
func (s *memStore) stamp(res scimapi.Resource, created, modified string) {
	s.version++
	schemas := []any{"urn:ietf:params:scim:schemas:core:2.0:" + s.kind}
	if _, ok := scimjson.Lookup(res, scimapi.SchemaEnterpriseUser); ok {
		schemas = append(schemas, scimapi.SchemaEnterpriseUser)
	}
	res["schemas"] = schemas
	res["meta"] = map[string]any{
		"resourceType": s.kind, "created": created, "lastModified": modified,
		"version": `W/"` + strconv.Itoa(s.version) + `"`,
	}
}

func memVersion(res scimapi.Resource) string {
	meta, _ := res["meta"].(map[string]any)
	v, _ := meta["version"].(string)
	return v
}

// memStrings are the single-valued string attributes of RFC 7643 §4.1.1 and
// §3.1 (and displayName of §4.2): a value for them must be one string.
var memStrings = []string{
	"userName", "displayName", "nickName", "title", "userType", "preferredLanguage",
	"locale", "timezone", "profileUrl", "externalId",
}

// memCoerce applies SCIM's types to what PATCH left behind, with the
// readings Entra needs (docs/entra-wire-reference.md §7): booleans as
// "True"/"False", a single value wrapped as [{"value": x}] (§7.6), the
// manager as a bare id (§7.5). Anything else of the wrong type is invalidValue.
func memCoerce(res scimapi.Resource) error {
	if v, ok := scimjson.Lookup(res, "active"); ok {
		b, ok := scimjson.ParseBool(v)
		if !ok {
			return scimerr.New(scimerr.InvalidValue, "active takes a boolean")
		}
		res[scimjson.KeyOf(res, "active")] = b
	}
	for _, a := range memStrings {
		v, ok := scimjson.Lookup(res, a)
		if !ok {
			continue
		}
		v = unwrapSingle(v)
		if _, isStr := v.(string); !isStr {
			return scimerr.New(scimerr.InvalidValue, "%s takes a string", a)
		}
		res[scimjson.KeyOf(res, a)] = v
	}
	ext, _ := scimjson.Lookup(res, scimapi.SchemaEnterpriseUser)
	if obj, ok := ext.(map[string]any); ok {
		if m, ok := scimjson.Lookup(obj, "manager"); ok {
			if l, ok := m.([]any); ok && len(l) == 1 {
				m = l[0]
			}
			if id, ok := m.(string); ok {
				m = map[string]any{"value": id}
			}
			obj[scimjson.KeyOf(obj, "manager")] = m
		}
	}
	return nil
}

// unwrapSingle reads [x] and {"value": x} as x.
func unwrapSingle(v any) any {
	if l, ok := v.([]any); ok && len(l) == 1 {
		v = l[0]
	}
	if m, ok := v.(map[string]any); ok {
		if x, ok := scimjson.Lookup(m, "value"); ok {
			return x
		}
	}
	return v
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// deepCopyJSON copies decoded JSON, so a caller's changes never reach the
// store and the store's never reach an answer already given.
func deepCopyJSON(res scimapi.Resource) scimapi.Resource {
	b, err := json.Marshal(res)
	if err != nil {
		panic(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var out scimapi.Resource
	if err := dec.Decode(&out); err != nil {
		panic(err)
	}
	return out
}
