// Package loadbench is the load tool behind `make bench` (cmd/scimbench):
// it runs the built bridge as a process of its own in front of a private
// slapd (internal/slapd, configured as the tests' one), sends it Entra's
// request shapes at a fixed concurrency, makes the same LDAP changes
// directly with go-ldap against the same slapd, and reports throughput,
// latency, CPU per request of each process (from /proc), LDAP operations
// per request (from the bridge's metrics) and the bridge's memory.
// docs/performance.md explains each figure.
//
// Everything runs on 127.0.0.1 and is stopped when Run returns, also on
// error or when ctx is cancelled. Linux only (/proc).
package loadbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// Options is one benchmark.
type Options struct {
	N int // requests (and direct changes) per phase
	C int // concurrent clients: HTTP connections to the bridge
	// DirectC is the number of LDAP connections on the direct side; 0 means
	// the bridge's ldap.pool_size (4 by default), so that slapd serves the
	// same concurrency on both sides and its CPU per operation compares.
	DirectC int
	Runs    int // each figure in the table is the median of this many runs

	// List, when > 0, loads that many users after the runs and measures a
	// page at each end of GET /Users, ListReps times each.
	List     int
	ListReps int
	// ListOnline loads the list users with LDAP adds on the c connections
	// instead of slapadd (much slower: docs/performance.md).
	ListOnline bool

	Bin      string // a built scimbridge; "" builds ./cmd/scimbridge with Go
	Go       string // the go command, for the build
	LogLevel string // the bridge's log.level; "" keeps the example's (info)
	// Pprof serves the bridge's profiler (server.pprof_listen) on a free
	// loopback port, printed with the progress, to profile it during a run.
	Pprof bool

	Progress io.Writer // a line per phase as it ends; nil: none
}

// bridgePoolSize is ldap.pool_size's default, which the bridge runs with
// here (examples/openldap.yaml does not set it).
const bridgePoolSize = 4

func (o *Options) check() error {
	var errs []error
	if o.N < 1 || o.C < 1 || o.Runs < 1 {
		errs = append(errs, fmt.Errorf("n (%d), c (%d) and runs (%d) must be at least 1", o.N, o.C, o.Runs))
	}
	if o.List < 0 || (o.List > 0 && o.ListReps < 1) {
		errs = append(errs, fmt.Errorf("list (%d) must be 0 (off) or more, with list-reps (%d) at least 1", o.List, o.ListReps))
	}
	if o.DirectC < 0 {
		errs = append(errs, fmt.Errorf("direct-c (%d) must be 0 (the bridge's pool size) or more", o.DirectC))
	}
	if o.DirectC == 0 {
		o.DirectC = bridgePoolSize
	}
	if o.Go == "" {
		o.Go = "go"
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	return errors.Join(errs...)
}

// Run builds and starts everything, measures, stops everything and writes
// the report (markdown) to out.
func Run(ctx context.Context, o Options, out io.Writer) (err error) {
	if err := o.check(); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "scimbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := o.Bin
	if bin == "" {
		fmt.Fprintln(o.Progress, "building ./cmd/scimbridge ...")
		if bin, err = buildBridge(ctx, o.Go, dir); err != nil {
			return err
		}
	}
	// The data directory is the tool's own (removed with dir), so that the
	// list figures can stop slapd, bulk-load it and start it again.
	b := &bench{o: o, log: o.Progress, slapdDir: filepath.Join(dir, "slapd")}
	if err := os.Mkdir(b.slapdDir, 0o700); err != nil {
		return err
	}
	if b.slapd, err = slapd.Start(ctx, slapd.Options{Dir: b.slapdDir}); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.slapd.Stop()) }()
	if b.bridge, err = startBridge(ctx, bin, dir, &b.slapd.Server, o); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, b.bridge.stop()) }()
	fmt.Fprintf(o.Progress, "slapd pid %d on %s, scimbridge pid %d on %s\n", b.slapd.Pid(), b.slapd.URL, b.bridge.pid(), b.bridge.scimURL)
	if b.bridge.pprofURL != "" {
		fmt.Fprintf(o.Progress, "scimbridge profiler: go tool pprof '%s/debug/pprof/profile?seconds=20'\n", b.bridge.pprofURL)
	}
	defer b.close()
	if err := b.connect(); err != nil {
		return err
	}
	rep, err := b.measureAll(ctx)
	if err != nil {
		return err
	}
	rep.write(out)
	return nil
}

