package scimapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/filter"
)

// gatedStore answers List with n users once release is closed, and tells
// when a List has started.
type gatedStore struct {
	echoStore
	n       int
	started chan struct{}
	release chan struct{}
}

func (g *gatedStore) List(ctx context.Context, _ filter.Expr, _, _ int, _ scimapi.Fields) (int, []scimapi.Resource, error) {
	g.started <- struct{}{}
	<-g.release
	out := make([]scimapi.Resource, g.n)
	for i := range out {
		out[i] = scimapi.Resource{"id": fmt.Sprint(i), "userName": fmt.Sprintf("u%d", i)}
	}
	return g.n, out, nil
}

// Lists hold at most two pages of MaxCount resources at once: a third
// full-size list waits, and answers 503 when its request budget runs out;
// a list answered gives its slots back, so the next one goes through.
func TestListsBounded(t *testing.T) {
	g := &gatedStore{n: 10, started: make(chan struct{}, 4), release: make(chan struct{})}
	srv := scimapi.New(scimapi.Options{
		BasePath: "/scim/v2", MaxCount: 10, Log: zerolog.Nop(),
		Tokens: []scimapi.Token{{Name: "test", SHA256: sha256.Sum256([]byte(routeToken))}},
	}, g, nil)
	list := func(ctx context.Context) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/scim/v2/Users?count=10", nil).WithContext(ctx)
		req.Header.Set("Authorization", "Bearer "+routeToken)
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	answers := make(chan *httptest.ResponseRecorder, 2)
	for i := 0; i < 2; i++ {
		go func() { answers <- list(context.Background()) }()
		<-g.started
	}
	// Both pages are reserved: a third list cannot start its search.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	third := list(ctx)
	if third.Code != http.StatusServiceUnavailable || third.Header().Get("Retry-After") == "" {
		t.Fatalf("third list: %d %s, want 503 with Retry-After", third.Code, third.Body)
	}
	close(g.release)
	for i := 0; i < 2; i++ {
		r := <-answers
		var body struct {
			TotalResults int              `json:"totalResults"`
			ItemsPerPage int              `json:"itemsPerPage"`
			Resources    []map[string]any `json:"Resources"`
		}
		if r.Code != http.StatusOK || json.Unmarshal(r.Body.Bytes(), &body) != nil || len(body.Resources) != 10 ||
			body.ItemsPerPage != 10 || body.TotalResults != 10 {
			t.Fatalf("list: %d %s", r.Code, r.Body)
		}
	}
	go func() { <-g.started }()
	if r := list(context.Background()); r.Code != http.StatusOK {
		t.Fatalf("a list after the others were answered: %d %s", r.Code, r.Body)
	}
}
