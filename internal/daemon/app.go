// Package daemon runs scimbridge: the SCIM and metrics listeners (TLS, ACME),
// the core built from one configuration (mapping, LDAP pool, use cases from
// package bridge, the scimapi handler), hot reload, metrics and the online
// checks. bridge holds the use cases; this package only assembles and runs them.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	stdlog "log"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/logbuf"
	"github.com/scimbridge/scimbridge/scimapi"
)

// App is the whole daemon: the SCIM HTTP server over the LDAP pool, plus the
// metrics/health listener. Tests run it in-process; cmd/scimbridge runs it
// until a signal. The configuration-dependent part (core) can be swapped at
// run time by Reload.
type App struct {
	cfg     *config.Config // as started: listeners are not reloaded
	log     zerolog.Logger
	Metrics *Metrics
	audit   *zerolog.Logger
	cur     atomic.Pointer[core]
	// Source is where Reload reads the configuration again; nil: no reload.
	Source *config.Source
	record func(op, ldif string)
	// wrapDir, when set, stands between the use cases and the directory
	// (WithDirectory).
	wrapDir func(bridge.Directory) bridge.Directory
	// cleanup runs in reverse order on Stop, also after a partial Start.
	cleanup []func(context.Context) error
	srv     *http.Server
	ln      net.Listener
	opsLn   net.Listener
	pprofLn net.Listener
	served  chan error

	// reloadMu makes reloads one at a time, whoever asks (SIGHUP, the file
	// watcher): each reads the file when its turn comes, so the newest file
	// is the one that ends up serving. stopped, under reloadMu, keeps a reload
	// that finishes after Stop from installing a pool nothing would close.
	reloadMu sync.Mutex
	stopped  bool
	// life ends at Stop; it cuts a reload's online check short. retiring
	// counts the old cores whose pools are not closed yet; Stop waits for
	// them once the server has let its requests finish.
	life     context.Context
	endLife  context.CancelFunc
	retiring sync.WaitGroup
	// rewatch tells the file watcher that a reload succeeded: the new
	// configuration may name another service tags file.
	rewatch chan struct{}
}

// core is everything built from one configuration. A request holds a
// reference for its whole life, so a reload never closes a pool under it.
type core struct {
	cfg     *config.Config
	pool    *bridge.Pool
	users   *bridge.Users
	groups  *bridge.Groups
	scim    *scimapi.Server
	refs    atomic.Int64
	retired atomic.Bool
	dryRun  bool
	// tags is what server.allowed_service_tags.file gave, nil without it.
	tags *serviceTagList
	// idle is closed when the core is retired and its last request is done.
	idle     chan struct{}
	idleOnce sync.Once
}

// done ends one request's hold on the core.
func (c *core) done() {
	if c.refs.Add(-1) == 0 && c.retired.Load() {
		c.idleOnce.Do(func() { close(c.idle) })
	}
}

// Option adjusts an App.
type Option func(*App)

// WithDirectory puts wrap(directory) between the use cases and the LDAP
// pool, for tests that must act at an exact moment of a request (write to the
// entry between the bridge's read and its write, hold a search), which a race
// between two HTTP requests hits only by chance.
func WithDirectory(wrap func(bridge.Directory) bridge.Directory) Option {
	return func(a *App) { a.wrapDir = wrap }
}

// WithDryRunRecorder forces dry-run mode and hands every write that would have
// been made to record, as LDIF (`scimbridge preview`).
func WithDryRunRecorder(record func(op, ldif string)) Option {
	return func(a *App) { a.record = record }
}

// NewApp wires an App from a loaded, valid configuration (tests, and tools
// that build one in code): it is prepared as Prepare would, and nothing is
// dialed yet.
func NewApp(cfg *config.Config, log zerolog.Logger, opts ...Option) (*App, error) {
	p, err := prepareLoaded(cfg, log)
	if err != nil {
		return nil, err
	}
	return p.NewApp(opts...)
}

// NewApp wires an App from p, which must have been prepared without
// problems and with a ServePool. The App takes over p.Pool, which it closes
// at Stop, or at once when NewApp fails.
func (p *Prepared) NewApp(opts ...Option) (*App, error) {
	if p.Pool == nil || p.kind != ServePool {
		return nil, errors.New("daemon: the configuration was not prepared to serve (problems, or no ServePool)")
	}
	a := &App{cfg: p.Config, log: p.Log, rewatch: make(chan struct{}, 1)}
	a.life, a.endLife = context.WithCancel(context.Background())
	for _, o := range opts {
		o(a)
	}
	a.Metrics = newMetrics(func() *bridge.Pool { return a.cur.Load().pool })
	audit, err := a.auditLogger()
	if err != nil {
		_ = p.Pool.Close()
		return nil, err
	}
	a.audit = audit
	a.cur.Store(a.newCore(p))
	return a, nil
}