// bench is one measurement setup: the two processes and the clients.
type bench struct {
	o        Options
	slapd    *slapd.Slapd
	slapdDir string
	bridge   *bridgeProc
	scim     *scimClient
	ops      *http.Client // for /metrics
	conns    []*ldap.Conn // the direct side's, one per client
	people   string
	log      io.Writer
}

// connect opens the clients: HTTP to the bridge, c LDAP connections to
// slapd for the direct side.
func (b *bench) connect() error {
	b.people = peopleDN(&b.slapd.Server)
	b.ops = &http.Client{Timeout: 10 * time.Second, Transport: loopback(1)}
	b.scim = &scimClient{
		// Two minutes: a list over 100,000 entries is slow, and a hung
		// request must still end the run.
		http:  &http.Client{Timeout: 2 * time.Minute, Transport: loopback(b.o.C)},
		base:  b.bridge.scimURL,
		token: b.bridge.token,
	}
	for range b.o.DirectC {
		c, err := b.slapd.Dial()
		if err != nil {
			return fmt.Errorf("direct LDAP connection: %w", err)
		}
		c.SetTimeout(time.Minute)
		b.conns = append(b.conns, c)
	}
	return nil
}

// loopback is an HTTP transport for the bridge on 127.0.0.1 that keeps up
// to conns connections open (Entra reuses its connections too) and never
// goes through an HTTP proxy named in the environment.
func loopback(conns int) *http.Transport {
	return &http.Transport{Proxy: nil, MaxIdleConnsPerHost: conns}
}

func (b *bench) close() {
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.conns = nil
	if b.scim != nil {
		b.scim.http.CloseIdleConnections()
	}
}

// measureAll is the whole benchmark: a probe, o.Runs runs, the list figures.
func (b *bench) measureAll(ctx context.Context) (*report, error) {
	rep := &report{o: b.o, date: time.Now(), slapdVersion: slapdVersion()}
	var err error
	if rep.addDiff, err = b.probe(ctx); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	for run := 1; run <= b.o.Runs; run++ {
		r, err := b.runOnce(ctx, run)
		if err != nil {
			return nil, fmt.Errorf("run %d: %w", run, err)
		}
		rep.runs = append(rep.runs, r)
	}
	if b.o.List > 0 {
		if rep.list, err = b.listFigures(ctx); err != nil {
			return nil, fmt.Errorf("list: %w", err)
		}
	}
	return rep, nil
}

// probe creates one user through the bridge, checks that the direct side's
// add writes what the bridge wrote, warms the bridge up (its LDAP pool
// fills, c HTTP connections open) and deletes the user again.
func (b *bench) probe(ctx context.Context) (string, error) {
	u := newUser("bridge", 0, 0)
	id, err := b.scim.create(ctx, u)
	if err != nil {
		return "", err
	}
	diff, err := checkSameAdd(b.conns[0], userDN(b.people, u.name), addRequest(b.people, u))
	if err != nil {
		return "", err
	}
	_, _, err = runConcurrent(ctx, 4*b.o.C, b.o.C, func(ctx context.Context, _, _ int) error {
		return b.scim.findByUserName(ctx, u.name, 1)
	})
	if err != nil {
		return "", err
	}
	return diff, b.scim.delete(ctx, id)
}

// phases in the order each run goes through them: every user is created,
// found, patched and deleted, so every run starts from an empty ou=people.
var phases = []string{"create", "get", "patch", "delete"}

// runResult is one run's figures by phase.
type runResult struct {
	bridge, direct map[string]Figures
}

// runOnce goes through the phases through the bridge, then directly (odd
// runs) or the other way round (even runs): each side sees the same
// directory sizes, and neither always comes first.
func (b *bench) runOnce(ctx context.Context, run int) (runResult, error) {
	r := runResult{bridge: map[string]Figures{}, direct: map[string]Figures{}}
	type side struct {
		cycle func(context.Context, int, map[string]Figures) error
		out   map[string]Figures
	}
	order := []side{{b.bridgeCycle, r.bridge}, {b.directCycle, r.direct}}
	if run%2 == 0 {
		order[0], order[1] = order[1], order[0]
	}
	for _, s := range order {
		if err := s.cycle(ctx, run, s.out); err != nil {
			return r, err
		}
	}
	for _, p := range phases {
		br, d := r.bridge[p], r.direct[p]
		fmt.Fprintf(b.log, "run %d %-6s  bridge %6.0f req/s, CPU %5.0f µs, slapd %5.0f µs, %.2f LDAP ops, p50 %.2f ms, p99 %.2f ms | direct %6.0f ops/s, slapd %5.0f µs\n",
			run, p, br.OpsPerSec, br.BridgeCPU, br.SlapdCPU, sum(br.LDAPOps), ms(br.P50), ms(br.P99), d.OpsPerSec, d.SlapdCPU)
	}
	return r, nil
}

