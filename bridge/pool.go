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
)

// The pool's own failures, as opposed to the directory's answers (which are
// *ldap.Error): the operation was not sent. Each comes inside an error whose
// text says more (how many connections, when the next dial is due, what the
// dial said); test for them with errors.Is.
var (
	// ErrBusy: every connection stayed in use for as long as the request
	// could wait (ldap.timeout, or the request's own deadline).
	ErrBusy = errors.New("ldap pool: all connections busy")
	// ErrDown: no connection could be opened. The dial or bind failed now,
	// or failed recently and the pool waits before it dials again.
	ErrDown = errors.New("ldap pool: directory unreachable")
	// ErrClosed: the pool is closing (reload or shutdown).
	ErrClosed = errors.New("ldap pool: closed")
)

// poolError is one of the sentinels (kind) with what happened in words a
// SCIM client may read (msg: no DN, no diagnostic) and its cause, if any
// (the dial's error, the context's).
type poolError struct {
	kind  error
	msg   string
	cause error
}

func (e *poolError) Error() string {
	if e.cause == nil {
		return e.msg
	}
	return e.msg + ": " + e.cause.Error()
}

func (e *poolError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// budgetError: the request's deadline (RequestBudget) passed before its
// operation was sent. write says the operation was a write, which has then
// not started: nothing was written.
type budgetError struct {
	op    string
	write bool
	err   error // the context's
}

func (e *budgetError) Error() string {
	if e.write {
		return fmt.Sprintf("the request ran out of time before its %s; nothing was written: %v", e.op, e.err)
	}
	return fmt.Sprintf("the request ran out of time before its %s: %v", e.op, e.err)
}

func (e *budgetError) Unwrap() error { return e.err }

// Pool is a bounded set of LDAP connections bound as the service account. A
// request takes one connection for the duration of one LDAP operation, so at most
// Size operations run against the directory at once; the rest wait (bounded by
// their context) and then fail with 503 instead of queueing without bound.
type Pool struct {
	cfg  config.LDAPConfig
	urls []string
	tls  []*tls.Config
	log  zerolog.Logger
	sem  chan struct{}
	mu   sync.Mutex
	idle []*conn
	// dialed counts connections opened over the pool's life, for tests that
	// prove connections are reused.
	dialed int
	// The server in use and its failover bookkeeping (failover.go).
	fo failoverState
	// switchMu serialises choosing a server, so that concurrent failed
	// dials make one switch, not one each.
	switchMu sync.Mutex
	// After a failed dial, further dials wait until retryAt (exponential
	// backoff), so a directory that is down is not hammered by every request;
	// those requests get a prompt 503 instead.
	retryAt time.Time
	backoff time.Duration
	// observe, when set, records each LDAP operation (metrics).
	observe func(op string, d time.Duration, err error)
	waited  func(d time.Duration)
	// lent counts connections handed out and not yet released. Once closed,
	// acquire refuses, release closes what comes back, and drained is closed
	// when the last lent connection has come back.
	lent    int
	closed  bool
	drained chan struct{}
	// controls are the root DSE's supportedControl, read once (Supports);
	// nil until a read succeeded.
	controls map[string]bool
	// sorted is what the directory refused of sorted lists (vlv.go).
	sorted vlvState
}

// conn is a pooled connection and the server it goes to: after a switch,
// connections of an earlier generation are closed, not reused.
type conn struct {
	*ldap.Conn
	server int
	gen    uint64
}

// NewPool prepares a pool; connections are opened lazily.
func NewPool(cfg config.LDAPConfig, log zerolog.Logger) (*Pool, error) {
	p := &Pool{cfg: cfg, log: log, sem: make(chan struct{}, cfg.PoolSize), drained: make(chan struct{})}
	p.fo.init(1+len(cfg.FailoverURLs), cfg.Failover)
	p.urls = append([]string{cfg.URL}, cfg.FailoverURLs...)
	for _, u := range p.urls {
		tc, err := tlsConfig(cfg, u)
		if err != nil {
			return nil, err
		}
		p.tls = append(p.tls, tc)
	}
	if cfg.TLS.InsecureSkipVerify {
		log.Warn().Msg("ldap.tls.insecure_skip_verify is on: the directory's certificate is NOT checked; anyone on the path can read the bind password")
	}
	return p, nil
}

// pageSize is the page a paged search uses: want, at most ldap.page_size
// (AD serves at most 1000 per page, slapd's default size limit for other
// binds than the rootdn is 500); 0 asks for ldap.page_size.
func (p *Pool) pageSize(want uint32) uint32 {
	limit := uint32(max(p.cfg.PageSize, 1))
	if want == 0 || want > limit {
		return limit
	}
	return want
}

// Size is the most connections the pool opens (ldap.pool_size).
func (p *Pool) Size() int { return cap(p.sem) }

// InUse is the number of connections lent out now.
func (p *Pool) InUse() int { return len(p.sem) }

// Idle is the number of idle pooled connections.
func (p *Pool) Idle() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.idle)
}

