package scimapi_test

import (
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi"
)

// TestAuthTwoAuthorizationHeaders: a request with two Authorization
// headers is a 400 invalidSyntax whatever they hold, and reaches no store.
// Before, the first header counted and the second was ignored, so what a
// request meant depended on which one a proxy or library kept.
func TestAuthTwoAuthorizationHeaders(t *testing.T) {
	rs := newRouteServer(t, true)
	for name, pair := range map[string][2]string{
		"valid then invalid": {"Bearer " + routeToken, "Bearer nope"},
		"invalid then valid": {"Bearer nope", "Bearer " + routeToken},
		"valid twice":        {"Bearer " + routeToken, "Bearer " + routeToken},
		"valid and Basic":    {"Bearer " + routeToken, "Basic dXNlcjpwYXNz"},
	} {
		t.Run(name, func(t *testing.T) {
			before := rs.users.lastCall()
			req := httptest.NewRequest("DELETE", "/scim/v2/Users/u-"+strings.ReplaceAll(name, " ", "-"), nil)
			req.Header.Add("Authorization", pair[0])
			req.Header.Add("Authorization", pair[1])
			r := serveRaw(t, rs.srv, req)
			if r.code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", r.code, r.raw)
			}
			wantSCIMError(t, r, "400", "invalidSyntax")
			if d := at(r.body, "detail"); !strings.Contains(d, "more than one Authorization header") {
				t.Errorf("detail %q", d)
			}
			if after := rs.users.lastCall(); after != before {
				t.Errorf("the store was called: %s", after)
			}
		})
	}
	// One header still works.
	if r := rs.do(t, "DELETE", "/scim/v2/Users/one", "", true); r.code != http.StatusNoContent {
		t.Errorf("one Authorization header: %d %s", r.code, r.raw)
	}
}

// authCounts is an Observer that also counts refused authentications.
type authCounts struct {
	mu               sync.Mutex
	refused, limited int
}

func (a *authCounts) Request(string, string, int, time.Duration, string) {}

func (a *authCounts) AuthRefused(rateLimited bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if rateLimited {
		a.limited++
	} else {
		a.refused++
	}
}

func (a *authCounts) get() (refused, limited int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.refused, a.limited
}

// TestAuthFailureLimit: failed authentications are counted per client
// address; beyond the burst a client gets 429 with Retry-After until the
// rate allows another, while a valid token from the same address, and other
// addresses, are served as before. IPv6 clients count per /64. Refusals are
// told to an AuthObserver.
func TestAuthFailureLimit(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	obs := &authCounts{}
	srv := scimapi.New(scimapi.Options{
		BasePath: "/scim/v2", MaxBodyBytes: 1 << 10, Log: zerolog.Nop(),
		Tokens:                []scimapi.Token{{Name: "test", SHA256: sha256.Sum256([]byte(routeToken))}},
		Now:                   func() time.Time { return now },
		Observer:              obs,
		AuthFailuresPerMinute: 30, AuthFailuresBurst: 3,
	}, &echoStore{}, nil)
	get := func(addr, auth string) response {
		t.Helper()
		req := httptest.NewRequest("GET", "/scim/v2/Users", nil)
		req.RemoteAddr = addr
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		return serveRaw(t, srv, req)
	}
	const attacker, other = "198.51.100.7:4000", "198.51.100.8:4000"
	for i := 0; i < 3; i++ {
		if r := get(attacker, "Bearer wrong"); r.code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401 within the burst", i+1, r.code)
		}
	}
	r := get(attacker, "")
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") != "2" {
		t.Fatalf("beyond the burst: %d, Retry-After %q; want 429 and 2 (30 a minute)", r.code, r.header.Get("Retry-After"))
	}
	wantSCIMError(t, r, "429", "")
	if r := get(attacker, "Bearer "+routeToken); r.code != http.StatusOK {
		t.Errorf("valid token from the limited address: %d", r.code)
	}
	if r := get(other, "Bearer wrong"); r.code != http.StatusUnauthorized {
		t.Errorf("another address: %d, want 401", r.code)
	}
	now = now.Add(2 * time.Second)
	if r := get(attacker, "Bearer wrong"); r.code != http.StatusUnauthorized {
		t.Errorf("after Retry-After: %d, want 401", r.code)
	}
	if r := get(attacker, "Bearer wrong"); r.code != http.StatusTooManyRequests {
		t.Errorf("again at once: %d, want 429", r.code)
	}
	// Two addresses of one IPv6 /64 share a bucket; another /64 does not.
	for i := 0; i < 3; i++ {
		get("[2001:db8:1:2::1]:4000", "")
	}
	if r := get("[2001:db8:1:2::ffff]:4000", ""); r.code != http.StatusTooManyRequests {
		t.Errorf("same /64: %d, want 429", r.code)
	}
	if r := get("[2001:db8:1:3::1]:4000", ""); r.code != http.StatusUnauthorized {
		t.Errorf("other /64: %d, want 401", r.code)
	}
	refused, limited := obs.get()
	if refused != 3+1+1+3+1 || limited != 1+1+1 {
		t.Errorf("observer: %d refused, %d rate limited; want 9 and 3", refused, limited)
	}
}
