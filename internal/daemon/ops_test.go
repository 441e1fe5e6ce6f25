package daemon_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/testenv"
)

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// server.pprof_listen serves Go's profiler on its own loopback listener, and
// the SCIM listener does not.
func TestPprofListen(t *testing.T) {
	t.Parallel()
	h, _ := apptest.NewPrivate(t, func(c *config.Config) {
		c.Server.Listen, c.Server.PprofListen = "127.0.0.1:0", "127.0.0.1:0"
	})
	h.Start(t)
	if code, body := httpGet(t, "http://"+h.App.PprofAddr()+"/debug/pprof/"); code != 200 || !strings.Contains(body, "goroutine") {
		t.Fatalf("pprof index: %d %.200s", code, body)
	}
	if code, _ := httpGet(t, "http://"+h.App.Addr()+"/debug/pprof/"); code == 200 {
		t.Fatal("the SCIM listener serves the profiler")
	}
}

// /metrics and /readyz live on their own listener and follow an outage.
func TestMetricsAndReadiness(t *testing.T) {
	t.Parallel()
	h, slapd := apptest.NewPrivate(t, func(c *config.Config) {
		c.Server.Listen, c.Server.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
		c.LDAP.Timeout = 500 * time.Millisecond
	})
	h.Start(t)
	ops := "http://" + h.App.OpsAddr()
	if code, _ := httpGet(t, ops+"/healthz"); code != 200 {
		t.Fatalf("healthz %d", code)
	}
	if code, body := httpGet(t, ops+"/readyz"); code != 200 {
		t.Fatalf("readyz %d %s", code, body)
	}
	h.User("metric")
	h.Do("GET", "/Users?filter=userName+eq+%22metric%22", "")
	_, m := httpGet(t, ops+"/metrics")
	for _, want := range []string{
		`scimbridge_requests_total{operation="create",resource="Users",status="201"} 1`,
		`scimbridge_requests_total{operation="list",resource="Users",status="200"} 1`,
		`scimbridge_token_requests_total{token="entra"} 2`,
		`scimbridge_ldap_operations_total{operation="add",result="success"} 1`,
		`scimbridge_ldap_pool_size 4`,
		`scimbridge_request_duration_seconds_bucket`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(m, h.Token) {
		t.Fatal("the token appears in the metrics")
	}
	if err := slapd.Kill(); err != nil {
		t.Fatal(err)
	}
	if code, _ := httpGet(t, ops+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("readyz during the outage: %d", code)
	}
	h.Do("GET", "/Users?filter=userName+eq+%22metric%22", "")
	_, m = httpGet(t, ops+"/metrics")
	if !strings.Contains(m, `scimbridge_requests_total{operation="list",resource="Users",status="503"} 1`) {
		t.Error("503 not counted")
	}
	if err := slapd.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _ := httpGet(t, ops+"/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("readyz did not recover")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRateLimitIs429(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *config.Config) { c.Server.RateLimit = config.RateLimitConfig{RequestsPerSecond: 25, Burst: 3} })
	codes := map[int]int{}
	var retry string
	for i := 0; i < 10; i++ {
		r := h.Do("GET", "/Users?filter=userName+eq+%22x%22", "")
		codes[r.Status]++
		if r.Status == http.StatusTooManyRequests {
			retry = r.Header.Get("Retry-After")
			apptest.SCIMError(t, r, http.StatusTooManyRequests, "")
		}
	}
	if codes[200] < 3 || codes[429] == 0 || retry == "" {
		t.Errorf("codes %v, Retry-After %q", codes, retry)
	}
}

func TestAllowedCIDRs(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *config.Config) { c.Server.AllowedCIDRs = []string{"10.0.0.0/8"} })
	// httptest requests come from 192.0.2.1.
	apptest.SCIMError(t, h.Do("GET", "/Users", ""), http.StatusForbidden, "")
	h2 := h.Rebuild(t, func(c *config.Config) { c.Server.AllowedCIDRs = []string{"192.0.2.0/24"} })
	h2.Must(http.StatusOK, "GET", "/Users?count=0", "")
}

