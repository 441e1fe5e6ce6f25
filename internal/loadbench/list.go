package loadbench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// listResult is the list figures: a page at each end of GET /Users over
// Options.List users.
type listResult struct {
	loaded   int
	loadTime time.Duration
	online   bool // loaded with LDAP adds rather than slapadd
	rows     []listRow
}

type listRow struct {
	path string
	Figures
}

// listFigures loads o.List users (the runs have left ou=people empty), then
// measures the first and the last page of 100 through the bridge, each
// o.ListReps times one after the other, after one unmeasured request.
func (b *bench) listFigures(ctx context.Context) (*listResult, error) {
	n := b.o.List
	load := b.bulkLoad
	if b.o.ListOnline {
		load = b.loadUsers
	}
	took, err := load(ctx, n)
	if err != nil {
		return nil, err
	}
	res := &listResult{loaded: n, loadTime: took, online: b.o.ListOnline}
	starts := []int{1}
	if n > 100 {
		starts = append(starts, n-99)
	}
	for _, start := range starts {
		path := "/Users?startIndex=" + strconv.Itoa(start) + "&count=100"
		want := min(100, n-start+1)
		get := func(ctx context.Context, _, _ int) error { return b.listPage(ctx, path, n, want) }
		if err := retry(ctx, 10, func() error { return get(ctx, 0, 0) }); err != nil {
			return nil, err
		}
		f, err := b.measure(ctx, b.o.ListReps, 1, b.bridge, get)
		if err != nil {
			return nil, fmt.Errorf("GET %s: %w", path, err)
		}
		fmt.Fprintf(b.log, "list GET %s: p50 %.0f ms, bridge CPU %.0f ms, slapd CPU %.0f ms\n",
			path, ms(f.P50), f.ServerCPU/1000, f.SlapdCPU/1000)
		res.rows = append(res.rows, listRow{path: "GET " + path, Figures: f})
	}
	return res, nil
}

// retry calls f up to n times, 200 ms apart, until it succeeds: after a bulk
// load the bridge's pooled connections to the old slapd process are stale,
// and a read is retried only once.
func retry(ctx context.Context, n int, f func() error) error {
	var err error
	for range n {
		if err = f(); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}

// bulkLoad adds n users as an admin bulk-loads a directory: slapd is
// stopped, slapadd -q loads an LDIF of the entries the direct side's create
// would add, and slapd starts again on the same port, data and password
// (the bridge keeps running and reconnects). Online adds are much slower
// here, see docs/performance.md; -list-online measures them.
func (b *bench) bulkLoad(ctx context.Context, n int) (time.Duration, error) {
	ldif := filepath.Join(filepath.Dir(b.slapdDir), "list.ldif")
	if err := writeUsersLDIF(ldif, b.people, n); err != nil {
		return 0, err
	}
	start := time.Now()
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.conns = nil
	if err := b.slapd.BulkLoad(ctx, ldif); err != nil {
		return 0, fmt.Errorf("bulk load of %d users: %w", n, err)
	}
	took := time.Since(start)
	fmt.Fprintf(b.log, "list: %d users loaded with slapadd in %.1f s (slapd now pid %d)\n", n, took.Seconds(), b.slapd.Pid())
	return took, nil
}

// writeUsersLDIF writes the entries of n list users (addRequest's) as LDIF.
func writeUsersLDIF(path, people string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		req := addRequest(people, newUser("list", 0, i))
		ldifLine(w, "dn", req.DN)
		for _, a := range req.Attributes {
			for _, v := range a.Vals {
				ldifLine(w, a.Type, v)
			}
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ldifLine writes "name: value", or "name:: base64" when the value is not
// an RFC 2849 SAFE-STRING (or ends in a space, which readers may strip).
func ldifLine(w *bufio.Writer, name, value string) {
	safe := value == "" || (!strings.ContainsAny(value[:1], " :<") && !strings.HasSuffix(value, " "))
	for i := 0; safe && i < len(value); i++ {
		safe = value[i] < 0x80 && value[i] != 0 && value[i] != '\n' && value[i] != '\r'
	}
	if safe {
		fmt.Fprintf(w, "%s: %s\n", name, value)
	} else {
		fmt.Fprintf(w, "%s:: %s\n", name, base64.StdEncoding.EncodeToString([]byte(value)))
	}
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

// loadUsers adds n users online, as the direct side's create would, over
// the c connections, reporting progress every 10 s (-list-online).
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
