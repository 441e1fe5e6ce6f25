package scimapi_test

import (
	"bytes"
	"crypto/sha256"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi"
)

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Len()
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// floodServer is a server logging at info level (the default) to log and
// audit, with the default server.auth_failures (30 a minute, burst 10) and a
// clock that stands still, so no failure is forgiven during the test.
func floodServer(t *testing.T, allowed ...string) (srv *scimapi.Server, log, audit *syncBuffer) {
	t.Helper()
	log, audit = &syncBuffer{}, &syncBuffer{}
	l := zerolog.New(log).Level(zerolog.InfoLevel).With().Timestamp().Logger()
	a := zerolog.New(audit).With().Timestamp().Logger()
	var cidrs []*net.IPNet
	for _, c := range allowed {
		_, n, err := net.ParseCIDR(c)
		if err != nil {
			t.Fatal(err)
		}
		cidrs = append(cidrs, n)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	srv = scimapi.New(scimapi.Options{
		BasePath: "/scim/v2", MaxBodyBytes: 1 << 10, Log: l, Audit: &a,
		Tokens:                []scimapi.Token{{Name: "test", SHA256: sha256.Sum256([]byte(routeToken))}},
		Now:                   func() time.Time { return now },
		AllowedCIDRs:          cidrs,
		AuthFailuresPerMinute: 30, AuthFailuresBurst: 10,
	}, &echoStore{}, &echoStore{})
	return srv, log, audit
}

// floodRequest is a write with a 60 KB id in the path, from addr.
func floodRequest(i int, addr, auth string) *http.Request {
	id := strings.Repeat("x", 60<<10)
	methods := []string{"DELETE", "PUT", "PATCH", "POST"}
	m := methods[i%len(methods)]
	target := "/scim/v2/Users/" + id
	if m == "POST" {
		target = "/scim/v2/Groups/" + id // a POST to /Groups/{id}: 405 once authenticated
	}
	req := httptest.NewRequest(m, target, strings.NewReader(`{"userName":"bob"}`))
	req.RemoteAddr = addr
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return req
}

// TestLogFloodWithoutToken: a flood of unauthenticated writes with a 60 KB
// id writes no audit line and a bounded number of bytes to the log. Each of
// the first requests gets one request line with the path clipped to 128
// bytes; beyond server.auth_failures' burst the client gets 429 with
// Retry-After and its requests are logged at debug level only, after one
// warning. Before, every request wrote its 60 KB id to the request log and to
// the audit trail (about 61.7 KB to each). An authenticated client is served
// and audited as before, with its id clipped too.
func TestLogFloodWithoutToken(t *testing.T) {
	srv, log, audit := floodServer(t)
	const attacker = "203.0.113.66:5000"
	const burst, n = 10, 200
	perLine := 0
	codes := map[int]int{}
	var retry string
	for i := 0; i < n; i++ {
		auth := ""
		if i%2 == 1 {
			auth = "Bearer wrong-" + strings.Repeat("t", 4<<10)
		}
		before := log.Len()
		r := serveRaw(t, srv, floodRequest(i, attacker, auth))
		codes[r.code]++
		if i < burst {
			if r.code != http.StatusUnauthorized {
				t.Fatalf("request %d: %d, want 401 within the burst", i, r.code)
			}
			perLine = max(perLine, log.Len()-before)
		} else {
			if r.code != http.StatusTooManyRequests {
				t.Fatalf("request %d: %d, want 429 beyond the burst", i, r.code)
			}
			wantSCIMError(t, r, "429", "")
			retry = r.header.Get("Retry-After")
		}
	}
	if retry == "" {
		t.Error("429 without Retry-After")
	}
	if audit.Len() != 0 {
		t.Errorf("unauthenticated requests were audited (%d bytes):\n%.600s", audit.Len(), audit.String())
	}
	// One request line of about 300 bytes: method, a 128-byte path, status,
	// latency, address, request id, timestamp.
	if perLine > 512 {
		t.Errorf("a refused request logged %d bytes, want at most 512", perLine)
	}
	total := log.Len()
	if total > burst*512+512 {
		t.Errorf("%d requests logged %d bytes, want at most %d (%d request lines and one warning)",
			n, total, burst*512+512, burst)
	}
	t.Logf("%d unauthenticated writes with a 60 KB id: %d bytes of log (%.0f per request, at most %d for one), 0 of audit; codes %v",
		n, total, float64(total)/n, perLine, codes)
	out := log.String()
	if strings.Contains(out, strings.Repeat("x", 129)) || strings.Contains(out, "tttt") {
		t.Error("the log holds more than 128 bytes of the id, or the token sent")
	}
	if c := strings.Count(out, "too many failed authentications"); c != 1 {
		t.Errorf("%d warnings about the address, want 1", c)
	}

	// An authenticated client from the same address is unaffected, and
	// audited with its id clipped.
	before, beforeAudit := log.Len(), audit.Len()
	r := serveRaw(t, srv, floodRequest(0, attacker, "Bearer "+routeToken))
	if r.code != http.StatusNoContent {
		t.Fatalf("authenticated DELETE from the flooding address: %d %s", r.code, r.raw)
	}
	line := audit.String()[beforeAudit:]
	if !strings.Contains(line, `"audit":"scim_write"`) || !strings.Contains(line, `"id":"`+strings.Repeat("x", 128)+`…"`) {
		t.Errorf("audit line of the authenticated request: %.400s", line)
	}
	if got := audit.Len() - beforeAudit; got > 512 {
		t.Errorf("audit line of %d bytes", got)
	}
	if got := log.Len() - before; got > 512 {
		t.Errorf("request line of %d bytes", got)
	}
}

// TestLogFloodFromRefusedAddress: with server.allowed_cidrs, a client from
// elsewhere costs one short line per request, without its path, before any
// token is looked at; nothing is audited.
func TestLogFloodFromRefusedAddress(t *testing.T) {
	srv, log, audit := floodServer(t, "10.0.0.0/8")
	const n = 50
	for i := 0; i < n; i++ {
		r := serveRaw(t, srv, floodRequest(i, "203.0.113.66:5000", "Bearer "+routeToken))
		if r.code != http.StatusForbidden {
			t.Fatalf("request %d: %d, want 403", i, r.code)
		}
		wantSCIMError(t, r, "403", "")
	}
	if audit.Len() != 0 {
		t.Errorf("refused addresses were audited: %.400s", audit.String())
	}
	out := log.String()
	if lines := strings.Count(out, "\n"); lines != n {
		t.Errorf("%d log lines for %d requests, want one each", lines, n)
	}
	if per := log.Len() / n; per > 200 {
		t.Errorf("%d bytes per refused request, want at most 200:\n%.400s", per, out)
	}
	if strings.Contains(out, "xxxx") || !strings.Contains(out, "client address not allowed") {
		t.Errorf("log of a refused address:\n%.400s", out)
	}
	// An allowed address is served.
	r := serveRaw(t, srv, floodRequest(0, "10.1.2.3:5000", "Bearer "+routeToken))
	if r.code != http.StatusNoContent {
		t.Errorf("allowed address: %d %s", r.code, r.raw)
	}
}
