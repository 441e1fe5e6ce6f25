package daemon_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/internal/buildinfo"
)

// scrape is /metrics as Prometheus reads it.
func scrape(t *testing.T, h *apptest.Harness) string {
	t.Helper()
	w := httptest.NewRecorder()
	h.App.OpsHandler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if w.Code != http.StatusOK {
		t.Fatalf("/metrics: %d", w.Code)
	}
	return w.Body.String()
}

// scimbridge_build_info carries the running build, as `scimbridge version`
// reports it.
func TestBuildInfoMetric(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, nil)
	i := buildinfo.Get()
	want := fmt.Sprintf(`scimbridge_build_info{commit=%q,goversion=%q,version=%q} 1`, i.Commit, i.GoVersion, i.Version)
	if m := scrape(t, h); !strings.Contains(m, want) {
		t.Fatalf("/metrics lacks %s:\n%s", want, grepMetric(m, "scimbridge_build_info"))
	}
}

// certExpiry reads scimbridge_tls_certificate_not_after_seconds by name
// from a scrape.
func certExpiry(m string) map[string]int64 {
	out := map[string]int64{}
	re := regexp.MustCompile(`(?m)^scimbridge_tls_certificate_not_after_seconds\{name="([^"]*)"\} (\S+)$`)
	for _, g := range re.FindAllStringSubmatch(m, -1) {
		var v float64
		_, _ = fmt.Sscan(g[2], &v)
		out[g[1]] = int64(v)
	}
	return out
}

func grepMetric(m, name string) string {
	var out []string
	for _, l := range strings.Split(m, "\n") {
		if strings.HasPrefix(l, name) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// writeCertUntil writes a self-signed certificate for cn valid until
// notAfter, and its key, in PEM.
func writeCertUntil(t *testing.T, certFile, keyFile, cn string, notAfter time.Time) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter, DNSNames: []string{"scim.example.test"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// The certificate expiry metric follows server.tls.cert_file: absent
// without TLS, the served certificate's notAfter, a renewal on disk seen by
// the next scrape without any handshake, and a broken renewal (the old
// certificate still served) still reported as the old date.
func TestCertificateExpiryMetricFiles(t *testing.T) {
	t.Parallel()
	plain := apptest.New(t, func(c *config.Config) { c.Server.Listen = "127.0.0.1:0" })
	plain.Start(t)
	if got := certExpiry(scrape(t, plain)); len(got) != 0 {
		t.Errorf("without TLS: %v, want no series", got)
	}

	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := time.Now().Add(40 * 24 * time.Hour).Truncate(time.Second)
	writeCertUntil(t, cert, key, "scim.example.test", first)
	h := apptest.New(t, func(c *config.Config) {
		c.Server.Listen = "127.0.0.1:0"
		c.Server.TLS = config.ServerTLSConfig{CertFile: cert, KeyFile: key, MinVersion: "1.2"}
	})
	h.Start(t)
	steps := []struct {
		name  string
		write func()
		want  time.Time
	}{
		{"as started", func() {}, first},
		{"renewed on disk", func() { writeCertUntil(t, cert, key, "scim.example.test", first.Add(60*24*time.Hour)) }, first.Add(60 * 24 * time.Hour)},
		{"renewal with a key that does not match", func() {
			// A new certificate beside the old key: LoadX509KeyPair fails,
			// the bridge keeps serving the last good one.
			other := filepath.Join(dir, "other.key")
			writeCertUntil(t, cert, other, "scim.example.test", first.Add(90*24*time.Hour))
		}, first.Add(60 * 24 * time.Hour)},
	}
	for _, s := range steps {
		// The reloader looks at the files at most once a second, and mtimes
		// may have a coarse resolution.
		time.Sleep(1100 * time.Millisecond)
		s.write()
		time.Sleep(1100 * time.Millisecond)
		got := certExpiry(scrape(t, h))
		if len(got) != 1 || got["scim.example.test"] != s.want.Unix() {
			t.Errorf("%s: %v, want scim.example.test=%d", s.name, got, s.want.Unix())
		}
	}
	// What a client is served agrees with the metric.
	conn, err := tls.Dial("tcp", h.App.Addr(), &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // reads the served certificate
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if na := conn.ConnectionState().PeerCertificates[0].NotAfter; !na.Equal(first.Add(60 * 24 * time.Hour)) {
		t.Errorf("served notAfter %v", na)
	}
}

// With server.tls.acme, the expiry of the certificate Pebble issued appears
// after the name's first handshake.
func TestCertificateExpiryMetricACME(t *testing.T) {
	t.Parallel()
	h := acmeBridge(t)
	if got := certExpiry(scrape(t, h)); len(got) != 0 {
		t.Errorf("before any handshake: %v, want no series", got)
	}
	conn, err := tls.Dial("tcp", h.App.Addr(), &tls.Config{ServerName: "scim.example.test", InsecureSkipVerify: true}) //nolint:gosec // reads the issued certificate
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	leaf := conn.ConnectionState().PeerCertificates[0]
	_ = conn.Close()
	name := leaf.Subject.CommonName
	if name == "" {
		name = leaf.DNSNames[0]
	}
	got := certExpiry(scrape(t, h))
	if len(got) != 1 || got[name] != leaf.NotAfter.Unix() {
		t.Errorf("after the handshake: %v, want %s=%d", got, name, leaf.NotAfter.Unix())
	}
}
