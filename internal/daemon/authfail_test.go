package daemon_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/apptest"
)

// Failed authentications are counted in scimbridge_auth_failures_total; with
// the default server.auth_failures (burst 10) the eleventh from one address
// is a 429 with Retry-After, logged once as a warning, while the right token
// from that address is still served.
func TestAuthFailuresMetric(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, nil)
	codes := map[int]int{}
	var retry string
	for i := 0; i < 15; i++ {
		req := httptest.NewRequest("DELETE", "http://bridge.test/scim/v2/Users/"+strings.Repeat("x", 60<<10), nil)
		req.Header.Set("Authorization", "Bearer wrong")
		w := httptest.NewRecorder()
		h.App.Handler().ServeHTTP(w, req)
		codes[w.Code]++
		if w.Code == http.StatusTooManyRequests {
			retry = w.Header().Get("Retry-After")
		}
	}
	if codes[http.StatusUnauthorized] != 10 || codes[http.StatusTooManyRequests] != 5 || retry == "" {
		t.Errorf("codes %v, Retry-After %q; want 10×401 then 5×429 with Retry-After", codes, retry)
	}
	h.Must(http.StatusOK, "GET", "/Users?count=0", "")
	w := httptest.NewRecorder()
	h.App.OpsHandler().ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`scimbridge_auth_failures_total{result="refused"} 10`,
		`scimbridge_auth_failures_total{result="rate_limited"} 5`,
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if n := strings.Count(h.Logs.String(), "too many failed authentications"); n != 1 {
		t.Errorf("%d warnings about the address, want 1:\n%s", n, h.Logs.String())
	}
}
