// Package loadbench is the load tool behind `make bench` (cmd/scimbench):
// it runs the built bridge as a process of its own in front of a private
// slapd (internal/slapd, configured as the tests' one), sends it Entra's
// request shapes at a fixed concurrency, makes the same LDAP changes
// directly with go-ldap against the same slapd, and (Options.Floor) sends
// the same requests to the floor, a minimal server on the same libraries
// (floor.go). It reports throughput, latency, CPU per request of each
// process (from /proc), LDAP operations per request (from the bridge's
// metrics) and the bridge's memory. docs/performance.md explains each
// figure.
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
	"slices"
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
	// Floor also runs every phase through the floor (floor.go), a process
	// of its own started from this program's executable, which must call
	// FloorMain when its first argument is FloorServerCommand.
	Floor bool

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
	if o.Floor {
		if b.floor, err = startFloor(ctx, dir, &b.slapd.Server); err != nil {
			return err
		}
		defer func() { err = errors.Join(err, b.floor.stop()) }()
		fmt.Fprintf(o.Progress, "floor pid %d on %s\n", b.floor.pid(), b.floor.scimURL)
	}
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

// bench is one measurement setup: the processes and the clients.
type bench struct {
	o        Options
	slapd    *slapd.Slapd
	slapdDir string
	bridge   *serverProc
	floor    *serverProc // nil unless Options.Floor
	scim     *scimClient
	floorAPI *scimClient  // the same requests, to the floor
	ops      *http.Client // for /metrics
	conns    []*ldap.Conn // the direct side's, one per client
	people   string
	log      io.Writer
}

// connect opens the clients: HTTP to the bridge (and the floor), c LDAP
// connections to slapd for the direct side.
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
	if b.floor != nil {
		b.floorAPI = &scimClient{
			http: &http.Client{Timeout: time.Minute, Transport: loopback(b.o.C)}, base: b.floor.scimURL, token: b.floor.token,
		}
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
	for _, s := range []*scimClient{b.scim, b.floorAPI} {
		if s != nil {
			s.http.CloseIdleConnections()
		}
	}
}

