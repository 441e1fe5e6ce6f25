package scimapi

import (
	"math"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimreq"
)

// Observer receives one call per request, for metrics. It is an interface so
// this package needs no metrics library.
type Observer interface {
	Request(resource, operation string, status int, d time.Duration, token string)
}

// resourceAndOp names a request for metrics and the audit log: the endpoint
// (Users, Groups, Schemas, ...) and the SCIM operation. It runs after
// canonicalPath has rewritten the request, so /users and /serviceConfiguration
// arrive here as Users and ServiceProviderConfig.
func resourceAndOp(r *http.Request, base string) (resource, op string) {
	rest := strings.Trim(strings.TrimPrefix(r.URL.Path, base), "/")
	parts := strings.SplitN(rest, "/", 2)
	resource = parts[0]
	switch resource {
	case "Users", "Groups", "Schemas", "ResourceTypes", "ServiceProviderConfig":
	default:
		resource = "other"
	}
	hasID := len(parts) == 2 && parts[1] != ""
	switch r.Method {
	case http.MethodGet:
		op = "list"
		if hasID {
			op = "get"
		}
	case http.MethodPost:
		op = "create"
	case http.MethodPut:
		op = "replace"
	case http.MethodPatch:
		op = "patch"
	case http.MethodDelete:
		op = "delete"
	default:
		op = "other"
	}
	return resource, op
}

// allowCIDRs refuses clients outside server.allowed_cidrs with 403. The client
// address is the TCP peer, or what a trusted proxy says (server.trusted_proxies).
// It runs before requestLog, so a refused client costs one short log line,
// whatever path and headers it sends; it is counted in the metrics all the same.
func (s *Server) allowCIDRs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.allowed) == 0 {
			return next(c)
		}
		ip := c.RealIP()
		if a := net.ParseIP(ip); a != nil {
			for _, n := range s.allowed {
				if n.Contains(a) {
					return next(c)
				}
			}
		}
		start := time.Now()
		c.Error(scimerr.New(scimerr.Forbidden, "client address not allowed"))
		r := c.Request()
		resource, op := resourceAndOp(r, s.opts.BasePath)
		s.observe(c, resource, op, start)
		s.opts.Log.Info().Str("remote_ip", clip(ip)).Str("method", clip(r.Method)).Int("status", c.Response().Status).
			Msg("client address not allowed")
		return nil
	}
}

// observe tells the Observer about a finished request.
func (s *Server) observe(c echo.Context, resource, op string, start time.Time) {
	if s.opts.Observer != nil {
		tok, _ := c.Get("token").(string)
		s.opts.Observer.Request(resource, op, c.Response().Status, time.Since(start), tok)
	}
}

// maxLogged bounds each client-chosen string (path, id, method, address) in a
// log line: ids and paths are logged so that operators can find a request,
// and 128 bytes do that, while a 60 KB id must not become 60 KB of log for
// every request a client sends.
const maxLogged = 128

// clip shortens s to maxLogged bytes (clipTo).
func clip(s string) string { return clipTo(s, maxLogged) }

// clipTo shortens s to at most n bytes, at a UTF-8 boundary, marked with "…".
func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// limiters hands out one token bucket per bearer token name.
type limiters struct {
	mu      sync.Mutex
	rps     rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
}

func (l *limiters) get(name string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[name]
	if !ok {
		b = rate.NewLimiter(l.rps, l.burst)
		l.buckets[name] = b
	}
	return b
}

// rateLimit answers 429 with Retry-After when a token is over its rate, so
// Entra backs off instead of piling requests onto the directory.
func (s *Server) rateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.limits == nil {
			return next(c)
		}
		tok, _ := c.Get("token").(string)
		r := s.limits.get(tok).Reserve()
		if d := r.Delay(); d > 0 {
			r.Cancel()
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
			return scimerr.New(scimerr.TooManyRequests, "too many requests for token %q, retry later", tok)
		}
		return next(c)
	}
}

// AuditWrite is one LDAP write done for a SCIM request (scimreq.AuditWrite).
type AuditWrite = scimreq.AuditWrite

// audit writes one line per SCIM write request: who (token name, client IP),
// what (operation, resource, id), the LDAP writes it caused and the result.
// Only authenticated requests are audited: a request without a valid token
// wrote nothing and says nothing about who did what, and auditing it would
// let anyone fill the audit trail.
func (s *Server) audit(c echo.Context, resource, op string, trail *scimreq.Trail) {
	if op != "create" && op != "replace" && op != "patch" && op != "delete" {
		return
	}
	tok, _ := c.Get("token").(string)
	if tok == "" {
		return
	}
	id := c.Param("id")
	if id == "" {
		id = path.Base(c.Response().Header().Get(echo.HeaderLocation))
	}
	arr := zerolog.Arr()
	for _, w := range trail.Writes() {
		d := zerolog.Dict().Str("ldap_op", w.Op).Str("dn", w.DN).Strs("attributes", w.Attributes).Bool("ok", w.Err == nil)
		if w.DryRun {
			d = d.Bool("dry_run", true)
		}
		arr = arr.Dict(d)
	}
	s.opts.Audit.Info().Str("audit", "scim_write").Str("token", tok).Str("remote_ip", c.RealIP()).
		Str("request_id", requestID(c)).Str("scim_op", op).Str("resource", resource).Str("id", clip(id)).
		Int("status", c.Response().Status).Array("ldap_writes", arr).Msg("audit")
}
