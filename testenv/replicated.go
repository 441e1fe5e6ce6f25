package testenv

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// Pair is two private slapds that replicate to each other with delta-syncrepl (OpenLDAP
// multi-provider), for high-availability tests: a bridge fails over from one to the other, a
// provider is killed and comes back. Each is configured like every other test slapd (same
// overlays, schema, indexes and base entries, same root DN and password), so a bridge set up
// for OpenLDAP works against either; the replication settings are internal/slapd's Replica
// (docs/directory-lab.md, "Two OpenLDAP providers", has the measurements behind them).
//
// Provider i (0 or 1) has serverID i+1. Both start with the same entries, entryUUIDs and
// contextCSN: provider 2 is seeded with a slapcat of provider 1. The base entries' CSNs carry
// serverID 0 (slapadd writes them), so ContextCSN also reports a value for 0.
//
// Replication is asynchronous: a write acknowledged by one provider is on the other some
// milliseconds later, or once both are up again. Wait for it (WaitConverged) before comparing.
// Provider 0 starts before its peer listens, so for up to a second after the start (its
// consumer's first retry) writes on provider 1 reach provider 0 only then.
//
// Kill and Start are the crash under test. A provider's own Restart works too, but its clean
// shutdown takes 3 s (the consumer waits out its timeout); BulkLoad and WithoutOverlay would
// change one provider behind replication's back and must not be used on a Pair.
type Pair struct {
	p [2]*Slapd
}

