package bridge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// Pool is a bounded set of LDAP connections bound as the service account. A
// request takes one connection for the duration of one LDAP operation, so at most
// Size operations run against the directory at once; the rest wait (bounded by
// their context) and then fail with 503 instead of queueing without bound.
type Pool struct {
	cfg  config.LDAPConfig
	tls  *tls.Config
	log  zerolog.Logger
	sem  chan struct{}
	mu   sync.Mutex
	idle []*ldap.Conn
	// dialed counts connections opened over the pool's life, for tests that
	// prove connections are reused.
	dialed int
}

// NewPool prepares a pool; connections are opened lazily.
func NewPool(cfg config.LDAPConfig, log zerolog.Logger) (*Pool, error) {
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.TLS.InsecureSkipVerify {
		log.Warn().Msg("ldap.tls.insecure_skip_verify is on: the directory's certificate is NOT checked; anyone on the path can read the bind password")
	}
	return &Pool{cfg: cfg, tls: tc, log: log, sem: make(chan struct{}, cfg.PoolSize)}, nil
}

func tlsConfig(cfg config.LDAPConfig) (*tls.Config, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("ldap.url: %w", err)
	}
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         u.Hostname(),
		InsecureSkipVerify: cfg.TLS.InsecureSkipVerify, //nolint:gosec // admin's explicit choice, warned about
	}
	if cfg.TLS.ServerName != "" {
		tc.ServerName = cfg.TLS.ServerName
	}
	if cfg.TLS.CAFile != "" {
		pem, err := os.ReadFile(cfg.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("ldap.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ldap.tls.ca_file: no PEM certificate in %s", cfg.TLS.CAFile)
		}
		tc.RootCAs = pool
	}
	return tc, nil
}

// Dialed returns how many connections the pool has opened.
func (p *Pool) Dialed() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dialed
}

// Encrypted tells whether the connection to the directory is TLS protected.
func (p *Pool) Encrypted() bool {
	u, _ := url.Parse(p.cfg.URL)
	return u != nil && (u.Scheme == "ldaps" || p.cfg.StartTLS)
}

// acquire returns a bound connection; release must be called with the
// operation's error so broken connections are dropped, not reused.
func (p *Pool) acquire(ctx context.Context) (*ldap.Conn, error) {
	// Waiting for a free connection is bounded by the operation timeout: when
	// the directory is slow or hung every connection stays busy, and the right
	// answer is a prompt 503 with Retry-After, not a queue that grows.
	wait := time.NewTimer(p.cfg.Timeout)
	defer wait.Stop()
	select {
	case p.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, scimerr.Wrap(scimerr.Unavailable, ctx.Err(), "the directory is busy, retry later")
	case <-wait.C:
		return nil, scimerr.New(scimerr.Unavailable, "all %d directory connections are busy, retry later", cap(p.sem))
	}
	p.mu.Lock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosing() {
			p.mu.Unlock()
			return c, nil
		}
		_ = c.Close()
	}
	p.dialed++
	p.mu.Unlock()
	c, err := p.dial()
	if err != nil {
		<-p.sem
		return nil, scimerr.Wrap(scimerr.Unavailable, err, "the directory is unavailable, retry later")
	}
	return c, nil
}

func (p *Pool) release(c *ldap.Conn, err error) {
	if c.IsClosing() || isConnError(err) {
		_ = c.Close()
	} else {
		p.mu.Lock()
		p.idle = append(p.idle, c)
		p.mu.Unlock()
	}
	<-p.sem
}

func (p *Pool) dial() (*ldap.Conn, error) {
	d := &net.Dialer{Timeout: p.cfg.DialTimeout}
	c, err := ldap.DialURL(p.cfg.URL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(p.tls))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", p.cfg.URL, err)
	}
	c.SetTimeout(p.cfg.Timeout)
	if p.cfg.StartTLS {
		if err := c.StartTLS(p.tls); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("starttls %s: %w", p.cfg.URL, err)
		}
	}
	if p.cfg.BindDN != "" {
		if err := c.Bind(p.cfg.BindDN, p.cfg.BindPassword); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("bind as %s: %w", p.cfg.BindDN, err)
		}
	}
	return c, nil
}

// isConnError tells whether err means the connection itself is broken.
func isConnError(err error) bool {
	if err == nil {
		return false
	}
	return ldap.IsErrorAnyOf(err, ldap.ErrorNetwork, ldap.LDAPResultTimeout, ldap.LDAPResultUnavailable,
		ldap.LDAPResultServerDown) || errors.Is(err, net.ErrClosed)
}

// do runs one LDAP operation on a pooled connection. A read that fails because
// the pooled connection went stale (the directory restarted) is retried once on
// a fresh connection; writes are not retried here, because a write may have
// been applied before the connection broke.
func (p *Pool) do(ctx context.Context, noRetry bool, fn func(*ldap.Conn) error) error {
	for attempt := 0; ; attempt++ {
		c, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		if dl, ok := ctx.Deadline(); ok {
			if d := time.Until(dl); d < p.cfg.Timeout {
				c.SetTimeout(max(d, time.Millisecond))
			}
		}
		err = fn(c)
		c.SetTimeout(p.cfg.Timeout)
		p.release(c, err)
		if err == nil || noRetry || attempt > 0 || !isConnError(err) {
			return err
		}
	}
}

// Search runs a search.
func (p *Pool) Search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	var res *ldap.SearchResult
	err := p.do(ctx, false, func(c *ldap.Conn) error {
		var err error
		res, err = c.Search(req)
		return err
	})
	return res, err
}

// SearchPaged runs a paged search on one connection; see searchPaged.
func (p *Pool) SearchPaged(ctx context.Context, req *ldap.SearchRequest, pageSize uint32, each func(*ldap.Entry) bool) (bool, error) {
	var complete bool
	// Not retried: each has already seen the entries of a failed attempt.
	err := p.do(ctx, true, func(c *ldap.Conn) error {
		var err error
		complete, err = searchPaged(c, req, pageSize, each)
		return err
	})
	return complete, err
}

// Add adds an entry.
func (p *Pool) Add(ctx context.Context, req *ldap.AddRequest) error {
	return p.do(ctx, true, func(c *ldap.Conn) error { return c.Add(req) })
}

// Modify modifies an entry.
func (p *Pool) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	return p.do(ctx, true, func(c *ldap.Conn) error { return c.Modify(req) })
}

// ModifyDN renames an entry.
func (p *Pool) ModifyDN(ctx context.Context, req *ldap.ModifyDNRequest) error {
	return p.do(ctx, true, func(c *ldap.Conn) error { return c.ModifyDN(req) })
}

// Del deletes an entry.
func (p *Pool) Del(ctx context.Context, req *ldap.DelRequest) error {
	return p.do(ctx, true, func(c *ldap.Conn) error { return c.Del(req) })
}

// Ping checks that a bound connection can be had and the directory answers.
func (p *Pool) Ping(ctx context.Context) error {
	_, err := p.Search(ctx, ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil))
	return err
}

// Close closes the idle connections.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.idle {
		_ = c.Close()
	}
	p.idle = nil
	return nil
}
