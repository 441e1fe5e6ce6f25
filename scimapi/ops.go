package scimapi

import (
	"context"
	"math"
	"net"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
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
func (s *Server) allowCIDRs(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.allowed) == 0 {
			return next(c)
		}
		ip := net.ParseIP(c.RealIP())
		if ip != nil {
			for _, n := range s.allowed {
				if n.Contains(ip) {
					return next(c)
				}
			}
		}
		return scimerr.New(scimerr.Forbidden, "client address not allowed")
	}
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

// AuditWrite is one LDAP write done for a SCIM request.
type AuditWrite struct {
	Op         string
	DN         string
	Attributes []string
	Err        error
	// DryRun marks a write that server.dry_run did not perform.
	DryRun bool
}

type auditKey struct{}

type auditTrail struct {
	mu     sync.Mutex
	writes []AuditWrite
}

// RecordWrite adds an LDAP write to the request's audit line. Only attribute
// names are recorded: values may be personal data or passwords.
func RecordWrite(ctx context.Context, w AuditWrite) {
	if t, ok := ctx.Value(auditKey{}).(*auditTrail); ok {
		t.mu.Lock()
		t.writes = append(t.writes, w)
		t.mu.Unlock()
	}
}

// audit writes one line per SCIM write request: who (token name, client IP),
// what (operation, resource, id), the LDAP writes it caused and the result.
func (s *Server) audit(c echo.Context, resource, op string, trail *auditTrail) {
	if op != "create" && op != "replace" && op != "patch" && op != "delete" {
		return
	}
	id := c.Param("id")
	if id == "" {
		id = path.Base(c.Response().Header().Get(echo.HeaderLocation))
	}
	tok, _ := c.Get("token").(string)
	arr := zerolog.Arr()
	trail.mu.Lock()
	for _, w := range trail.writes {
		d := zerolog.Dict().Str("ldap_op", w.Op).Str("dn", w.DN).Strs("attributes", w.Attributes).Bool("ok", w.Err == nil)
		if w.DryRun {
			d = d.Bool("dry_run", true)
		}
		arr = arr.Dict(d)
	}
	trail.mu.Unlock()
	s.opts.Audit.Info().Str("audit", "scim_write").Str("token", tok).Str("remote_ip", c.RealIP()).
		Str("request_id", requestID(c)).Str("scim_op", op).Str("resource", resource).Str("id", id).
		Int("status", c.Response().Status).Array("ldap_writes", arr).Msg("audit")
}
