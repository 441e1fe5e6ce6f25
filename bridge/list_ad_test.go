package bridge_test

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/daemon"
)

// pagedOnly passes a Directory on without its sorted lists (only the
// Directory methods are promoted), counting the paged searches.
type pagedOnly struct {
	bridge.Directory
	paged atomic.Int32
}

func (d *pagedOnly) SearchPaged(ctx context.Context, req *ldap.SearchRequest, size uint32, each func(*ldap.Entry) bool) (bool, error) {
	d.paged.Add(1)
	return d.Directory.SearchPaged(ctx, req, size, each)
}

// Samba sorts by objectGUID and pages with VLV natively: pages in one order,
// none repeated or skipped, each connection closed after its list. On the
// paged path, Samba's paged-results size estimate (exact there) gives the
// count without a second search.
func TestADListsSorted(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	stem := adUnique(t, "ls")
	var ids []string
	for i := 0; i < 4; i++ {
		ids = append(ids, h.user(stem+itoa(i)))
	}
	dialed := h.App.Pool().Dialed()
	first := walk(t, h, "/Users?attributes=userName", 3, 4)
	if again := walk(t, h, "/Users?attributes=userName", 1, 4); !slices.Equal(first, again) {
		t.Errorf("two walks gave\n %q\n %q", first, again)
	}
	if d := h.App.Pool().Dialed() - dialed; d < 5 {
		t.Errorf("6 sorted lists dialed %d connections, want 5: each should close its own", d)
	}
	slices.Sort(first)
	slices.Sort(ids)
	if !slices.Equal(first, ids) {
		t.Errorf("pages gave %q, want each of %q once", first, ids)
	}
	r := h.must(http.StatusOK, "GET", "/Users?startIndex=9&count=3", "")
	if res, _ := r.body["Resources"].([]any); len(res) != 0 || r.body["totalResults"] != jsonNumber(4) {
		t.Errorf("past the end: %s", r.raw)
	}

	plain := &pagedOnly{}
	h = rebuildWith(t, h, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory { plain.Directory = d; return plain }))
	r = h.must(http.StatusOK, "GET", "/Users?count=1", "")
	if r.body["totalResults"] != jsonNumber(4) || plain.paged.Load() != 1 {
		t.Errorf("paged path: %d paged searches (want 1: the size estimate counts), %s", plain.paged.Load(), r.raw)
	}
}