// One audit line per SCIM write: who, what, which LDAP writes, the result;
// attribute names only, never values.
func TestAuditLog(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "audit.log")
	h := apptest.New(t, func(c *config.Config) { c.Server.AuditLog = file })
	id := h.Create(`{"userName":"audited","displayName":"Secret Name","password":"hunter2"}`)
	h.Must(http.StatusOK, "PATCH", "/Users/"+id, apptest.PatchBody(`{"op":"replace","path":"title","value":"Private Title"}`))
	h.Must(http.StatusOK, "GET", "/Users/"+id, "")
	h.Must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
	_ = h.App.Stop(context.Background())
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d audit lines, want 3 (create, patch, delete; not the GET):\n%s", len(lines), raw)
	}
	for _, secret := range []string{"Secret Name", "hunter2", "Private Title", h.Token} {
		if strings.Contains(string(raw), secret) {
			t.Errorf("audit log contains %q", secret)
		}
	}
	var patchLine struct {
		Token, ScimOp, ID, RemoteIP, RequestID string
		Status                                 int
		Writes                                 []struct {
			LdapOp     string   `json:"ldap_op"`
			DN         string   `json:"dn"`
			Attributes []string `json:"attributes"`
		} `json:"ldap_writes"`
	}
	var generic map[string]any
	_ = json.Unmarshal([]byte(lines[1]), &generic)
	_ = json.Unmarshal([]byte(lines[1]), &patchLine)
	if generic["token"] != "entra" || generic["scim_op"] != "patch" || generic["id"] != id || generic["status"] != 200.0 ||
		generic["request_id"] == "" || generic["remote_ip"] == "" {
		t.Errorf("patch line: %s", lines[1])
	}
	if len(patchLine.Writes) != 1 || patchLine.Writes[0].LdapOp != "modify" || len(patchLine.Writes[0].Attributes) != 1 ||
		patchLine.Writes[0].Attributes[0] != "title" {
		t.Errorf("ldap writes: %s", lines[1])
	}
}

// HTTPS with a certificate that is replaced on disk: the new one is served
// without a restart.
func TestHTTPSCertificateReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCert(t, cert, key, "first")
	h := apptest.New(t, func(c *config.Config) {
		c.Server.Listen = "127.0.0.1:0"
		c.Server.TLS = config.ServerTLSConfig{CertFile: cert, KeyFile: key, MinVersion: "1.2"}
	})
	h.Start(t)
	if cn := servedCN(t, h.App.Addr(), tls.VersionTLS12); cn != "first" {
		t.Fatalf("served %q", cn)
	}
	if servedCN(t, h.App.Addr(), tls.VersionTLS11) != "" {
		t.Error("TLS 1.1 accepted")
	}
	time.Sleep(1100 * time.Millisecond) // mtime resolution and the once-a-second check
	writeCert(t, cert, key, "second")
	deadline := time.Now().Add(5 * time.Second)
	for servedCN(t, h.App.Addr(), tls.VersionTLS12) != "second" {
		if time.Now().After(deadline) {
			t.Fatal("renewed certificate not served")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func servedCN(t *testing.T, addr string, maxVersion uint16) string {
	conn, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, MaxVersion: maxVersion}) //nolint:gosec // test reads the cert
	if err != nil {
		return ""
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName
}

func writeCert(t *testing.T, certFile, keyFile, cn string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
}

// X-Forwarded-For counts only from a trusted proxy: a client cannot talk its
// way past allowed_cidrs.
func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, func(c *config.Config) { c.Server.AllowedCIDRs = []string{"10.0.0.0/8"} })
	apptest.SCIMError(t, h.Do("GET", "/Users?count=0", "", "X-Forwarded-For", "10.1.2.3"), http.StatusForbidden, "")
	h2 := h.Rebuild(t, func(c *config.Config) { c.Server.TrustedProxies = []string{"192.0.2.0/24"} })
	h2.Must(http.StatusOK, "GET", "/Users?count=0", "", "X-Forwarded-For", "10.1.2.3")
	apptest.SCIMError(t, h2.Do("GET", "/Users?count=0", "", "X-Forwarded-For", "203.0.113.9"), http.StatusForbidden, "")
}

// acmeBridge runs a bridge with server.tls.acme for scim.example.test
// against a Pebble of the test's own, listening on a free loopback port.
func acmeBridge(t *testing.T) *apptest.Harness {
	t.Helper()
	pebble := testenv.PrivatePebble(t)
	h := apptest.New(t, func(c *config.Config) {
		c.Server.Listen = "127.0.0.1:0"
		c.Server.TLS.ACME = config.ACMEConfig{
			Domains: []string{"scim.example.test"}, DirectoryURL: pebble.DirectoryURL,
			CacheDir: t.TempDir(), CAFile: pebble.CAFile, Email: "admin@example.test",
		}
	})
	h.Start(t)
	return h
}

// server.tls.acme gets a certificate from an ACME server on the first
// handshake for a listed name (Pebble, with challenge validation off: the
// order and issuance flow are real) and refuses names not listed.
func TestACMECertificate(t *testing.T) {
	t.Parallel()
	h := acmeBridge(t)
	conn, err := tls.Dial("tcp", h.App.Addr(), &tls.Config{ServerName: "scim.example.test", InsecureSkipVerify: true}) //nolint:gosec // checks the issued cert by hand
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	cert := conn.ConnectionState().PeerCertificates[0]
	_ = conn.Close()
	if len(cert.DNSNames) != 1 || cert.DNSNames[0] != "scim.example.test" || !strings.Contains(cert.Issuer.CommonName, "Pebble") {
		t.Errorf("certificate for %v issued by %q", cert.DNSNames, cert.Issuer.CommonName)
	}
	if _, err := tls.Dial("tcp", h.App.Addr(), &tls.Config{ServerName: "other.example.test", InsecureSkipVerify: true}); err == nil { //nolint:gosec
		t.Error("a certificate was served for a name not in server.tls.acme.domains")
	}
}
