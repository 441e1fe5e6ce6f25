package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// ldap.url then ldap.failover_urls is a priority order. Every bridge uses the
// first healthy server, and all bridges with the same list must write to the
// same one: two bridges writing to two replicating providers lose
// acknowledged writes (docs/high-availability.md). So the pool
//
//   - fails over when the server in use cannot be reached (a dial fails, or
//     the background probe finds it gone, also when the bridge was idle);
//   - fails back to a higher-priority server only after it has answered every
//     probe for ldap.failover.hold and, on OpenLDAP with server_ids, holds
//     every change the server in use has (contextCSN);
//   - never lets one request's operations straddle a switch (pin), and
//     closes every connection to the old server as it comes back.
//
// Bridges do not talk to each other: the same list, the same probes and the
// same rules bring them to the same server.

// failoverState is the pool's view of its servers; guarded by Pool.mu.
type failoverState struct {
	active int    // index of the server in use
	gen    uint64 // bumped by every switch: connections and pins of another generation are stale
	// notFoundUntil ends the window after a failover in which "not found"
	// answers 503 (ldap.failover.not_found_window).
	notFoundUntil time.Time
	switches      uint64
	servers       []serverState
	// watching is closed to stop the prober; nil until it started.
	watching chan struct{}
	// start chooses the server the pool starts on (chooseStart), once,
	// before its first connection.
	start sync.Once
	// hold, every and window are ldap.failover.hold, probe_interval and
	// not_found_window.
	hold, every, window time.Duration
}

// serverState is what the probes saw of one server.
type serverState struct {
	up bool
	// upSince is when the server began answering every probe (zero while
	// down): fail-back waits for ldap.failover.hold from it.
	upSince time.Time
	probes  uint64
	failed  uint64
	// csn is the server's contextCSN per serverID at its last probe.
	csn map[int]string
	// lag is how far the server is behind the one in use (contextCSN), and
	// lagKnown whether that could be read.
	lag      time.Duration
	lagKnown bool
	caughtUp bool
}

func (f *failoverState) init(n int, cfg config.FailoverConfig) {
	f.servers = make([]serverState, n)
	f.hold, f.every, f.window = cfg.Hold, cfg.ProbeInterval, cfg.NotFoundWindow
}

// failBackNear tells whether another bridge may have failed back to a
// higher-priority server already: it has answered every probe for the hold
// time less one probe interval (bridges probe at their own times), and not
// yet for the hold time and the not-found window. The other bridges' writes
// there may not have reached this server yet. Whether it has caught up is
// not asked: under load it trails by milliseconds at one probe and not at
// the next, and another bridge may have read it at the right moment.
func (f *failoverState) failBackNear(now time.Time) bool {
	for k := range f.active {
		s := f.servers[k]
		if up := now.Sub(s.upSince); s.up && up >= f.hold-f.every && up < f.hold+f.window {
			return true
		}
	}
	return false
}

// pin ties the LDAP operations of one request to the server its first
// operation ran on.
type pin struct {
	pinned bool
	server int
	gen    uint64
	// window: the request started within not_found_window of a switch.
	window bool
}

type pinKey struct{}

// PinRequest returns ctx carrying a pin, unless it has one already (a use
// case that calls another keeps the caller's): the LDAP operations run with
// it stay on one server. Every use case pins its request.
func PinRequest(ctx context.Context) context.Context {
	if pinOf(ctx) != nil {
		return ctx
	}
	return context.WithValue(ctx, pinKey{}, &pin{})
}

func pinOf(ctx context.Context) *pin {
	pn, _ := ctx.Value(pinKey{}).(*pin)
	return pn
}

// check refuses a pinned request once the pool has switched servers; Pool.mu
// is held.
func (pn *pin) check(f *failoverState) error {
	if pn == nil || !pn.pinned || pn.gen == f.gen {
		return nil
	}
	return switchedError()
}

// set pins an unpinned request to the server in use; Pool.mu is held.
func (pn *pin) set(f *failoverState) {
	if pn == nil || pn.pinned {
		return
	}
	pn.pinned, pn.server, pn.gen = true, f.active, f.gen
	now := time.Now()
	pn.window = now.Before(f.notFoundUntil) || f.failBackNear(now)
}

func switchedError() error {
	return &poolError{kind: ErrDown, msg: "the directory server this request started on was left for another (failover)"}
}

// inFailoverWindow tells whether the request in ctx started within
// ldap.failover.not_found_window of a switch, or when a fail-back is near
// (failBackNear): an entry it did not find may be among another server's
// last writes, not yet replicated.
func inFailoverWindow(ctx context.Context) bool {
	pn := pinOf(ctx)
	return pn != nil && pn.window
}

