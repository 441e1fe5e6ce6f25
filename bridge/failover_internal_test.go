package bridge

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

func TestBehind(t *testing.T) {
	const (
		a1 = "20261201100000.000000Z#000000#001#000000"
		a2 = "20261201100005.000000Z#000000#002#000000"
		b2 = "20261201100002.500000Z#000000#002#000000"
		o1 = "20261201095957.000000Z#000000#001#000000"
	)
	for _, c := range []struct {
		name           string
		active, cand   map[int]string
		own            int
		lag            time.Duration
		known, caughtU bool
	}{
		{"equal", map[int]string{1: a1, 2: a2}, map[int]string{1: a1, 2: a2}, 1, 0, true, true},
		{"candidate ahead", map[int]string{1: o1, 2: b2}, map[int]string{1: a1, 2: a2}, 1, 0, true, true},
		{"missing the active's changes", map[int]string{1: a1, 2: a2}, map[int]string{1: a1, 2: b2}, 1, 2500 * time.Millisecond, true, false},
		// After a crash the candidate's own contextCSN lags the copy the
		// server in use holds: not a reason to wait, since it has all of
		// its own changes.
		{"own serverID lags after a crash", map[int]string{1: a1, 2: a2}, map[int]string{1: o1, 2: a2}, 1, 0, true, true},
		{"own serverID unknown", map[int]string{1: a1, 2: a2}, map[int]string{1: o1, 2: a2}, 0, 3 * time.Second, true, false},
		{"not probed", nil, map[int]string{1: a1}, 1, 0, false, false},
		{"no contextCSN (AD)", map[int]string{}, map[int]string{}, 0, 0, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			lag, known, up := behind(c.active, c.cand, c.own)
			if lag != c.lag || known != c.known || up != c.caughtU {
				t.Fatalf("behind = %v, %v, %v; want %v, %v, %v", lag, known, up, c.lag, c.known, c.caughtU)
			}
		})
	}
}

func TestCSNServerID(t *testing.T) {
	for in, want := range map[string]int{
		"20261201100000.000000Z#000000#001#000000": 1,
		"20261201100000.000000Z#000000#00a#000000": 10,
		"20261201100000.000000Z#000000#fff#000000": 4095,
		"20261201100000.000000Z#000000#xyz#000000": -1,
		"20261201100000.000000Z":                   -1,
		"":                                         -1,
	} {
		sid, ok := csnServerID(in)
		if !ok {
			sid = -1
		}
		if sid != want {
			t.Errorf("csnServerID(%q) = %d, want %d", in, sid, want)
		}
	}
}

// A connection lent out before a switch is closed when it comes back, not
// put back in the pool: in-use connections returned after a switch kept
// writing to the old server for 30 s when only idle ones were closed.
func TestReleaseAfterSwitchCloses(t *testing.T) {
	p := &Pool{sem: make(chan struct{}, 1), urls: []string{"ldap://a", "ldap://b"}, log: zerolog.Nop()}
	p.fo.init(2, config.FailoverConfig{})
	p.sem <- struct{}{}
	p.lent = 1
	a, b := net.Pipe()
	defer b.Close()
	lc := ldap.NewConn(a, false)
	lc.Start()
	c := &conn{Conn: lc, server: 0, gen: p.fo.gen}
	p.mu.Lock()
	p.switchTo(1, true, "test")
	p.mu.Unlock()
	p.release(c, nil)
	if len(p.idle) != 0 || !lc.IsClosing() {
		t.Fatal("a connection of the old server went back into the pool")
	}
}

// Right after a failover, not found is a 503: the entry may be in the
// failed server's unreplicated tail. Outside the window it is a 404.
func TestNotFoundInFailoverWindow(t *testing.T) {
	notFound := func() error { return scimerr.New(scimerr.NotFound, "User abc not found") }
	in := PinRequest(context.Background())
	pinOf(in).pinned, pinOf(in).window = true, true
	out := PinRequest(context.Background())
	for _, c := range []struct {
		ctx  context.Context
		err  error
		want scimerr.Kind
	}{
		{in, notFound(), scimerr.Unavailable},
		{out, notFound(), scimerr.NotFound},
		{context.Background(), notFound(), scimerr.NotFound},
		{in, scimerr.New(scimerr.InvalidValue, "bad"), scimerr.InvalidValue},
	} {
		err := c.err
		atEdge(c.ctx, &err)
		var se *scimerr.Error
		if !errors.As(err, &se) || se.Kind != c.want {
			t.Errorf("atEdge(%v) = %v, want kind %v", c.err, err, c.want)
		}
	}
}

// Near the end of a higher server's hold time, other bridges may have failed
// back already (they probe at their own times): not found is then not
// believed either, until the hold and the window have passed.
func TestFailBackNear(t *testing.T) {
	hold, every, window := 30*time.Second, 5*time.Second, 30*time.Second
	now := time.Now()
	for _, c := range []struct {
		name   string
		up     bool
		upFor  time.Duration
		active int
		want   bool
	}{
		{"first server in use", true, time.Hour, 0, false},
		{"higher server down", false, 0, 1, false},
		{"higher server up, hold far off", true, 10 * time.Second, 1, false},
		{"within a probe interval of the hold", true, 26 * time.Second, 1, true},
		{"hold passed, fail-back pending", true, 40 * time.Second, 1, true},
		{"hold and window passed: it does not catch up", true, 61 * time.Second, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			var f failoverState
			f.init(2, config.FailoverConfig{Hold: hold, ProbeInterval: every, NotFoundWindow: window})
			f.active = c.active
			f.servers[0] = serverState{up: c.up, upSince: now.Add(-c.upFor)}
			if got := f.failBackNear(now); got != c.want {
				t.Fatalf("failBackNear = %v, want %v", got, c.want)
			}
		})
	}
}

func FuzzCSN(f *testing.F) {
	f.Add("20261201100000.000000Z#000000#001#000000")
	f.Add("#")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = csnServerID(s)
		_, _ = csnTime(s)
		_, _, _ = behind(map[int]string{1: s}, map[int]string{1: "20261201100000.000000Z#000000#001#000000"}, 0)
	})
}
