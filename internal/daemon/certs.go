package daemon

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// certReloader serves the certificate in server.tls.cert_file/key_file and
// re-reads the files when they change (checked at most once a second, on a
// handshake), so a renewed certificate is used without a restart. A broken
// renewal keeps the old certificate and is logged.
type certReloader struct {
	certFile, keyFile string
	log               zerolog.Logger
	mu                sync.Mutex
	cert              *tls.Certificate
	modTime           time.Time
	checked           time.Time
}

func newCertReloader(certFile, keyFile string, log zerolog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	if err := r.load(); err != nil {
		return nil, fmt.Errorf("server.tls: %w", err)
	}
	return r, nil
}

func (r *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return err
	}
	r.cert, r.modTime = &cert, r.newestModTime()
	return nil
}

func (r *certReloader) newestModTime() time.Time {
	var t time.Time
	for _, f := range []string{r.certFile, r.keyFile} {
		if st, err := os.Stat(f); err == nil && st.ModTime().After(t) {
			t = st.ModTime()
		}
	}
	return t
}

func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if time.Since(r.checked) >= time.Second {
		r.checked = time.Now()
		if m := r.newestModTime(); !m.Equal(r.modTime) {
			if err := r.load(); err != nil {
				r.log.Error().Err(err).Msg("server.tls: new certificate not loaded; still serving the old one")
				r.modTime = m // do not retry on every handshake; a later change retries
			} else {
				r.log.Info().Str("cert_file", r.certFile).Msg("server.tls: certificate reloaded")
			}
		}
	}
	return r.cert, nil
}

// current is the certificate the next handshake gets, for the expiry metric:
// it runs the same change check as a handshake, so a renewed file shows up
// in a scrape even when no client has connected since.
func (r *certReloader) current() *tls.Certificate {
	cert, _ := r.get(nil)
	return cert
}
