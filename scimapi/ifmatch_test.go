package scimapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/patch"
)

// ifMatchStore is an echoStore that records the If-Match value each write
// was given.
type ifMatchStore struct {
	echoStore
	mu  sync.Mutex
	got []string
}

func (s *ifMatchStore) seen(v string) {
	s.mu.Lock()
	s.got = append(s.got, v)
	s.mu.Unlock()
}

func (s *ifMatchStore) Replace(ctx context.Context, id string, res scimapi.Resource, ifMatch string) (scimapi.Resource, error) {
	s.seen(ifMatch)
	return s.echoStore.Replace(ctx, id, res, ifMatch)
}

func (s *ifMatchStore) Patch(ctx context.Context, id string, ops []patch.Operation, ifMatch string) (scimapi.Resource, error) {
	s.seen(ifMatch)
	return s.echoStore.Patch(ctx, id, ops, ifMatch)
}

func (s *ifMatchStore) Delete(ctx context.Context, id, ifMatch string) error {
	s.seen(ifMatch)
	return s.echoStore.Delete(ctx, id, ifMatch)
}

// serveRaw sends req through srv and decodes the answer like routeServer.do.
func serveRaw(t *testing.T, srv http.Handler, req *http.Request) response {
	t.Helper()
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	r := response{code: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if rec.Body.Len() > 0 {
		dec := json.NewDecoder(rec.Body)
		dec.UseNumber()
		if err := dec.Decode(&r.body); err != nil {
			t.Fatalf("%s %s: body is not a JSON object: %v: %s", req.Method, req.URL, err, r.raw)
		}
	}
	return r
}

// TestIfMatchListReachesStore: the store gets the whole If-Match value, also
// when it is a list or comes as several header fields (joined with ", ",
// RFC 9110 §5.3). Before, only the first field reached the store.
func TestIfMatchListReachesStore(t *testing.T) {
	store := &ifMatchStore{}
	srv := scimapi.New(scimapi.Options{
		BasePath: "/scim/v2", MaxBodyBytes: 1 << 10, Log: zerolog.Nop(),
		Tokens: []scimapi.Token{{Name: "test", SHA256: sha256.Sum256([]byte(routeToken))}},
	}, store, nil)
	send := func(method, body string, ifMatch ...string) {
		t.Helper()
		var req *http.Request
		if body == "" {
			req = httptest.NewRequest(method, "/scim/v2/Users/u1", nil)
		} else {
			req = httptest.NewRequest(method, "/scim/v2/Users/u1", strings.NewReader(body))
		}
		req.Header.Set("Authorization", "Bearer "+routeToken)
		for _, v := range ifMatch {
			req.Header.Add("If-Match", v)
		}
		if r := serveRaw(t, srv, req); r.code >= 300 {
			t.Fatalf("%s: %d %s", method, r.code, r.raw)
		}
	}
	send("DELETE", "", `W/"1"`, `W/"2"`)
	send("PUT", `{"userName":"bob"}`, `"a", W/"b"`)
	send("PATCH", `{"Operations":[{"op":"remove","path":"title"}]}`, `W/"x"`, `*`)
	send("DELETE", "")
	want := []string{`W/"1", W/"2"`, `"a", W/"b"`, `W/"x", *`, ``}
	if strings.Join(store.got, "|") != strings.Join(want, "|") {
		t.Errorf("the store got %q, want %q", store.got, want)
	}
}

// TestETagMatches: an If-Match list matches when any element does
// (RFC 9110 §13.1.1); "*" and no header match anything.
func TestETagMatches(t *testing.T) {
	const v = `W/"20260101000000.000000Z#000000#000#000000"`
	for _, tc := range []struct {
		ifMatch string
		want    bool
	}{
		{"", true},
		{"*", true},
		{v, true},
		{`W/"old"`, false},
		{`W/"old", ` + v, true},
		{v + `, W/"old"`, true},
		{`W/"old",` + v, true},
		{`W/"old" ,  ` + v + ` , `, true},
		{`W/"a,b", W/"c"`, false}, // a comma inside a tag does not split it
		{`W/"a,b", ` + v, true},   // ... and the next tag is still read
		{`"20260101000000.000000Z#000000#000#000000"`, false}, // W/ is part of the tag
		{`W/"old", *`, true},
		{`,`, false},
		{`bare`, false},
		{`W/"old", W/"older", W/"oldest"`, false},
	} {
		if got := scimapi.ETagMatches(tc.ifMatch, v); got != tc.want {
			t.Errorf("ETagMatches(%q) = %v, want %v", tc.ifMatch, got, tc.want)
		}
	}
}
