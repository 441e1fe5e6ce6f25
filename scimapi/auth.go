package scimapi

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

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

// authenticate checks "Authorization: Bearer <token>" (RFC 6750) against the
// configured hashes. Every configured hash is compared, in constant time, so the
// timing says nothing about which token nearly matched.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hs := c.Request().Header.Values(echo.HeaderAuthorization)
		if len(hs) > 1 {
			// Authorization is not a list (RFC 9110 §11.6.2): with two, which
			// one counts would depend on each proxy and library on the way, so
			// neither does.
			return scimerr.New(scimerr.InvalidSyntax, "more than one Authorization header")
		}
		var h string
		if len(hs) == 1 {
			h = hs[0]
		}
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return scimerr.New(scimerr.Unauthorized, "missing bearer token")
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
			return scimerr.New(scimerr.Unauthorized, "invalid bearer token")
		}
		if !match.Expires.IsZero() && s.opts.Now().After(match.Expires) {
			return scimerr.New(scimerr.Unauthorized, "bearer token expired")
		}
		c.Set("token", match.Name)
		return next(c)
	}
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
