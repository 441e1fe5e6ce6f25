package scimapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// Token is an accepted bearer token, known only by its SHA-256.
type Token struct {
	Name    string
	SHA256  [32]byte
	Expires time.Time // zero: never
}

// ParseTokenHash decodes the 64-hex-digit hash of a configured token.
func ParseTokenHash(s string) ([32]byte, error) {
	var h [32]byte
	b, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(b) != 32 {
		return h, fmt.Errorf("token hash must be 64 hex characters")
	}
	copy(h[:], b)
	return h, nil
}

// NewToken returns a fresh random token (256 bits, URL-safe) and its hash.
func NewToken() (token string, hash string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", err
	}
	token = "scb_" + hex.EncodeToString(b)
	sum := sha256.Sum256([]byte(token))
	return token, hex.EncodeToString(sum[:]), nil
}

// AuthObserver is told about each request refused at authentication, for
// metrics. An Observer may implement it; it is separate so that an Observer
// written before it still satisfies Observer.
type AuthObserver interface {
	// AuthRefused counts one refusal: rateLimited is true when the client
	// got 429 because its address failed too often, false for the 401 (or
	// 400) it would get otherwise.
	AuthRefused(rateLimited bool)
}

// authLimitedKey marks a request answered 429 by the failed-authentication
// limit; requestLog then logs it at debug level only.
const authLimitedKey = "auth_limited"

// authenticate checks "Authorization: Bearer <token>" (RFC 6750) against the
// configured hashes. Every configured hash is compared, in constant time, so the
// timing says nothing about which token nearly matched. A refusal goes through
// authFailed, which bounds refusals per client address.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		name, err := s.checkToken(c.Request())
		if err != nil {
			return s.authFailed(c, err)
		}
		c.Set("token", name)
		return next(c)
	}
}

// checkToken returns the name of the token r carries.
func (s *Server) checkToken(r *http.Request) (string, error) {
	hs := r.Header.Values(echo.HeaderAuthorization)
	if len(hs) > 1 {
		// Authorization is not a list (RFC 9110 §11.6.2): with two, which
		// one counts would depend on each proxy and library on the way, so
		// neither does.
		return "", scimerr.New(scimerr.InvalidSyntax, "more than one Authorization header")
	}
	var h string
	if len(hs) == 1 {
		h = hs[0]
	}
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", scimerr.New(scimerr.Unauthorized, "missing bearer token")
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(tok)))
	var match *Token
	for i := range s.opts.Tokens {
		t := &s.opts.Tokens[i]
		if subtle.ConstantTimeCompare(sum[:], t.SHA256[:]) == 1 {
			match = t
		}
	}
	if match == nil {
		return "", scimerr.New(scimerr.Unauthorized, "invalid bearer token")
	}
	if !match.Expires.IsZero() && s.opts.Now().After(match.Expires) {
		return "", scimerr.New(scimerr.Unauthorized, "bearer token expired")
	}
	return match.Name, nil
}

// authFailed answers a refused authentication: err (401, or 400 for two
// Authorization headers) while the client's address is within
// server.auth_failures, 429 with Retry-After beyond it. Only failures are
// counted, so a client with a valid token is never held back, even one that
// shares its address with a flood (Entra's outbound ranges are shared).
func (s *Server) authFailed(c echo.Context, err error) error {
	ao, _ := s.opts.Observer.(AuthObserver)
	if s.authFails == nil {
		if ao != nil {
			ao.AuthRefused(false)
		}
		return err
	}
	ip := c.RealIP()
	wait, first := s.authFails.take(clientKey(ip), s.opts.Now())
	if wait == 0 {
		if ao != nil {
			ao.AuthRefused(false)
		}
		return err
	}
	if ao != nil {
		ao.AuthRefused(true)
	}
	c.Set(authLimitedKey, true)
	if first {
		// One line per episode: the refusals themselves are logged at debug
		// level, so that a flood does not fill the log.
		s.opts.Log.Warn().Str("remote_ip", clip(ip)).Int("per_minute", s.opts.AuthFailuresPerMinute).
			Msg("too many failed authentications from this address: answering 429 until it slows down; " +
				"further refusals are counted in scimbridge_auth_failures_total and logged at debug level")
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
	return scimerr.New(scimerr.TooManyRequests, "too many failed authentications from this address, retry later")
}

// clientKey is what failed authentications are counted by: the address, or
// for IPv6 its /64, which one host usually has whole.
func clientKey(ip string) string {
	a := net.ParseIP(ip)
	switch {
	case a == nil:
		return clip(ip)
	case a.To4() == nil:
		return a.Mask(net.CIDRMask(64, 128)).String() + "/64"
	default:
		return a.String()
	}
}

// failureLimiter is a token bucket of failed authentications per client key.
// Buckets that have filled up again are dropped once a minute, so the table
// holds only the clients that failed recently; when it is full anyway (a
// flood from very many addresses), new addresses share one bucket.
type failureLimiter struct {
	mu      sync.Mutex
	every   rate.Limit
	burst   int
	clients map[string]*failBucket
	swept   time.Time
}

type failBucket struct {
	lim    *rate.Limiter
	warned bool
}

// maxFailureClients bounds the table of failureLimiter (about 100 bytes each).
const maxFailureClients = 1 << 16

// overflowKey is the bucket shared by new addresses while the table is full.
const overflowKey = "\x00overflow"

func newFailureLimiter(perMinute, burst int) *failureLimiter {
	return &failureLimiter{
		every: rate.Limit(float64(perMinute) / 60), burst: max(burst, 1),
		clients: map[string]*failBucket{},
	}
}

// take counts one failed authentication from key at now. wait is how long
// the client should wait when it is over its allowance, 0 when within it;
// first is true for the first refusal since its bucket was last full.
func (l *failureLimiter) take(key string, now time.Time) (wait time.Duration, first bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.clients {
			if b.lim.TokensAt(now) >= float64(l.burst) {
				delete(l.clients, k)
			}
		}
		l.swept = now
	}
	b := l.clients[key]
	if b == nil {
		if len(l.clients) >= maxFailureClients {
			key = overflowKey
			b = l.clients[key]
		}
		if b == nil {
			b = &failBucket{lim: rate.NewLimiter(l.every, l.burst)}
			l.clients[key] = b
		}
	}
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		first = !b.warned
		b.warned = true
		return d, first
	}
	return 0, false
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
