package bridge_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/testenv"
)

// The pool speaks LDAP: the directory's answers come back as *ldap.Error,
// its own refusals as ErrBusy, ErrDown and ErrClosed, and a request out of
// time as the context's error; no scimerr (the use cases classify).
func TestPoolErrorsAreLDAP(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	good := config.LDAPConfig{
		URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword, PoolSize: 1,
		Timeout: 5 * time.Second, DialTimeout: 2 * time.Second, PageSize: 100,
	}
	base := func(dn string) *ldap.SearchRequest {
		return ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false, "(objectClass=*)",
			[]string{"1.1"}, nil)
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	for _, c := range []struct {
		name   string
		cfg    func(*config.LDAPConfig)
		ctx    context.Context
		closed bool
		// op runs twice: the second run sees what the first left (backoff).
		op          func(context.Context, *bridge.Pool) error
		is          []error // errors.Is, on both runs
		code        uint16  // the *ldap.Error's result code; 0: none wanted
		lost        bool    // bridge.ConnectionLost
		text, text2 string  // in the first and second error's text
	}{
		{name: "missing base", op: func(ctx context.Context, p *bridge.Pool) error {
			_, err := p.Search(ctx, base("ou=missing-for-pool-test,"+srv.BaseDN))
			return err
		}, code: ldap.LDAPResultNoSuchObject, text: "ldap search"},
		{
			name: "closed port", cfg: func(c *config.LDAPConfig) { c.URL = "ldap://127.0.0.1:1" },
			op: func(ctx context.Context, p *bridge.Pool) error { return p.Ping(ctx) },
			is: []error{bridge.ErrDown}, code: ldap.ErrorNetwork, lost: true,
			text: "127.0.0.1:1", text2: "next connection attempt in",
		},
		{
			name: "wrong password", cfg: func(c *config.LDAPConfig) { c.BindPassword = "wrong" },
			op: func(ctx context.Context, p *bridge.Pool) error { return p.Ping(ctx) },
			is: []error{bridge.ErrDown}, code: ldap.LDAPResultInvalidCredentials, lost: true,
		},
		{
			name: "closed pool", closed: true, op: func(ctx context.Context, p *bridge.Pool) error { return p.Ping(ctx) },
			is: []error{bridge.ErrClosed}, lost: true, text: "closing",
		},
		{name: "write out of time", ctx: expired, op: func(ctx context.Context, p *bridge.Pool) error {
			return p.Del(ctx, ldap.NewDelRequest("cn=never,"+srv.BaseDN, nil))
		}, is: []error{context.DeadlineExceeded}, lost: true, text: "nothing was written"},
		{
			name: "read out of time", ctx: expired, op: func(ctx context.Context, p *bridge.Pool) error { return p.Ping(ctx) },
			is: []error{context.DeadlineExceeded}, lost: true, text: "ran out of time",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := good
			if c.cfg != nil {
				c.cfg(&cfg)
			}
			pool, err := bridge.NewPool(cfg, zerolog.Nop())
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			if c.closed {
				_ = pool.Close()
			}
			ctx := c.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			for run, text := range []string{c.text, c.text2} {
				err := c.op(ctx, pool)
				if err == nil {
					t.Fatalf("run %d: no error", run)
				}
				for _, want := range c.is {
					if !errors.Is(err, want) {
						t.Errorf("run %d: %v is not %v", run, err, want)
					}
				}
				for _, other := range []error{bridge.ErrBusy, bridge.ErrDown, bridge.ErrClosed} {
					if errors.Is(err, other) && !slices.Contains(c.is, other) {
						t.Errorf("run %d: %v is %v too", run, err, other)
					}
				}
				var le *ldap.Error
				switch {
				case c.code != 0 && run == 0 && (!errors.As(err, &le) || le.ResultCode != c.code):
					t.Errorf("run %d: %v, want an *ldap.Error with code %d", run, err, c.code)
				case c.code == 0 && errors.As(err, &le):
					t.Errorf("run %d: %v holds an *ldap.Error", run, err)
				}
				var se *scimerr.Error
				if errors.As(err, &se) {
					t.Errorf("run %d: %v is a scimerr; the pool returns LDAP errors", run, err)
				}
				if bridge.ConnectionLost(err) != c.lost {
					t.Errorf("run %d: ConnectionLost(%v) = %v, want %v", run, err, !c.lost, c.lost)
				}
				if !strings.Contains(err.Error(), text) || strings.Contains(err.Error(), "retry later") {
					t.Errorf("run %d: %q, want %q in it and no SCIM wording", run, err, text)
				}
			}
		})
	}
}

// With every connection lent out for longer than ldap.timeout, the next
// operation is refused with ErrBusy without reaching the directory.
func TestPoolBusy(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	pool, err := bridge.NewPool(config.LDAPConfig{
		URL: srv.URL, BindDN: srv.BindDN, BindPassword: srv.BindPassword,
		PoolSize: 1, Timeout: 300 * time.Millisecond, DialTimeout: 2 * time.Second, PageSize: 100,
	}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	holding, done := make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		req := ldap.NewSearchRequest(srv.BaseDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
			"(objectClass=*)", []string{"1.1"}, nil)
		_, err := pool.SearchPaged(context.Background(), req, 0, func(*ldap.Entry) bool {
			close(holding)
			<-done
			return true
		})
		held <- err
	}()
	select {
	case <-holding:
	case err := <-held:
		t.Fatalf("the holding search ended first: %v", err)
	}
	err = pool.Ping(context.Background())
	close(done)
	if !errors.Is(err, bridge.ErrBusy) || !strings.Contains(err.Error(), "all 1 directory connections are busy") {
		t.Errorf("second operation: %v, want ErrBusy", err)
	}
	if errors.Is(err, bridge.ErrDown) || !bridge.ConnectionLost(err) {
		t.Errorf("%v: is ErrDown, or not ConnectionLost", err)
	}
	if err := <-held; err != nil {
		t.Errorf("holding search: %v", err)
	}
}
