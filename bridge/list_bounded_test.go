package bridge_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
)

// heldLists holds every paged search (a list) until release is closed, and
// counts how many have started.
type heldLists struct {
	bridge.Directory
	mu      sync.Mutex
	started int
	release chan struct{}
}

func (d *heldLists) SearchPaged(ctx context.Context, req *ldap.SearchRequest, size uint32, each func(*ldap.Entry) bool) (bool, error) {
	d.mu.Lock()
	d.started++
	d.mu.Unlock()
	select {
	case <-d.release:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return d.Directory.SearchPaged(ctx, req, size, each)
}

func (d *heldLists) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.started
}

// With users.max_results 10, list answers hold at most 20 resources: two full
// lists in progress leave a third waiting (until its client's deadline or its
// request budget) and then answering 503 with Retry-After, without its search
// reaching the directory; once the two are answered, lists go through again.
func TestListsBoundedOnSlapd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) {
		c.Users.MaxResults = 10
		c.Server.WriteTimeout, c.LDAP.Timeout = 20*time.Second, 5*time.Second
	})
	for i := 0; i < 10; i++ {
		h.user("listed" + itoa(i))
	}
	held := &heldLists{release: make(chan struct{})}
	h = rebuildWith(t, h, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory { held.Directory = d; return held }))
	answers := make(chan response, 2)
	for i := 0; i < 2; i++ {
		go func() { answers <- h.do("GET", "/Users?count=10", "") }()
	}
	for deadline := time.Now().Add(5 * time.Second); held.count() < 2; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the two lists did not start")
		}
	}
	// The third client gives up sooner than the request budget (as a client
	// with its own timeout does); the wait ends at whichever comes first.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req := httptest.NewRequest("GET", h.Cfg.Server.BasePath+"/Users?count=10", nil).WithContext(ctx)
	req.Header.Set("Authorization", "Bearer "+h.Token)
	rec := httptest.NewRecorder()
	h.App.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" || held.count() != 2 {
		t.Errorf("third list: %d, Retry-After %q, searches started %d (want 503, set, 2): %s",
			rec.Code, rec.Header().Get("Retry-After"), held.count(), rec.Body)
	}
	close(held.release)
	for i := 0; i < 2; i++ {
		if r := <-answers; r.status != http.StatusOK || r.body["itemsPerPage"] != jsonNumber(10) {
			t.Fatalf("held list: %d %s", r.status, r.raw)
		}
	}
	h.must(http.StatusOK, "GET", "/Users?count=10", "")
}
