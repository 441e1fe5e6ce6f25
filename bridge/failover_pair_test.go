package bridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// A bridge that starts while the others are still on the standby (the
// first provider is back but its hold time has not passed) starts on the
// standby too: the standby was written to last. Starting on the first
// server would split the writers. It then fails back like the others.
func TestStartJoinsTheWriters(t *testing.T) {
	t.Parallel()
	pair := testenv.ProviderPair(t)
	p0 := pair.Provider(0)
	cfg := config.LDAPConfig{
		URL: pair.URL(0), FailoverURLs: []string{pair.URL(1)}, BindDN: p0.BindDN, BindPassword: p0.BindPassword,
		PoolSize: 2, Timeout: 2 * time.Second, DialTimeout: time.Second, PageSize: 100,
		Failover: config.FailoverConfig{
			ProbeInterval: 100 * time.Millisecond, Hold: 3 * time.Second, NotFoundWindow: time.Second,
			ServerIDs: []int{pair.ServerID(0), pair.ServerID(1)},
		},
	}
	pool := func() *bridge.Pool {
		p, err := bridge.NewPool(cfg, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = p.Close() })
		return p
	}
	ctx := context.Background()
	first := pool()
	if err := addOU(ctx, first, "before"); err != nil {
		t.Fatal(err)
	}
	if err := pair.Kill(0); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := addOU(ctx, first, "during"); err == nil {
			break
		}
	}
	if got := first.Server(ctx); got != 1 {
		t.Fatalf("the first bridge is on server %d after the kill", got)
	}
	if err := pair.Start(ctx, 0); err != nil {
		t.Fatal(err)
	}
	// Writes go on through the first bridge, on the standby.
	if err := addOU(ctx, first, "still-during"); err != nil {
		t.Fatal(err)
	}
	late := pool()
	if err := late.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if got := late.Server(ctx); got != 1 {
		t.Fatalf("a bridge started while the others write to the standby started on server %d", got)
	}
	waitServer(t, late, 0, 15*time.Second)
	waitServer(t, first, 0, 15*time.Second)
}
