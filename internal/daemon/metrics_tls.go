package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/acme"
)

// certCollector exports when the SCIM listener's certificate expires, so an
// alert can fire while there is still time to renew (deploy/prometheus).
// Without server.tls nothing is exported: the series is absent, not 0.
//
// The two certificate sources differ in when the certificate is known:
//   - server.tls.cert_file is read at scrape time from the certReloader,
//     which re-checks the files then as on a handshake, so the metric is the
//     certificate the next client gets, and a renewal that failed to load
//     (the old one still served) shows as the old, nearer date.
//   - ACME certificates are obtained and renewed by autocert on handshakes,
//     and autocert offers no way to read one without possibly ordering it;
//     each handshake records what it served, so a name appears after its
//     first handshake.
type certCollector struct {
	desc *prometheus.Desc
	mu   sync.Mutex
	file func() *tls.Certificate
	acme map[string]time.Time // ACME: name -> notAfter of the certificate last served
}

func newCertCollector() *certCollector {
	return &certCollector{
		desc: prometheus.NewDesc("scimbridge_tls_certificate_not_after_seconds",
			"Expiry (notAfter, Unix time) of the certificate the SCIM listener serves, by the certificate's subject CN "+
				"(else its first DNS name, else \"server\"); absent without server.tls, and for ACME until the name's first handshake.",
			[]string{"name"}, nil),
		acme: map[string]time.Time{},
	}
}

// fromFiles makes current, the certificate server.tls.cert_file serves,
// the one reported.
func (c *certCollector) fromFiles(current func() *tls.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.file = current
}

// observe wraps an ACME tls.Config's GetCertificate to record each
// certificate it serves. The TLS-ALPN-01 challenge certificates autocert
// answers the CA with are self-signed, short-lived and never seen by a
// client: recording them would report a false expiry.
func (c *certCollector) observe(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := get(hello)
		if err != nil || cert == nil || slices.Contains(hello.SupportedProtos, acme.ALPNProto) {
			return cert, err
		}
		if leaf := leafOf(cert); leaf != nil {
			c.mu.Lock()
			c.acme[certName(leaf)] = leaf.NotAfter
			c.mu.Unlock()
		}
		return cert, err
	}
}

func (c *certCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *certCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	file := c.file
	seen := make(map[string]time.Time, len(c.acme))
	for k, v := range c.acme {
		seen[k] = v
	}
	c.mu.Unlock()
	if file != nil {
		if leaf := leafOf(file()); leaf != nil {
			seen[certName(leaf)] = leaf.NotAfter
		}
	}
	for name, notAfter := range seen {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(notAfter.Unix()), name)
	}
}

// leafOf is the certificate's parsed leaf: tls.LoadX509KeyPair and autocert
// both fill Leaf, the parse is for any other source.
func leafOf(cert *tls.Certificate) *x509.Certificate {
	if cert == nil {
		return nil
	}
	if cert.Leaf != nil {
		return cert.Leaf
	}
	if len(cert.Certificate) == 0 {
		return nil
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		return nil
	}
	return leaf
}

// certName labels a certificate by what stays the same across renewals.
func certName(leaf *x509.Certificate) string {
	switch {
	case leaf.Subject.CommonName != "":
		return leaf.Subject.CommonName
	case len(leaf.DNSNames) > 0:
		return leaf.DNSNames[0]
	}
	return "server"
}
