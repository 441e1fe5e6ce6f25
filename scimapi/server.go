// Package scimapi is the SCIM 2.0 HTTP side of scimbridge (RFC 7644): routes,
// bearer-token auth, JSON, filters, PATCH and the error body. It knows nothing of
// LDAP: the resources are served by a ResourceStore, implemented by package bridge.
package scimapi

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimreq"
)

// Resource is a SCIM resource as decoded JSON.
type Resource = map[string]any

// ResourceStore serves one resource type (Users, Groups). Errors are scimerr
// errors; anything else becomes a 500 with a generic message. A Patch that
// returns a nil resource is answered 204 No Content.
type ResourceStore interface {
	Create(ctx context.Context, res Resource) (Resource, error)
	Get(ctx context.Context, id string, fields Fields) (Resource, error)
	List(ctx context.Context, f filter.Expr, startIndex, count int, fields Fields) (int, []Resource, error)
	Replace(ctx context.Context, id string, res Resource, ifMatch string) (Resource, error)
	Patch(ctx context.Context, id string, ops []patch.Operation, ifMatch string) (Resource, error)
	Delete(ctx context.Context, id, ifMatch string) error
}

// Options configure the HTTP server.
type Options struct {
	// BasePath is the Tenant URL's path, e.g. /scim/v2.
	BasePath string
	// PublicURL overrides scheme and host in meta.location (behind a proxy).
	PublicURL    string
	MaxBodyBytes int64
	Tokens       []Token
	// DefaultCount and MaxCount bound list pages (RFC 7644 §3.4.2.4).
	DefaultCount, MaxCount int
	// RequestIDContext stores the request id in the context handed to stores,
	// so their logs carry it.
	RequestIDContext func(ctx context.Context, id string) context.Context
	Log              zerolog.Logger
	// Now is the clock for token expiry; nil means time.Now.
	Now func() time.Time
	// UserAttributes and GroupAttributes are the mapped SCIM attribute paths
	// (users.attributes[].scim, groups.attributes[].scim, as written, e.g.
	// emails[type eq "work"].value). The discovery endpoints describe them.
	UserAttributes, GroupAttributes []string
	// Observer gets every request, for metrics; nil: none.
	Observer Observer
	// AllowedCIDRs limits clients by address; empty: everyone.
	AllowedCIDRs []*net.IPNet
	// TrustedProxies may set X-Forwarded-For; otherwise the client address
	// is the TCP peer, which no client can forge.
	TrustedProxies []*net.IPNet
	// RateLimit and RateBurst bound requests per token; 0: no limit.
	RateLimit float64
	RateBurst int
	// AuthFailuresPerMinute and AuthFailuresBurst bound the failed
	// authentications of one client address (server.auth_failures): beyond
	// them it gets 429 with Retry-After instead of 401, and the refusals
	// are logged at debug level only. A valid token is never held back.
	// 0: no limit.
	AuthFailuresPerMinute, AuthFailuresBurst int
	// Audit receives one line per SCIM write; the zero value means Log.
	Audit *zerolog.Logger
}

// ContentType is the SCIM media type (RFC 7644 §3.1).
const ContentType = "application/scim+json"

// Server is the SCIM HTTP handler.
type Server struct {
	opts    Options
	echo    *echo.Echo
	allowed []*net.IPNet
	limits  *limiters
	// authFails counts failed authentications per client; nil: no limit.
	authFails *failureLimiter
	// lists bounds the resources all list answers hold at once.
	lists *listSlots
}

