package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// serverTLS is the HTTPS configuration of the SCIM listener: certificate files
// (re-read when they change) or ACME; nil for plain HTTP.
func (a *App) serverTLS() (*tls.Config, error) {
	t := a.cfg.Server.TLS
	minVersion := uint16(tls.VersionTLS12)
	if t.MinVersion == "1.3" {
		minVersion = tls.VersionTLS13
	}
	switch {
	case t.CertFile != "":
		certs, err := newCertReloader(t.CertFile, t.KeyFile, a.log)
		if err != nil {
			return nil, err
		}
		a.Metrics.certs.fromFiles(certs.current)
		return &tls.Config{MinVersion: minVersion, GetCertificate: certs.get}, nil
	case len(t.ACME.Domains) > 0:
		client := &acme.Client{DirectoryURL: t.ACME.DirectoryURL}
		if t.ACME.CAFile != "" {
			pem, err := os.ReadFile(t.ACME.CAFile)
			if err != nil {
				return nil, fmt.Errorf("server.tls.acme.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("server.tls.acme.ca_file: no PEM certificate in %s", t.ACME.CAFile)
			}
			client.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{
				RootCAs:    pool,
				MinVersion: tls.VersionTLS12,
			}}}
		}
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			HostPolicy: autocert.HostWhitelist(t.ACME.Domains...),
			Cache:      autocert.DirCache(t.ACME.CacheDir),
			Email:      t.ACME.Email,
			Client:     client,
		}
		// TLSConfig answers the TLS-ALPN-01 challenge on this listener and
		// renews certificates before they expire.
		tc := m.TLSConfig()
		tc.MinVersion = minVersion
		tc.GetCertificate = a.Metrics.certs.observe(tc.GetCertificate)
		a.log.Info().Strs("domains", t.ACME.Domains).Str("directory", t.ACME.DirectoryURL).Msg("server.tls.acme: certificates are obtained on the first handshake")
		return tc, nil
	}
	return nil, nil
}