// missingSinceSwitch is the answer for something not found (what) by a
// request in the window after a switch (inFailoverWindow), nil outside it:
// a 503 that Entra retries, where a 404 would drop its record of the
// resource and a 400 its write. The one place that words it; cause, when
// set, is the not-found it replaces.
func missingSinceSwitch(ctx context.Context, what string, cause error) error {
	if !inFailoverWindow(ctx) {
		return nil
	}
	return scimerr.Wrap(scimerr.Unavailable, cause, "%s on the directory server in use since a recent failover; "+
		"the other server's last changes may not have arrived yet, retry later", what)
}

// emptyAfterFailover is missingSinceSwitch for a filtered list: a query that
// finds nothing is Entra's lookup before a create, and a create made now
// could collide with the same entry in the failed server's unreplicated
// tail. nil when the list found something or had no filter.
func emptyAfterFailover(ctx context.Context, filtered bool, total int) error {
	if total > 0 || !filtered {
		return nil
	}
	return missingSinceSwitch(ctx, "nothing matches", nil)
}

// failover is called when server failed (the one in use at generation gen)
// could not be dialed: it switches to the first other server, in the
// configured order, that can be, and returns a connection to it. Concurrent
// callers do not each pick a server: whoever comes second finds the switch
// made and dials the new server.
func (p *Pool) failover(ctx context.Context, failed int, gen uint64, cause error) (*conn, error) {
	p.switchMu.Lock()
	defer p.switchMu.Unlock()
	p.mu.Lock()
	if p.fo.gen != gen {
		k, g := p.fo.active, p.fo.gen
		p.mu.Unlock()
		lc, err := p.dialOne(ctx, p.urls[k], p.tls[k])
		if err != nil {
			return nil, errors.Join(cause, err)
		}
		return &conn{Conn: lc, server: k, gen: g}, nil
	}
	p.fo.servers[failed].up, p.fo.servers[failed].upSince = false, time.Time{}
	p.mu.Unlock()
	errs := []error{cause}
	for k := range p.urls {
		if k == failed {
			continue
		}
		lc, err := p.dialOne(ctx, p.urls[k], p.tls[k])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		p.mu.Lock()
		g := p.switchTo(k, true, "cannot be reached: "+cause.Error())
		p.mu.Unlock()
		return &conn{Conn: lc, server: k, gen: g}, nil
	}
	return nil, errors.Join(errs...)
}

// switchTo makes server k the one in use; Pool.mu is held. Idle connections
// to the old server are closed now, lent ones when they come back (release
// compares generations), and pinned requests get 503 from their next
// operation. Every switch opens the window in which "not found" answers 503:
// after a failover the failed server's tail is missing; after a fail-back,
// what other bridges, still on the server left, wrote in the moment before
// they move too (bridges switch within about one probe interval of each
// other) may not have arrived yet.
func (p *Pool) switchTo(k int, failover bool, why string) uint64 {
	from := p.fo.active
	p.fo.active = k
	p.fo.gen++
	p.fo.switches++
	for _, c := range p.idle {
		_ = c.Close()
	}
	p.idle = nil
	p.backoff, p.retryAt = 0, time.Time{}
	p.fo.notFoundUntil = time.Now().Add(p.cfg.Failover.NotFoundWindow)
	kind := "fail-back"
	if failover {
		kind = "failover"
	}
	p.log.Warn().Str("from", p.urls[from]).Str("to", p.urls[k]).Str("kind", kind).Str("why", why).
		Msg("ldap: switched directory server")
	return p.fo.gen
}

// chooseStart picks the server a new pool starts on. The first server of
// the list is not always right: while the other bridges are still on a
// standby, waiting for the first server's hold time to pass, a bridge that
// starts (or reloads) and writes to the first server would split the
// writers. So, with ldap.failover.server_ids, every server is asked for the
// time of the newest change made on it (its own serverID's contextCSN),
// and a server written to within ldap.failover.hold, more recently than any
// other, is where the bridges are: the pool starts there, and fails back
// with the others. Otherwise it starts on the first server.
func (p *Pool) chooseStart(ctx context.Context) {
	ids := p.cfg.Failover.ServerIDs
	if len(p.urls) < 2 || len(ids) != len(p.urls) {
		return
	}
	newest := make([]time.Time, len(p.urls))
	var wg sync.WaitGroup
	for k := range p.urls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := p.dialOne(ctx, p.urls[k], p.tls[k])
			if err != nil {
				return
			}
			defer c.Close()
			if csn, err := readContextCSN(c); err == nil {
				newest[k], _ = csnTime(csn[ids[k]])
			}
		}()
	}
	wg.Wait()
	best := 0
	for k, t := range newest {
		if t.After(newest[best]) {
			best = k
		}
	}
	if best == 0 || time.Since(newest[best]) > p.cfg.Failover.Hold {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fo.gen == 0 {
		p.fo.active = best
		p.log.Warn().Str("url", p.urls[best]).Time("last_write", newest[best]).
			Msg("ldap: starting on this server, written to more recently than those before it: the other bridges are there")
	}
}

