package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/crypto/acme"
)

func certWith(cn string, dns []string, notAfter time.Time) *tls.Certificate {
	return &tls.Certificate{Leaf: &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: dns, NotAfter: notAfter}}
}

func collected(t *testing.T, c prometheus.Collector) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	w := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{}).ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
	return w.Body.String()
}

// What an ACME listener records from its handshakes: the certificate served
// to clients, by name, and never autocert's TLS-ALPN-01 challenge
// certificate, which only the CA sees.
func TestCertCollectorObserve(t *testing.T) {
	t.Parallel()
	until := time.Unix(2000000000, 0)
	tests := []struct {
		name   string
		hello  *tls.ClientHelloInfo
		cert   *tls.Certificate
		err    error
		want   string
		absent bool
	}{
		{
			name: "by CN", hello: &tls.ClientHelloInfo{ServerName: "a"}, cert: certWith("scim.example.test", nil, until),
			want: `scimbridge_tls_certificate_not_after_seconds{name="scim.example.test"} 2e+09`,
		},
		{
			name: "by DNS name when no CN", hello: &tls.ClientHelloInfo{ServerName: "a"}, cert: certWith("", []string{"b.example.test"}, until),
			want: `{name="b.example.test"} 2e+09`,
		},
		{name: "neither", hello: &tls.ClientHelloInfo{}, cert: certWith("", nil, until), want: `{name="server"} 2e+09`},
		{
			name: "challenge", hello: &tls.ClientHelloInfo{ServerName: "a", SupportedProtos: []string{acme.ALPNProto}},
			cert: certWith("a", nil, until), absent: true,
		},
		{name: "error", hello: &tls.ClientHelloInfo{ServerName: "a"}, err: errTest, absent: true},
		{name: "no leaf", hello: &tls.ClientHelloInfo{ServerName: "a"}, cert: &tls.Certificate{}, absent: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCertCollector()
			get := c.observe(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return tc.cert, tc.err })
			if cert, err := get(tc.hello); cert != tc.cert || err != tc.err { //nolint:errorlint // the same error, passed through
				t.Fatalf("observe changed the answer: %v %v", cert, err)
			}
			m := collected(t, c)
			has := strings.Contains(m, "scimbridge_tls_certificate_not_after_seconds{")
			if tc.absent && has || !tc.absent && !strings.Contains(m, tc.want) {
				t.Errorf("got\n%s\nwant %q (absent %v)", m, tc.want, tc.absent)
			}
		})
	}
}

var errTest = &testError{}

type testError struct{}

func (*testError) Error() string { return "test" }