func tlsConfig(cfg config.LDAPConfig, rawURL string) (*tls.Config, error) {
	u, err := url.Parse(rawURL)
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

// Encrypted tells whether every connection to the directory is TLS protected
// (config.LDAPConfig.Encrypted, the rule users.password is checked by).
func (p *Pool) Encrypted() bool { return p.cfg.Encrypted() }

// waitSlot waits for a connection slot when all are lent out, bounded by
// the operation timeout: when the directory is slow or hung every connection
// stays busy, and the right answer is a prompt 503 with Retry-After, not a
// queue that grows.
func (p *Pool) waitSlot(ctx context.Context) error {
	wait := time.NewTimer(p.cfg.Timeout)
	defer wait.Stop()
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return &poolError{kind: ErrBusy, msg: "the directory is busy", cause: ctx.Err()}
	case <-wait.C:
		return &poolError{kind: ErrBusy, msg: fmt.Sprintf("all %d directory connections are busy", cap(p.sem))}
	}
}

// acquire returns a bound connection to the server in use; release must be
// called with the operation's error so broken connections are dropped, not
// reused. A request pinned to a server (PinRequest) that is no longer the one in
// use gets ErrDown: its operations must not straddle a switch.
func (p *Pool) acquire(ctx context.Context) (*conn, error) {
	start := time.Now()
	if p.waited != nil {
		defer func() { p.waited(time.Since(start)) }()
	}
	select {
	case p.sem <- struct{}{}:
		// A free connection slot, the usual case: no timer (a timer per
		// operation was 4% of a GET's CPU).
	default:
		if err := p.waitSlot(ctx); err != nil {
			return nil, err
		}
	}
	pn := pinOf(ctx)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.sem
		return nil, &poolError{kind: ErrClosed, msg: "the directory connections are closing (reload or shutdown)"}
	}
	if err := pn.check(&p.fo); err != nil {
		p.mu.Unlock()
		<-p.sem
		return nil, err
	}
	if c := p.takeIdle(); c != nil {
		pn.set(&p.fo)
		p.lent++
		p.mu.Unlock()
		return c, nil
	}
	if wait := time.Until(p.retryAt); wait > 0 {
		p.mu.Unlock()
		<-p.sem
		return nil, &poolError{kind: ErrDown, msg: fmt.Sprintf("the directory is unavailable (next connection attempt in %s)",
			wait.Round(time.Millisecond))}
	}
	p.dialed++
	p.lent++ // the dial counts as lent, so Close waits for it
	p.startWatching()
	p.mu.Unlock()
	p.fo.start.Do(func() { p.chooseStart(ctx) })
	c, err := p.dial(ctx)
	p.mu.Lock()
	if err == nil {
		err = p.lendDialed(c, pn)
	}
	var pe *poolError
	refused := errors.As(err, &pe)
	if err != nil {
		if !refused {
			p.backoff = min(max(2*p.backoff, 100*time.Millisecond), 5*time.Second)
			p.retryAt = time.Now().Add(p.backoff)
		}
		p.returned()
	} else {
		p.backoff, p.retryAt = 0, time.Time{}
	}
	backoff := p.backoff
	p.mu.Unlock()
	if err != nil {
		<-p.sem
		if refused {
			return nil, err
		}
		p.log.Warn().Err(err).Dur("retry_in", backoff).Msg("ldap connect failed")
		return nil, &poolError{kind: ErrDown, msg: "the directory is unavailable", cause: err}
	}
	return c, nil
}

// takeIdle pops a pooled connection that is still open, or returns nil;
// Pool.mu is held.
func (p *Pool) takeIdle() *conn {
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.IsClosing() {
			return c
		}
		_ = c.Close()
	}
	return nil
}

// lendDialed checks a new connection before it is lent; Pool.mu is held.
// The dial may have switched servers: a request that already ran an
// operation on the old one must not go on on the new one.
func (p *Pool) lendDialed(c *conn, pn *pin) error {
	if err := pn.check(&p.fo); err != nil || c.gen != p.fo.gen {
		_ = c.Close()
		if err == nil {
			err = switchedError()
		}
		return err
	}
	c.SetTimeout(p.cfg.Timeout) // the bind's timeout was the request's
	pn.set(&p.fo)
	return nil
}

func (p *Pool) release(c *conn, err error) {
	p.mu.Lock()
	if p.closed || c.gen != p.fo.gen || c.IsClosing() || connBroken(err) {
		_ = c.Close()
	} else {
		p.idle = append(p.idle, c)
	}
	p.returned()
	p.mu.Unlock()
	<-p.sem
}