// TakeOver gives a pool that replaces old (a configuration reload) old's
// server in use and what its probes saw, when both have the same servers
// in the same order: the new pool goes on where the old one was, hold time
// and not-found window included, instead of starting over.
func (p *Pool) TakeOver(old *Pool) {
	if old == nil || !slices.Equal(old.urls, p.urls) {
		return
	}
	old.mu.Lock()
	active, until := old.fo.active, old.fo.notFoundUntil
	servers := slices.Clone(old.fo.servers)
	old.mu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fo.active, p.fo.notFoundUntil, p.fo.servers = active, until, servers
	p.fo.start.Do(func() {})
}

// startWatching starts the background prober once, when the pool first
// dials (a pool that is only validated never probes); Pool.mu is held. A
// single server is probed too: an idle bridge's directory outage then shows
// in scimbridge_ldap_server_up before a request fails.
func (p *Pool) startWatching() {
	if p.fo.watching != nil || p.closed {
		return
	}
	p.fo.watching = make(chan struct{})
	go p.watch(p.fo.watching)
}

// stopWatching stops the prober; Pool.mu is held, so it only signals.
func (p *Pool) stopWatching() {
	if p.fo.watching != nil {
		close(p.fo.watching)
	}
}

// watch probes every server each ldap.failover.probe_interval, the one in
// use first, and acts on what it saw.
func (p *Pool) watch(stop chan struct{}) {
	probes := make([]*ldap.Conn, len(p.urls))
	defer func() {
		for _, c := range probes {
			if c != nil {
				_ = c.Close()
			}
		}
	}()
	every := p.cfg.Failover.ProbeInterval
	if every <= 0 {
		every = 5 * time.Second // a config built without config.Load's defaults
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		p.probeRound(probes)
	}
}

// probeRound probes the server in use, then the others in order (reading
// the one in use first is what lets a candidate's contextCSN be compared:
// the other order never converges under load), and then fails over or back.
func (p *Pool) probeRound(probes []*ldap.Conn) {
	p.mu.Lock()
	active, gen := p.fo.active, p.fo.gen
	p.mu.Unlock()
	seen := make([]probeResult, len(p.urls))
	seen[active] = p.probe(probes, active)
	for k := range p.urls {
		if k != active {
			seen[k] = p.probe(probes, k)
		}
	}
	now := time.Now()
	p.switchMu.Lock()
	defer p.switchMu.Unlock()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.fo.gen != gen {
		return // a request switched meanwhile; the next round looks again
	}
	wasUp := p.fo.servers[active].up || p.fo.servers[active].probes == 0
	p.record(seen, active, now)
	if err := seen[active].err; err != nil {
		if wasUp {
			// Once per outage, not every probe interval while it lasts.
			p.log.Warn().Err(err).Str("url", p.urls[active]).Msg("ldap: the directory server in use failed its probe")
		}
		for k := range p.urls {
			if k != active && seen[k].err == nil {
				p.switchTo(k, true, "failed its probe: "+err.Error())
				return
			}
		}
		return
	}
	for k := range active {
		s := p.fo.servers[k]
		if s.up && now.Sub(s.upSince) >= p.cfg.Failover.Hold && s.caughtUp {
			p.switchTo(k, false, fmt.Sprintf("answered every probe for %s and has caught up", now.Sub(s.upSince).Round(time.Second)))
			return
		}
	}
}

// record books a round's probes into the servers' state; Pool.mu is held.
func (p *Pool) record(seen []probeResult, active int, now time.Time) {
	ids := p.cfg.Failover.ServerIDs
	for k, r := range seen {
		s := &p.fo.servers[k]
		s.probes++
		if r.err != nil {
			s.failed++
			*s = serverState{probes: s.probes, failed: s.failed}
			continue
		}
		if !s.up {
			s.up, s.upSince = true, now
		}
		s.csn = r.csn
		own := 0
		if len(ids) == len(p.urls) {
			own = ids[k]
		}
		s.lag, s.lagKnown, s.caughtUp = behind(seen[active].csn, r.csn, own)
		if len(ids) != len(p.urls) {
			s.caughtUp = true // no serverIDs (or AD): the hold time alone decides
		}
	}
}