// StartProviderPair starts a Pair (slapd.StartPair). Stop it with Stop.
func StartProviderPair(ctx context.Context, opts SlapdOptions) (*Pair, error) {
	p, err := slapd.StartPair(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &Pair{p: p}, nil
}

// ProviderPair starts a Pair of the test's own, stopped when the test ends, with slapd's
// output (its replication log) in the test's log. Without slapd the test is skipped, or fails
// under CI=true; a slapd that is installed but cannot run the pair fails the test.
func ProviderPair(t testing.TB) *Pair {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := StartProviderPair(ctx, SlapdOptions{Logf: t.Logf})
	if err != nil {
		if errors.Is(err, ErrSlapdNotFound) && !CIRequiresServer() {
			t.Skipf("no slapd (would fail under CI=true): %v", err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Stop(); err != nil {
			t.Error(err)
		}
	})
	return p
}

// Providers are the two servers, provider 0 (serverID 1) first.
func (p *Pair) Providers() [2]*Slapd { return p.p }

// Provider is provider i (0 or 1).
func (p *Pair) Provider(i int) *Slapd { return p.p[i] }

// URL is provider i's LDAP URL, e.g. for a bridge's ldap.url or its failover list.
func (p *Pair) URL(i int) string { return p.p[i].URL }

// ServerID is provider i's serverID, the sid field of the CSNs of the writes it accepts.
func (p *Pair) ServerID(i int) int { return p.p[i].Replica().ServerID }

// Kill ends provider i with SIGKILL, without a clean shutdown, as a crash would: that is the
// case HA must survive. Its data and port are kept for Start.
func (p *Pair) Kill(i int) error { return p.p[i].Kill() }

// Start brings a killed provider i back on the same port with the same data and returns once it
// answers LDAP; it then catches up with its peer by itself (the peers retry every second).
func (p *Pair) Start(ctx context.Context, i int) error { return p.p[i].Start(ctx) }

// Stop ends both providers for good and removes their data. They are killed rather than shut
// down: the data goes anyway, and a clean shutdown of the first one takes 3 s, its replication
// consumer waiting out its timeout ("slapd shutdown: waiting for 1 operations/tasks to finish").
func (p *Pair) Stop() error {
	return errors.Join(p.p[0].Kill(), p.p[1].Kill(), p.p[0].Stop(), p.p[1].Stop())
}

// ContextCSN reads the contextCSN values of provider i's suffix entry, keyed by serverID: the
// latest change from each server that provider i has applied.
func (p *Pair) ContextCSN(ctx context.Context, i int) (map[int]string, error) {
	res, err := p.search(ctx, i, ldap.ScopeBaseObject, []string{"contextCSN"})
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("provider %d: %d suffix entries", i, len(res))
	}
	out := map[int]string{}
	for _, v := range res[0].GetAttributeValues("contextCSN") {
		csn, err := ParseCSN(v)
		if err != nil {
			return nil, fmt.Errorf("provider %d: %w", i, err)
		}
		if old, dup := out[csn.SID]; dup {
			return nil, fmt.Errorf("provider %d: two contextCSN values for serverID %d: %s and %s", i, csn.SID, old, v)
		}
		out[csn.SID] = v
	}
	return out, nil
}

// WaitConverged waits until both providers show the same contextCSN values: each has applied
// the other's latest change. That says nothing about entries written by neither (compare
// Entries for that), and a provider that is down never converges.
func (p *Pair) WaitConverged(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for {
		a, errA := p.ContextCSN(ctx, 0)
		b, errB := p.ContextCSN(ctx, 1)
		if errA == nil && errB == nil && len(a) > 0 && maps.Equal(a, b) {
			return nil
		}
		select {
		case <-ctx.Done():
			if err := errors.Join(errA, errB); err != nil {
				return fmt.Errorf("providers not converged after %v: %w", timeout, err)
			}
			return fmt.Errorf("providers not converged after %v: contextCSN %v on %s, %v on %s",
				timeout, a, p.URL(0), b, p.URL(1))
		case <-tick.C:
		}
	}
}

// EntryAttrs are the attributes Entries reads by default: all user attributes and the
// operational ones the bridge relies on (its SCIM id, group membership, the disable lock),
// which must agree on both providers. entryCSN, modifyTimestamp and the like are left out:
// overlays (memberof, ppolicy) stamp them on each provider on their own.
var EntryAttrs = []string{"*", "entryUUID", "memberOf", "pwdAccountLockedTime"}

// Entries reads every entry under provider i's suffix, keyed by lower-cased DN, each as
// attribute (lower-cased) → sorted values, for comparing the two providers (DiffEntries).
// attrs defaults to EntryAttrs. The suffix entry's contextCSN is never included: it differs
// while replication is in flight and WaitConverged is the way to compare it.
func (p *Pair) Entries(ctx context.Context, i int, attrs ...string) (map[string]map[string][]string, error) {
	if len(attrs) == 0 {
		attrs = EntryAttrs
	}
	res, err := p.search(ctx, i, ldap.ScopeWholeSubtree, attrs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string][]string, len(res))
	for _, e := range res {
		m := map[string][]string{}
		for _, a := range e.Attributes {
			name := strings.ToLower(a.Name)
			if name == "contextcsn" {
				continue
			}
			m[name] = slices.Sorted(slices.Values(a.Values))
		}
		out[strings.ToLower(e.DN)] = m
	}
	return out, nil
}

// DiffEntries lists how two Entries results differ, one line per DN or attribute, sorted; nil
// when they agree.
func DiffEntries(a, b map[string]map[string][]string) []string {
	var diff []string
	for _, dn := range slices.Sorted(maps.Keys(a)) {
		ea, eb := a[dn], b[dn]
		if eb == nil {
			diff = append(diff, "only in the first: "+dn)
			continue
		}
		names := slices.Sorted(maps.Keys(ea))
		for n := range eb {
			if _, ok := ea[n]; !ok {
				names = append(names, n)
			}
		}
		for _, n := range names {
			if !slices.Equal(ea[n], eb[n]) {
				diff = append(diff, fmt.Sprintf("%s: %s: %q vs %q", dn, n, ea[n], eb[n]))
			}
		}
	}
	for _, dn := range slices.Sorted(maps.Keys(b)) {
		if a[dn] == nil {
			diff = append(diff, "only in the second: "+dn)
		}
	}
	sort.Strings(diff)
	return diff
}