// New builds the handler serving users and groups under opts.BasePath. A nil
// groups store answers /Groups with a SCIM error saying groups are disabled.
func New(opts Options, users, groups ResourceStore) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.DefaultCount == 0 {
		opts.DefaultCount = 100
	}
	if opts.MaxCount == 0 {
		opts.MaxCount = 1000
	}
	if opts.RequestIDContext == nil {
		opts.RequestIDContext = func(ctx context.Context, _ string) context.Context { return ctx }
	}
	opts.BasePath = "/" + strings.Trim(opts.BasePath, "/")
	if opts.Audit == nil {
		opts.Audit = &opts.Log
	}
	s := &Server{opts: opts, allowed: opts.AllowedCIDRs, lists: newListSlots(2 * opts.MaxCount)}
	if opts.RateLimit > 0 {
		s.limits = &limiters{rps: rate.Limit(opts.RateLimit), burst: max(opts.RateBurst, 1), buckets: map[string]*rate.Limiter{}}
	}
	if opts.AuthFailuresPerMinute > 0 {
		s.authFails = newFailureLimiter(opts.AuthFailuresPerMinute, opts.AuthFailuresBurst)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.IPExtractor = echo.ExtractIPDirect()
	if len(opts.TrustedProxies) > 0 {
		// Only the configured proxies: echo would also trust loopback, link-local
		// and private addresses by default, i.e. any client on the LAN.
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range opts.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	// fixBaseQuery first: it may move the resource path out of the query
	// string, and canonicalPath then fixes the case of what it moved.
	e.Pre(s.fixBaseQuery, s.canonicalPath)
	// allowCIDRs before requestLog: a client that may not connect at all
	// gets one short line, not a request line with what it chose to send.
	e.Use(s.allowCIDRs, s.requestLog, s.limitBody)
	g := e.Group(strings.TrimSuffix(opts.BasePath, "/"), s.authenticate, s.rateLimit)
	s.route(g, &endpoint{name: "Users", store: users, normalize: normalizeUser})
	if groups != nil {
		s.route(g, &endpoint{name: "Groups", store: groups, normalize: normalizeGroup})
	} else {
		g.Any("/Groups", groupsDisabled)
		g.Any("/Groups/*", groupsDisabled)
	}
	s.routeDiscovery(g, groups != nil)
	s.echo = e
	return s
}

// ServeHTTP makes Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// fixBaseQuery accepts a Tenant URL with a query string (Entra's
// ?aadOptscim062020 flag, docs/entra-wire-reference.md §3.2) when a client appended the
// resource path after the query instead of before it:
// /scim/v2?aadOptscim062020/Users?filter=... is served as /scim/v2/Users?filter=...
// A query string on a correctly built URL needs nothing: unknown parameters are
// ignored.
func (s *Server) fixBaseQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.TrimSuffix(r.URL.Path, "/") == s.opts.BasePath {
			if i := strings.IndexByte(r.URL.RawQuery, '/'); i >= 0 {
				rest := r.URL.RawQuery[i:]
				path, query, _ := strings.Cut(rest, "?")
				r.URL.Path = s.opts.BasePath + path
				r.URL.RawPath = ""
				r.URL.RawQuery = query
			}
		}
		return next(c)
	}
}

// limitBody bounds request bodies (server.max_body_bytes); a larger body is a
// 413 SCIM error, never read into memory.
func (s *Server) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.ContentLength > s.opts.MaxBodyBytes {
			return errTooLarge(s.opts.MaxBodyBytes)
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, s.opts.MaxBodyBytes)
		return next(c)
	}
}

// requestLog writes one line per request (and the audit line of a write),
// with the client-chosen path and method clipped to maxLogged bytes. A request
// answered 429 by the failed-authentication limit is logged at debug level:
// authFailed has logged one warning for the episode and the metrics count it.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if id == "" || len(id) > 128 {
			id = newRequestID()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.Set("request_id", id)
		ctx, trail := scimreq.WithTrail(s.opts.RequestIDContext(c.Request().Context(), id))
		c.SetRequest(c.Request().WithContext(ctx))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		r := c.Request()
		resource, op := resourceAndOp(r, s.opts.BasePath)
		s.observe(c, resource, op, start)
		if resource == "Users" || resource == "Groups" {
			s.audit(c, resource, op, trail)
		}
		ev := s.opts.Log.Info()
		if limited, _ := c.Get(authLimitedKey).(bool); limited {
			ev = s.opts.Log.Debug()
		} else if c.Response().Status >= 500 {
			ev = s.opts.Log.Error()
		}
		tok, _ := c.Get("token").(string)
		ev.Str("request_id", id).Str("method", clip(r.Method)).Str("path", clip(r.URL.Path)).
			Int("status", c.Response().Status).Float64("latency_ms", float64(time.Since(start).Microseconds())/1000).
			Str("token", tok).Str("remote_ip", clip(c.RealIP())).Msg("request")
		return nil
	}
}