type probeResult struct {
	csn map[int]string
	err error
}

// probe reads server k's naming contexts' contextCSN on its probe
// connection. The connection stays open between rounds, so a server that
// restarted between two probes shows as a broken connection: an outage,
// even if it answers again by now (busy bridges saw it fail and moved).
func (p *Pool) probe(probes []*ldap.Conn, k int) probeResult {
	limit := p.cfg.Timeout
	if limit <= 0 {
		limit = 10 * time.Second // a config built without config.Load's defaults
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	if probes[k] == nil {
		c, err := p.dialOne(ctx, p.urls[k], p.tls[k])
		if err != nil {
			return probeResult{err: err}
		}
		c.SetTimeout(p.cfg.Timeout)
		probes[k] = c
	}
	csn, err := readContextCSN(probes[k])
	if err != nil {
		_ = probes[k].Close()
		probes[k] = nil
		return probeResult{err: fmt.Errorf("probe %s: %w", p.urls[k], err)}
	}
	return probeResult{csn: csn}
}

// readContextCSN returns the contextCSN values of the server's naming
// contexts, newest per serverID. A directory without them (AD) answers an
// empty map: the read still proves the server answers.
func readContextCSN(c *ldap.Conn) (map[int]string, error) {
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"namingContexts"}, nil))
	if err != nil {
		return nil, err
	}
	csn := map[int]string{}
	if len(res.Entries) == 0 {
		return csn, nil
	}
	for _, nc := range res.Entries[0].GetEqualFoldAttributeValues("namingContexts") {
		r, err := c.Search(ldap.NewSearchRequest(nc, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
			"(objectClass=*)", []string{"contextCSN"}, nil))
		if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) || ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range r.Entries {
			for _, v := range e.GetEqualFoldAttributeValues("contextCSN") {
				sid, ok := csnServerID(v)
				if ok && v > csn[sid] {
					csn[sid] = v
				}
			}
		}
	}
	return csn, nil
}

// csnServerID is the serverID field of a CSN,
// YYYYmmddHHMMSS.uuuuuuZ#count#sid#mod, written in hex.
func csnServerID(csn string) (int, bool) {
	parts := strings.Split(csn, "#")
	if len(parts) != 4 {
		return 0, false
	}
	sid, err := strconv.ParseInt(parts[2], 16, 32)
	return int(sid), err == nil
}

// csnTime is the time in a CSN.
func csnTime(csn string) (time.Time, bool) {
	ts, _, _ := strings.Cut(csn, "#")
	t, err := time.Parse("20060102150405.000000Z", ts)
	return t, err == nil
}

// behind compares a candidate's contextCSN values (cand) with those of the
// server in use (active), read before them. The candidate has caught up when
// it has, for every serverID but its own (own, 0 if unknown), a change at
// least as new as the server in use has: after a crash a provider's own
// contextCSN lags the copy its peer holds, by seconds, although it has all of
// its own changes. lag is how far the most behind serverID trails.
func behind(active, cand map[int]string, own int) (lag time.Duration, known, caughtUp bool) {
	if active == nil || cand == nil {
		return 0, false, false
	}
	caughtUp = true
	for sid, a := range active {
		if sid == own {
			continue
		}
		c := cand[sid]
		if c >= a {
			continue
		}
		caughtUp = false
		ta, ok1 := csnTime(a)
		tc, ok2 := csnTime(c)
		switch {
		case ok1 && ok2:
			lag = max(lag, ta.Sub(tc))
		case ok1:
			lag = max(lag, time.Since(ta)) // nothing from that server yet
		}
	}
	return lag, len(active) > 0, caughtUp
}

// ServerStatus is what the pool knows of one directory server, for metrics.
type ServerStatus struct {
	URL   string
	InUse bool
	// Up: the last probe succeeded (false before the first probe).
	Up            bool
	Probes        uint64
	ProbeFailures uint64
	// Lag is how far the server's contextCSN trails the server in use;
	// LagKnown is false when it could not be compared (AD, or not probed).
	Lag      time.Duration
	LagKnown bool
}

// Servers reports every configured server, in the configured order.
func (p *Pool) Servers() []ServerStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]ServerStatus, len(p.urls))
	for k, u := range p.urls {
		s := p.fo.servers[k]
		out[k] = ServerStatus{
			URL: u, InUse: k == p.fo.active, Up: s.up, Probes: s.probes, ProbeFailures: s.failed,
			Lag: s.lag, LagKnown: s.lagKnown && k != p.fo.active,
		}
	}
	return out
}

// Switches counts the pool's switches between servers (failovers and
// fail-backs).
func (p *Pool) Switches() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fo.switches
}
