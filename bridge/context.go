package bridge

import (
	"context"
	"errors"

	"github.com/go-ldap/ldap/v3"
)

type ctxKey int

const requestIDKey ctxKey = 0

// WithRequestID returns ctx carrying the HTTP request id, so LDAP write logs can
// be joined to the request log line.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// RequestID returns the request id carried by ctx, "" if none.
func RequestID(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

func asLDAP(err error, target **ldap.Error) bool { return errors.As(err, target) }
