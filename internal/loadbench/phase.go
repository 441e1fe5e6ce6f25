package loadbench

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// runConcurrent calls op for i = 0..n-1 from c workers (worker = 0..c-1),
// each taking the next i as soon as it is free, as Entra's provisioning
// threads do. It returns the wall time and the latency of each call. The
// first error stops the remaining calls and is returned.
func runConcurrent(ctx context.Context, n, c int, op func(ctx context.Context, worker, i int) error) (time.Duration, []time.Duration, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var once sync.Once
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				if err := op(ctx, w, i); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
				lat[i] = time.Since(t)
			}
		}(w)
	}
	wg.Wait()
	wall := time.Since(start)
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return wall, lat, firstErr
}

// percentile is the p-th percentile (0 < p ≤ 100) of d by the nearest-rank
// method: the smallest value with at least p % of the values at or below it.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// median of xs; the mean of the middle two for an even count. NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// Figures are one side's measurements of one phase: per request (bridge) or
// per change (direct LDAP), over the whole phase.
type Figures struct {
	OpsPerSec float64
	// CPU in µs per request, from /proc over the phase divided by n: the
	// HTTP server's (the bridge's or the floor's; 0 for the direct side),
	// slapd's and the load client's own.
	ServerCPU, SlapdCPU, ClientCPU float64
	// LDAPOps is the bridge's LDAP operations per request by operation
	// (its scimbridge_ldap_operations_total); for the direct side, the
	// operations the tool itself sends per change.
	LDAPOps  map[string]float64
	P50, P99 time.Duration
	// RSS is the HTTP server's resident set at the end of the phase, Peak
	// its high-water mark so far, in bytes (0 for the direct side).
	RSS, Peak int64
}

// medianFigures is the field-by-field median of runs: each column of the
// table is the median of that column, not the figures of one median run.
func medianFigures(runs []Figures) Figures {
	pick := func(f func(Figures) float64) float64 {
		xs := make([]float64, len(runs))
		for i, r := range runs {
			xs[i] = f(r)
		}
		return median(xs)
	}
	ops := map[string]float64{}
	for _, r := range runs {
		for op := range r.LDAPOps {
			ops[op] = 0
		}
	}
	for op := range ops {
		ops[op] = pick(func(f Figures) float64 { return f.LDAPOps[op] })
	}
	return Figures{
		OpsPerSec: pick(func(f Figures) float64 { return f.OpsPerSec }),
		ServerCPU: pick(func(f Figures) float64 { return f.ServerCPU }),
		SlapdCPU:  pick(func(f Figures) float64 { return f.SlapdCPU }),
		ClientCPU: pick(func(f Figures) float64 { return f.ClientCPU }),
		LDAPOps:   ops,
		P50:       time.Duration(pick(func(f Figures) float64 { return float64(f.P50) })),
		P99:       time.Duration(pick(func(f Figures) float64 { return float64(f.P99) })),
		RSS:       int64(pick(func(f Figures) float64 { return float64(f.RSS) })),
		Peak:      int64(pick(func(f Figures) float64 { return float64(f.Peak) })),
	}
}
