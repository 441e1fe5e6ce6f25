package loadbench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// listResult is the list figures: a page at each end of GET /Users over
// Options.List users.
type listResult struct {
	loaded   int
	loadTime time.Duration
	rows     []listRow
}

type listRow struct {
	path string
	Figures
}

// listFigures loads o.List users directly (adds over the c connections:
// the runs have left ou=people empty), then measures the first and the last
// page of 100 through the bridge, each o.ListReps times one after the other
// after one unmeasured request.
func (b *bench) listFigures(ctx context.Context) (*listResult, error) {
	n := b.o.List
	took, err := b.loadUsers(ctx, n)
	if err != nil {
		return nil, err
	}
	res := &listResult{loaded: n, loadTime: took}
	starts := []int{1}
	if n > 100 {
		starts = append(starts, n-99)
	}
	for _, start := range starts {
		path := "/Users?startIndex=" + strconv.Itoa(start) + "&count=100"
		want := min(100, n-start+1)
		get := func(ctx context.Context, _, _ int) error { return b.listPage(ctx, path, n, want) }
		if err := get(ctx, 0, 0); err != nil {
			return nil, err
		}
		f, err := b.measure(ctx, b.o.ListReps, 1, get)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		fmt.Fprintf(b.log, "list GET %s: p50 %.0f ms, bridge CPU %.0f ms, slapd CPU %.0f ms\n",
			path, ms(f.P50), f.BridgeCPU/1000, f.SlapdCPU/1000)
		res.rows = append(res.rows, listRow{path: "GET " + path, Figures: f})
	}
	return res, nil
}

// listPage gets one page and checks its totalResults and length.
func (b *bench) listPage(ctx context.Context, path string, total, want int) error {
	body, err := b.scim.do(ctx, http.MethodGet, path, nil, http.StatusOK)
	if err != nil {
		return err
	}
	var r struct {
		TotalResults int               `json:"totalResults"`
		Resources    []json.RawMessage `json:"Resources"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if r.TotalResults != total || len(r.Resources) != want {
		return fmt.Errorf("GET %s: totalResults %d with %d resources, want %d with %d", path, r.TotalResults, len(r.Resources), total, want)
	}
	return nil
}

// loadUsers adds n users as the direct side's create would, over the c
// connections, reporting progress every 10 s.
func (b *bench) loadUsers(ctx context.Context, n int) (time.Duration, error) {
	var done atomic.Int64
	stop := make(chan struct{})
	defer close(stop)
	start := time.Now()
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				d := done.Load()
				fmt.Fprintf(b.log, "list: %d of %d users added (%.0f/s)\n", d, n, float64(d)/time.Since(start).Seconds())
			}
		}
	}()
	took, _, err := runConcurrent(ctx, n, len(b.conns), func(_ context.Context, w, i int) error {
		req := addRequest(b.people, newUser("list", 0, i))
		if err := b.conns[w].Add(req); err != nil {
			return fmt.Errorf("add %s: %w", req.DN, err)
		}
		done.Add(1)
		return nil
	})
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(b.log, "list: %d users added in %.1f s (%.0f/s)\n", n, took.Seconds(), float64(n)/took.Seconds())
	return took, nil
}