// search reads under provider i's suffix as the admin, bounded by ctx's deadline (5 s without
// one), because a killed or paused provider must make the caller fail, not hang.
func (p *Pair) search(ctx context.Context, i int, scope int, attrs []string) ([]*ldap.Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	timeout := 5 * time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = max(time.Until(d), time.Millisecond)
	}
	c, err := p.p[i].Dial()
	if err != nil {
		return nil, fmt.Errorf("provider %d (%s): %w", i, p.URL(i), err)
	}
	defer c.Close()
	c.SetTimeout(timeout)
	res, err := c.SearchWithPaging(ldap.NewSearchRequest(DefaultBaseDN, scope, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", attrs, nil), 1000)
	if err != nil {
		return nil, fmt.Errorf("provider %d (%s): %w", i, p.URL(i), err)
	}
	return res.Entries, nil
}

// CSN is a change sequence number as OpenLDAP writes it, e.g. in entryCSN and contextCSN:
// 20261201154238.142558Z#000000#001#000000 is time, count within the microsecond, serverID
// and modification number, the last three in hex. (The bridge has its own parser: it must not
// import testenv.)
type CSN struct {
	Time  time.Time
	Count int
	SID   int
	Mod   int
}

// ParseCSN parses a CSN; its String is the canonical form again.
func ParseCSN(s string) (CSN, error) {
	parts := strings.Split(s, "#")
	if len(parts) != 4 {
		return CSN{}, fmt.Errorf("CSN %q: want 4 #-separated fields", s)
	}
	t, err := time.Parse("20060102150405.000000Z", parts[0])
	if err != nil {
		return CSN{}, fmt.Errorf("CSN %q: time: %w", s, err)
	}
	var n [3]int
	for i, f := range parts[1:] {
		v, err := strconv.ParseUint(f, 16, 32)
		if err != nil || f == "" {
			return CSN{}, fmt.Errorf("CSN %q: field %d is not hex", s, i+2)
		}
		n[i] = int(v)
	}
	if n[1] > 0xfff {
		return CSN{}, fmt.Errorf("CSN %q: serverID %d above 4095", s, n[1])
	}
	return CSN{Time: t, Count: n[0], SID: n[1], Mod: n[2]}, nil
}

// String formats c as slapd does.
func (c CSN) String() string {
	return fmt.Sprintf("%s#%06x#%03x#%06x", c.Time.UTC().Format("20060102150405.000000Z"), c.Count, c.SID, c.Mod)
}

// AccessLog lists provider i's accesslog entries for dn (cn=accesslog holds every successful
// write, delta-syncrepl's source), oldest first, one line each: when, what, the change's CSN and
// result. For a test that finds the providers differ: it shows which provider wrote what, and
// whether the other one ever logged it.
func (p *Pair) AccessLog(ctx context.Context, i int, dn string) ([]string, error) {
	c, err := p.p[i].Dial()
	if err != nil {
		return nil, fmt.Errorf("provider %d (%s): %w", i, p.URL(i), err)
	}
	defer c.Close()
	if d, ok := ctx.Deadline(); ok {
		c.SetTimeout(max(time.Until(d), time.Millisecond))
	}
	res, err := c.Search(ldap.NewSearchRequest("cn=accesslog", ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false,
		"(reqDN="+ldap.EscapeFilter(dn)+")", []string{"reqStart", "reqType", "reqResult", "reqEntryUUID", "entryCSN"}, nil))
	if err != nil {
		return nil, fmt.Errorf("provider %d (%s) accesslog: %w", i, p.URL(i), err)
	}
	var out []string
	for _, e := range res.Entries {
		out = append(out, fmt.Sprintf("%s %s result=%s csn=%s uuid=%s", e.GetAttributeValue("reqStart"),
			e.GetAttributeValue("reqType"), e.GetAttributeValue("reqResult"), e.GetAttributeValue("entryCSN"),
			e.GetAttributeValue("reqEntryUUID")))
	}
	slices.Sort(out)
	return out, nil
}
