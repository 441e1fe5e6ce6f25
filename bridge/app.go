package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi"
)

// App is the whole daemon: the SCIM HTTP server over the LDAP pool. Tests run it
// in-process; cmd/scimbridge runs it until a signal.
type App struct {
	cfg    *config.Config
	log    zerolog.Logger
	Pool   *Pool
	Users  *Users
	Groups *Groups
	scim   *scimapi.Server
	srv    *http.Server
	ln     net.Listener
	served chan error
}

// NewApp wires an App from a validated configuration. Nothing is dialed yet.
func NewApp(cfg *config.Config, log zerolog.Logger) (*App, error) {
	m, err := ldapmap.New(cfg.Users)
	if err != nil {
		return nil, err
	}
	pool, err := NewPool(cfg.LDAP, log)
	if err != nil {
		return nil, err
	}
	tokens := make([]scimapi.Token, 0, len(cfg.Auth.BearerTokens))
	for _, t := range cfg.Auth.BearerTokens {
		h, err := scimapi.ParseTokenHash(t.SHA256)
		if err != nil {
			return nil, fmt.Errorf("auth.bearer_tokens %s: %w", t.Name, err)
		}
		tokens = append(tokens, scimapi.Token{Name: t.Name, SHA256: h, Expires: t.Expires})
	}
	users := NewUsers(pool, m, log)
	var groups *Groups
	var groupStore scimapi.ResourceStore
	if cfg.GroupsEnabled() {
		gm, err := ldapmap.NewGroups(cfg.Groups)
		if err != nil {
			return nil, err
		}
		groups = NewGroups(pool, gm, users, newGIDAllocator(pool, cfg.Groups.GIDNumber), log)
		users.groups, users.defaultGroups = groups, cfg.Users.DefaultGroups
		groupStore = groups
	}
	scim := scimapi.New(scimapi.Options{
		BasePath:         cfg.Server.BasePath,
		PublicURL:        cfg.Server.PublicURL,
		MaxBodyBytes:     cfg.Server.MaxBodyBytes,
		Tokens:           tokens,
		MaxCount:         cfg.Users.MaxResults,
		RequestIDContext: WithRequestID,
		Log:              log,
		UserAttributes:   scimPaths(cfg.Users.Attributes),
		GroupAttributes:  scimPaths(cfg.Groups.Attributes),
	}, users, groupStore)
	return &App{cfg: cfg, log: log, Pool: pool, Users: users, Groups: groups, scim: scim}, nil
}

// scimPaths are the SCIM sides of a mapping, for the discovery endpoints.
func scimPaths(attrs []config.AttributeMapping) []string {
	out := make([]string, 0, len(attrs))
	for _, a := range attrs {
		out = append(out, a.SCIM)
	}
	return out
}

// Handler is the SCIM HTTP handler.
func (a *App) Handler() http.Handler { return a.scim }

// Start listens on server.listen (":0" picks a port) and serves in the
// background. A failed bind check of the directory is logged, not fatal: the
// directory may come up after the bridge, and requests answer 503 until then.
func (a *App) Start(ctx context.Context) error {
	ln, err := net.Listen("tcp", a.cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen %s: %w", a.cfg.Server.Listen, err)
	}
	a.ln = ln
	a.srv = &http.Server{
		Handler:           a.scim,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       a.cfg.Server.ReadTimeout,
		WriteTimeout:      a.cfg.Server.WriteTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	a.served = make(chan error, 1)
	go func() { a.served <- a.srv.Serve(ln) }()
	pctx, cancel := context.WithTimeout(ctx, a.cfg.LDAP.DialTimeout)
	defer cancel()
	if err := a.Pool.Ping(pctx); err != nil {
		a.log.Warn().Err(err).Str("url", a.cfg.LDAP.URL).Msg("directory not reachable yet; requests get 503 until it is")
	}
	a.log.Info().Str("listen", ln.Addr().String()).Str("base_path", a.cfg.Server.BasePath).
		Str("ldap", a.cfg.LDAP.URL).Msg("scimbridge serving")
	return nil
}

// Addr is the listening address once started.
func (a *App) Addr() string { return a.ln.Addr().String() }

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

// Stop stops accepting, lets in-flight requests finish until ctx ends, and
// closes the pool.
func (a *App) Stop(ctx context.Context) error {
	var err error
	if a.srv != nil {
		err = a.srv.Shutdown(ctx)
	}
	_ = a.Pool.Close()
	return err
}