// returned books a lent connection back; p.mu is held.
func (p *Pool) returned() {
	p.lent--
	if p.closed && p.lent == 0 {
		close(p.drained)
	}
}

// dial connects to the server in use. When it cannot be reached, the pool
// fails over to the first other server, in the configured order, that can
// (failover.go).
func (p *Pool) dial(ctx context.Context) (*conn, error) {
	p.mu.Lock()
	k, gen := p.fo.active, p.fo.gen
	p.mu.Unlock()
	lc, err := p.dialOne(ctx, p.urls[k], p.tls[k])
	if err == nil {
		return &conn{Conn: lc, server: k, gen: gen}, nil
	}
	if len(p.urls) == 1 || badCredentials(err) {
		return nil, err // the same credentials fail on every replica
	}
	return p.failover(ctx, k, gen, err)
}

func (p *Pool) dialOne(ctx context.Context, rawURL string, tc *tls.Config) (*ldap.Conn, error) {
	// A new connection is bounded by the request that needs it as well: a
	// dial and bind may not outlast the request's budget.
	dialTimeout, opTimeout := p.cfg.DialTimeout, p.cfg.Timeout
	if dl, ok := ctx.Deadline(); ok {
		left := max(time.Until(dl), time.Millisecond)
		dialTimeout, opTimeout = min(dialTimeout, left), min(opTimeout, left)
	}
	d := &net.Dialer{Timeout: dialTimeout}
	c, err := ldap.DialURL(rawURL, ldap.DialWithDialer(d), ldap.DialWithTLSConfig(tc))
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", rawURL, err)
	}
	// The bind and StartTLS are bounded too: a hung directory accepts TCP.
	c.SetTimeout(opTimeout)
	if p.cfg.StartTLS {
		if err := c.StartTLS(tc); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("starttls %s: %w", rawURL, err)
		}
	}
	if p.cfg.BindDN != "" {
		if err := c.Bind(p.cfg.BindDN, p.cfg.BindPassword); err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("bind to %s as %s: %w", rawURL, p.cfg.BindDN, err)
		}
	}
	return c, nil
}

// do runs one LDAP operation on a pooled connection. A read that fails because
// the pooled connection went stale (the directory restarted) is retried once on
// a fresh connection; writes are not retried here, because a write may have
// been applied before the connection broke.
//
// A request's deadline (RequestBudget) bounds the wait for a connection and a
// read. A write is not started once the deadline has passed, and once started
// gets the full ldap.timeout: cutting it short would answer 503 for a write
// the directory may still apply.
//
// The error is the directory's (an *ldap.Error, wrapped with op) or the
// pool's own: ErrBusy, ErrDown, ErrClosed, or, when the deadline passed
// before the operation was sent, one that wraps the context's error.
func (p *Pool) do(ctx context.Context, op string, noRetry bool, fn func(*ldap.Conn) error) error {
	write := op != "search"
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return &budgetError{op: op, write: write, err: err}
		}
		c, err := p.acquire(ctx)
		if err != nil {
			return err
		}
		if dl, ok := ctx.Deadline(); ok && !write {
			if d := time.Until(dl); d < p.cfg.Timeout {
				c.SetTimeout(max(d, time.Millisecond))
			}
		}
		start := time.Now()
		err = fn(c.Conn)
		if p.observe != nil {
			p.observe(op, time.Since(start), err)
		}
		c.SetTimeout(p.cfg.Timeout)
		p.release(c, err)
		if err == nil {
			return nil
		}
		if noRetry || attempt > 0 || !connBroken(err) {
			return fmt.Errorf("ldap %s: %w", op, err)
		}
	}
}

// Close closes the pool: new acquires are refused (503), idle connections
// are closed now, and connections still lent out are closed as they come
// back; Close waits for them, at most ldap.timeout and a second. Closing
// twice is harmless.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for _, c := range p.idle {
		_ = c.Close()
	}
	p.idle = nil
	p.stopWatching()
	if p.lent == 0 {
		close(p.drained)
	}
	p.mu.Unlock()
	// Connections still lent out are closed as they come back; an operation
	// ends within ldap.timeout, so waiting longer would wait for nothing.
	select {
	case <-p.drained:
	case <-time.After(p.cfg.Timeout + time.Second):
		p.log.Warn().Msg("ldap pool closed with connections still in use")
	}
	return nil
}

// Server is the index, in ldap.url then ldap.failover_urls, of the directory
// server the request in ctx runs its LDAP operations on: the one it is
// pinned to, or else the one in use now (and the request is pinned to it).
// Allocators that keep one counter per server (users.uid_number,
// groups.gid_number) use it.
func (p *Pool) Server(ctx context.Context) int {
	pn := pinOf(ctx)
	p.mu.Lock()
	defer p.mu.Unlock()
	if pn != nil && pn.pinned {
		return pn.server
	}
	pn.set(&p.fo)
	return p.fo.active
}