// newCore assembles the use cases and the SCIM handler over what p compiled.
func (a *App) newCore(p *Prepared) *core {
	cfg, pool := p.Config, p.Pool
	// The online checks may have used the pool already, from this
	// goroutine; no request sees it before the core is published.
	pool.Observe(a.Metrics.ldapOp, func(d time.Duration) { a.Metrics.poolWait.Observe(d.Seconds()) })
	c := &core{cfg: cfg, pool: pool, tags: p.serviceTags, idle: make(chan struct{})}
	var dir bridge.Directory = pool
	if cfg.Server.DryRun || a.record != nil {
		dir = bridge.DryRun(pool, a.log, a.record)
		c.dryRun = true
		if a.record == nil {
			a.log.Warn().Msg("server.dry_run is on: requests are answered but NO LDAP write is performed; each is logged as LDIF")
		}
	}
	if a.wrapDir != nil {
		dir = a.wrapDir(dir)
	}
	c.users, c.groups = bridge.New(bridge.Options{
		Dir: dir, Users: p.Users, Groups: p.Groups, AD: cfg.LDAP.Flavor == config.FlavorAD,
		UIDNumber: cfg.Users.UIDNumber, GIDNumber: cfg.Groups.GIDNumber, DefaultGroups: cfg.Users.DefaultGroups, Log: a.log,
	})
	var groupStore scimapi.ResourceStore
	if c.groups != nil {
		groupStore = c.groups
	}
	c.scim = scimapi.New(scimapi.Options{
		BasePath:              cfg.Server.BasePath,
		PublicURL:             cfg.Server.PublicURL,
		MaxBodyBytes:          cfg.Server.MaxBodyBytes,
		Tokens:                p.Tokens,
		MaxCount:              cfg.Users.MaxResults,
		RequestIDContext:      bridge.WithRequestID,
		Log:                   a.log,
		UserAttributes:        userPaths(cfg.Users),
		GroupAttributes:       scimPaths(cfg.Groups.Attributes),
		Observer:              a.Metrics,
		AllowedCIDRs:          p.AllowedCIDRs,
		TrustedProxies:        p.TrustedProxies,
		RateLimit:             cfg.Server.RateLimit.RequestsPerSecond,
		RateBurst:             cfg.Server.RateLimit.Burst,
		AuthFailuresPerMinute: cfg.Server.AuthFailures.PerMinute,
		AuthFailuresBurst:     cfg.Server.AuthFailures.Burst,
		Audit:                 a.audit,
	}, c.users, groupStore)
	return c
}

// acquire returns the current core with a reference held; release with
// c.refs.Add(-1). A core being retired is never handed out.
func (a *App) acquire() *core {
	for {
		c := a.cur.Load()
		c.refs.Add(1)
		if !c.retired.Load() {
			return c
		}
		c.done()
	}
}

// Pool is the current LDAP pool.
func (a *App) Pool() *bridge.Pool { return a.cur.Load().pool }

// Users is the current users use cases.
func (a *App) Users() *bridge.Users { return a.cur.Load().users }

// auditLogger opens server.audit_log (append, 0600) or shares the main log.
func (a *App) auditLogger() (*zerolog.Logger, error) {
	if a.cfg.Server.AuditLog == "" {
		return &a.log, nil
	}
	f, err := os.OpenFile(a.cfg.Server.AuditLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("server.audit_log: %w", err)
	}
	// Batched like the main log (internal/logbuf); Stop flushes it.
	w := logbuf.New(f)
	a.cleanup = append(a.cleanup, func(context.Context) error { return errors.Join(w.Close(), f.Close()) })
	l := zerolog.New(w).With().Timestamp().Logger()
	return &l, nil
}

// scimPaths are the SCIM sides of a mapping, for the discovery endpoints.
// userPaths are the SCIM User attributes the bridge stores, for /Schemas.
func userPaths(u config.UsersConfig) []string {
	out := scimPaths(u.Attributes)
	if u.Roles.Enabled() {
		out = append(out, "roles.value", "roles.display", "roles.primary")
	}
	return out
}