// measureAll is the whole benchmark: a probe, o.Runs runs, the list figures.
func (b *bench) measureAll(ctx context.Context) (*report, error) {
	rep := &report{o: b.o, date: time.Now(), slapdVersion: slapdVersion()}
	var err error
	if rep.addDiff, err = b.probe(ctx, b.scim, "bridge"); err != nil {
		return nil, fmt.Errorf("probe: %w", err)
	}
	if b.floor != nil {
		if rep.floorAddDiff, err = b.probe(ctx, b.floorAPI, "floor"); err != nil {
			return nil, fmt.Errorf("floor probe: %w", err)
		}
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

// probe creates one user through the bridge (or the floor), checks that
// the direct side's add writes what it wrote, warms the server up (its LDAP
// pool fills, c HTTP connections open) and deletes the user again.
func (b *bench) probe(ctx context.Context, api *scimClient, side string) (string, error) {
	u := newUser(side, 0, 0)
	id, err := api.create(ctx, u)
	if err != nil {
		return "", err
	}
	diff, err := checkSameAdd(b.conns[0], userDN(b.people, u.name), addRequest(b.people, u))
	if err != nil {
		return "", err
	}
	_, _, err = runConcurrent(ctx, 4*b.o.C, b.o.C, func(ctx context.Context, _, _ int) error {
		return api.findByUserName(ctx, u.name, 1)
	})
	if err != nil {
		return "", err
	}
	return diff, api.delete(ctx, id)
}

// phases in the order each run goes through them: every user is created,
// found, patched and deleted, so every run starts from an empty ou=people.
var phases = []string{"create", "get", "patch", "delete"}

// runResult is one run's figures by phase; floor is empty without
// Options.Floor.
type runResult struct {
	bridge, direct, floor map[string]Figures
}

// runOnce goes through the phases on each side in turn, the order rotating
// by one side every run (bridge, direct, floor; then direct, floor, bridge;
// ...; without the floor: bridge first in odd runs, direct first in even
// ones): each side sees the same directory sizes, and none always comes
// first.
func (b *bench) runOnce(ctx context.Context, run int) (runResult, error) {
	r := runResult{bridge: map[string]Figures{}, direct: map[string]Figures{}, floor: map[string]Figures{}}
	type side struct {
		cycle func(context.Context, int, map[string]Figures) error
		out   map[string]Figures
	}
	sides := []side{
		{func(ctx context.Context, run int, out map[string]Figures) error {
			return b.httpCycle(ctx, run, "bridge", b.scim, b.bridge, out)
		}, r.bridge},
		{b.directCycle, r.direct},
	}
	if b.floor != nil {
		sides = append(sides, side{func(ctx context.Context, run int, out map[string]Figures) error {
			return b.httpCycle(ctx, run, "floor", b.floorAPI, b.floor, out)
		}, r.floor})
	}
	k := (run - 1) % len(sides)
	for _, s := range slices.Concat(sides[k:], sides[:k]) {
		if err := s.cycle(ctx, run, s.out); err != nil {
			return r, err
		}
	}
	for _, p := range phases {
		br, d := r.bridge[p], r.direct[p]
		line := fmt.Sprintf("run %d %-6s  bridge %6.0f req/s, CPU %5.0f µs, slapd %5.0f µs, %.2f LDAP ops, p50 %.2f ms, p99 %.2f ms | direct %6.0f ops/s, slapd %5.0f µs",
			run, p, br.OpsPerSec, br.ServerCPU, br.SlapdCPU, sum(br.LDAPOps), ms(br.P50), ms(br.P99), d.OpsPerSec, d.SlapdCPU)
		if f, ok := r.floor[p]; ok {
			line += fmt.Sprintf(" | floor %6.0f req/s, CPU %5.0f µs, slapd %5.0f µs", f.OpsPerSec, f.ServerCPU, f.SlapdCPU)
		}
		fmt.Fprintln(b.log, line)
	}
	return r, nil
}

// httpCycle runs the phases Entra's way through api, served by server (the
// bridge or the floor), whose CPU it measures. side names the users.
func (b *bench) httpCycle(ctx context.Context, run int, side string, api *scimClient, server *serverProc, out map[string]Figures) error {
	ids := make([]string, b.o.N)
	u := func(i int) user { return newUser(side, run, i) }
	ops := map[string]func(context.Context, int, int) error{
		"create": func(ctx context.Context, _, i int) error {
			id, err := api.create(ctx, u(i))
			ids[i] = id
			return err
		},
		"get":    func(ctx context.Context, _, i int) error { return api.findByUserName(ctx, u(i).name, 1) },
		"patch":  func(ctx context.Context, _, i int) error { return api.patch(ctx, ids[i], u(i)) },
		"delete": func(ctx context.Context, _, i int) error { return api.delete(ctx, ids[i]) },
	}
	for _, p := range phases {
		f, err := b.measure(ctx, b.o.N, b.o.C, server, ops[p])
		if err != nil {
			return fmt.Errorf("%s %s: %w", side, p, err)
		}
		if server == b.floor {
			// What the floor sends by construction (floor.go); it has no
			// metrics to count them.
			f.LDAPOps = floorOps[p]
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
		f, err := b.measure(ctx, b.o.N, b.o.DirectC, nil, func(_ context.Context, w, i int) error {
			return op(b.conns[w], b.people, u(i))
		})
		if err != nil {
			return fmt.Errorf("direct %s: %w", p, err)
		}
		f.LDAPOps = directOps[p]
		out[p] = f
	}
	return nil
}

// cpuSnap is the CPU time used so far by each process.
type cpuSnap struct{ server, slapd, client time.Duration }

// cpu reads the processes' CPU times; server is nil for the direct side.
func (b *bench) cpu(server *serverProc) (cpuSnap, error) {
	var s cpuSnap
	var errs [3]error
	if server != nil {
		s.server, errs[0] = cpuTime(server.pid())
	}
	s.slapd, errs[1] = cpuTime(b.slapd.Pid())
	s.client, errs[2] = cpuTime(os.Getpid())
	return s, errors.Join(errs[:]...)
}

// measure runs n calls of op at concurrency c and returns the phase's
// figures; server is the process serving them (nil: the direct side, whose
// ServerCPU stays 0). The bridge's metrics are scraped before the first
// CPU reading and after the last, so that serving /metrics is not counted.
func (b *bench) measure(ctx context.Context, n, c int, server *serverProc, op func(context.Context, int, int) error) (Figures, error) {
	scrape := func() (map[string]float64, error) {
		if server == nil || server.opsURL == "" {
			return nil, nil
		}
		return scrapeLDAPOps(ctx, b.ops, server.opsURL+"/metrics")
	}
	ops0, err := scrape()
	if err != nil {
		return Figures{}, err
	}
	cpu0, err := b.cpu(server)
	if err != nil {
		return Figures{}, err
	}
	wall, lat, err := runConcurrent(ctx, n, c, op)
	if err != nil {
		if server != nil {
			err = errors.Join(err, server.exited())
		}
		return Figures{}, err
	}
	cpu1, err := b.cpu(server)
	if err != nil {
		return Figures{}, err
	}
	ops1, err := scrape()
	if err != nil {
		return Figures{}, err
	}
	perReq := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	f := Figures{
		OpsPerSec: float64(n) / wall.Seconds(),
		ServerCPU: perReq(cpu1.server - cpu0.server),
		SlapdCPU:  perReq(cpu1.slapd - cpu0.slapd),
		ClientCPU: perReq(cpu1.client - cpu0.client),
		LDAPOps:   map[string]float64{},
		P50:       percentile(lat, 50),
		P99:       percentile(lat, 99),
	}
	if server != nil {
		if f.RSS, f.Peak, err = memory(server.pid()); err != nil {
			return Figures{}, err
		}
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