// bridgeCycle runs the phases through the bridge, Entra's way.
func (b *bench) bridgeCycle(ctx context.Context, run int, out map[string]Figures) error {
	ids := make([]string, b.o.N)
	u := func(i int) user { return newUser("bridge", run, i) }
	ops := map[string]func(context.Context, int, int) error{
		"create": func(ctx context.Context, _, i int) error {
			id, err := b.scim.create(ctx, u(i))
			ids[i] = id
			return err
		},
		"get":    func(ctx context.Context, _, i int) error { return b.scim.findByUserName(ctx, u(i).name, 1) },
		"patch":  func(ctx context.Context, _, i int) error { return b.scim.patch(ctx, ids[i], u(i)) },
		"delete": func(ctx context.Context, _, i int) error { return b.scim.delete(ctx, ids[i]) },
	}
	for _, p := range phases {
		f, err := b.measure(ctx, b.o.N, b.o.C, ops[p])
		if err != nil {
			return fmt.Errorf("bridge %s: %w", p, err)
		}
		out[p] = f
	}
	return nil
}

// directCycle makes the same changes with go-ldap, one connection per client.
func (b *bench) directCycle(ctx context.Context, run int, out map[string]Figures) error {
	u := func(i int) user { return newUser("direct", run, i) }
	ops := map[string]func(*ldap.Conn, string, user) error{
		"create": directCreate, "get": directGet, "patch": directPatch, "delete": directDelete,
	}
	for _, p := range phases {
		op := ops[p]
		f, err := b.measure(ctx, b.o.N, b.o.DirectC, func(_ context.Context, w, i int) error {
			return op(b.conns[w], b.people, u(i))
		})
		if err != nil {
			return fmt.Errorf("direct %s: %w", p, err)
		}
		f.BridgeCPU, f.LDAPOps = 0, directOps[p]
		out[p] = f
	}
	return nil
}

// cpuSnap is the CPU time used so far by each process.
type cpuSnap struct{ bridge, slapd, client time.Duration }

func (b *bench) cpu() (cpuSnap, error) {
	var s cpuSnap
	var errs [3]error
	s.bridge, errs[0] = cpuTime(b.bridge.pid())
	s.slapd, errs[1] = cpuTime(b.slapd.Pid())
	s.client, errs[2] = cpuTime(os.Getpid())
	return s, errors.Join(errs[:]...)
}

// measure runs n calls of op at concurrency c and returns the phase's
// figures. The metrics are scraped before the first CPU reading and after
// the last, so that serving /metrics is not counted.
func (b *bench) measure(ctx context.Context, n, c int, op func(context.Context, int, int) error) (Figures, error) {
	metrics := b.bridge.opsURL + "/metrics"
	ops0, err := scrapeLDAPOps(ctx, b.ops, metrics)
	if err != nil {
		return Figures{}, err
	}
	cpu0, err := b.cpu()
	if err != nil {
		return Figures{}, err
	}
	wall, lat, err := runConcurrent(ctx, n, c, op)
	if err != nil {
		return Figures{}, errors.Join(err, b.bridge.exited())
	}
	cpu1, err := b.cpu()
	if err != nil {
		return Figures{}, err
	}
	ops1, err := scrapeLDAPOps(ctx, b.ops, metrics)
	if err != nil {
		return Figures{}, err
	}
	rss, peak, err := memory(b.bridge.pid())
	if err != nil {
		return Figures{}, err
	}
	perReq := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	f := Figures{
		OpsPerSec: float64(n) / wall.Seconds(),
		BridgeCPU: perReq(cpu1.bridge - cpu0.bridge),
		SlapdCPU:  perReq(cpu1.slapd - cpu0.slapd),
		ClientCPU: perReq(cpu1.client - cpu0.client),
		LDAPOps:   map[string]float64{},
		P50:       percentile(lat, 50),
		P99:       percentile(lat, 99),
		RSS:       rss,
		Peak:      peak,
	}
	for k, v := range ops1 {
		if d := v - ops0[k]; d > 0 {
			f.LDAPOps[k] = d / float64(n)
		}
	}
	return f, nil
}

func sum(m map[string]float64) float64 {
	t := 0.0
	for _, v := range m {
		t += v
	}
	return t
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