func scimPaths(attrs []config.AttributeMapping) []string {
	out := make([]string, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a.SCIM)
	}
	return out
}

// Handler is the SCIM HTTP handler. Each request runs on the core current
// when it arrived.
func (a *App) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := a.acquire()
		defer c.done()
		ctx, cancel := context.WithTimeout(r.Context(), c.cfg.RequestBudget())
		defer cancel()
		if c.dryRun {
			ctx = bridge.DryRunContext(ctx)
		}
		c.scim.ServeHTTP(w, r.WithContext(ctx))
	})
}

// OpsHandler serves /metrics, /healthz and /readyz.
func (a *App) OpsHandler() http.Handler { return a.opsHandler() }

// Start listens on server.listen (":0" picks a port), with TLS when
// configured, and on server.metrics_listen, and serves in the background. A
// failed bind check of the directory is logged, not fatal: the directory may come
// up after the bridge, and requests answer 503 until then.
func (a *App) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen %s: %w", a.cfg.Server.Listen, err)
	}
	a.ln = ln
	a.srv = &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.cfg.Server.ReadTimeout,
		WriteTimeout:      a.cfg.Server.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		// TLS handshake failures from scanners would otherwise go to stderr
		// unstructured.
		ErrorLog: stdlog.New(a.log.With().Str("component", "http").Logger().Level(zerolog.DebugLevel), "", 0),
	}
	scheme := "http"
	if tc, err := a.serverTLS(); err != nil {
		_ = ln.Close()
		return err
	} else if tc != nil {
		a.srv.TLSConfig = tc
		a.ln = tls.NewListener(ln, tc)
		scheme = "https"
	}
	a.served = make(chan error, 2)
	go func() { a.served <- a.srv.Serve(a.ln) }()
	a.cleanup = append(a.cleanup, a.srv.Shutdown)
	if addr := a.cfg.Server.MetricsListen; addr != "" {
		ops, err := net.Listen("tcp", addr)
		if err != nil {
			_ = a.Stop(ctx)
			return fmt.Errorf("server.metrics_listen %s: %w", addr, err)
		}
		a.opsLn = ops
		osrv := &http.Server{Handler: a.opsHandler(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = osrv.Serve(ops) }()
		a.cleanup = append(a.cleanup, osrv.Shutdown)
	}
	if addr := a.cfg.Server.PprofListen; addr != "" {
		if err := a.startPprof(addr); err != nil {
			_ = a.Stop(ctx)
			return err
		}
	}
	pctx, cancel := context.WithTimeout(ctx, a.cfg.LDAP.DialTimeout)
	defer cancel()
	if err := a.Pool().Ping(pctx); err != nil {
		a.log.Warn().Err(err).Str("url", a.cfg.LDAP.URL).Msg("directory not reachable yet; requests get 503 until it is")
	}
	a.log.Info().Str("listen", a.ln.Addr().String()).Str("scheme", scheme).Str("base_path", a.cfg.Server.BasePath).
		Str("ldap", a.cfg.LDAP.URL).Str("metrics", a.cfg.Server.MetricsListen).Msg("scimbridge serving")
	return nil
}

// Addr is the SCIM listening address once started.
func (a *App) Addr() string { return a.ln.Addr().String() }

// OpsAddr is the metrics/health listening address, "" when off.
func (a *App) OpsAddr() string {
	if a.opsLn == nil {
		return ""
	}
	return a.opsLn.Addr().String()
}

// Wait blocks until the server stops on its own (an error) or ctx ends.
func (a *App) Wait(ctx context.Context) error {
	select {
	case err := <-a.served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		return nil
	}
}

// Stop stops accepting, lets in-flight requests finish until ctx ends (bounded
// by server.shutdown_timeout), then closes the listeners, the audit file and
// the pool, in reverse order of opening.
func (a *App) Stop(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, a.cfg.Server.ShutdownTimeout)
	defer cancel()
	a.endLife() // a reload under way gives up
	a.reloadMu.Lock()
	a.stopped = true
	a.reloadMu.Unlock()
	var errs []error
	for i := len(a.cleanup) - 1; i >= 0; i-- {
		if err := a.cleanup[i](ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, err)
		}
	}
	a.cleanup = nil
	errs = append(errs, a.cur.Load().pool.Close())
	a.retiring.Wait()
	return errors.Join(errs...)
}
