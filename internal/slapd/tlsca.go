package slapd

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TestCA is a throwaway certificate authority for test servers (Samba's LDAPS, and slapd's
// should it need TLS): clients verify the server for real against CertPEM instead of skipping
// verification. Its key lives only in memory.
type TestCA struct {
	CertPEM []byte
	cert    *x509.Certificate
	key     *ecdsa.PrivateKey
}

// tlsValidity is long enough for a test directory that is kept and reused (e.g. the demo's).
const tlsValidity = 5 * 365 * 24 * time.Hour

// NewTestCA creates a CA named cn. ECDSA P-256: fast to generate, accepted by Go, GnuTLS
// (Samba) and OpenSSL (slapd).
func NewTestCA(cn string) (*TestCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"scimbridge testenv"}},
		NotBefore:             now.Add(-time.Hour), // tolerate a clock that is slightly behind
		NotAfter:              now.Add(tlsValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &TestCA{CertPEM: pemBlock("CERTIFICATE", der), cert: cert, key: key}, nil
}

// IssueServer returns a server certificate and its PKCS#8 key, both PEM, valid for hosts (IP
// addresses become IP SANs, anything else a DNS SAN; the first host is also the CN).
func (ca *TestCA) IssueServer(hosts ...string) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, errors.New("testenv: IssueServer needs at least one host")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(tlsValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pemBlock("CERTIFICATE", der), pemBlock("PRIVATE KEY", pk), nil
}

// WriteTLSFiles creates a CA and a server certificate for hosts and writes ca.pem, cert.pem and
// key.pem into dir (created if needed). The key is mode 0600, which Samba insists on.
func WriteTLSFiles(dir string, hosts ...string) (caFile, certFile, keyFile string, err error) {
	ca, err := NewTestCA("scimbridge test CA")
	if err != nil {
		return "", "", "", err
	}
	certPEM, keyPEM, err := ca.IssueServer(hosts...)
	if err != nil {
		return "", "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", "", err
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for _, f := range []struct {
		path string
		data []byte
		mode os.FileMode
	}{{keyFile, keyPEM, 0o600}, {certFile, certPEM, 0o644}, {caFile, ca.CertPEM, 0o644}} {
		if err := os.WriteFile(f.path, f.data, f.mode); err != nil {
			return "", "", "", err
		}
		if err := os.Chmod(f.path, f.mode); err != nil { // WriteFile keeps an existing file's mode
			return "", "", "", err
		}
	}
	return caFile, certFile, keyFile, nil
}

// CertPoolFromFile reads a PEM bundle, for clients that verify a test server.
func CertPoolFromFile(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("no PEM certificate in %s", file)
	}
	return p, nil
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}
