package scimapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// SchemaError is the schema of a SCIM error body (RFC 7644 §3.12).
const SchemaError = "urn:ietf:params:scim:api:messages:2.0:Error"

// retryAfterSeconds is sent with 503 so Entra retries the request instead of
// counting it as a failure of the object (docs/entra-wire-reference.md §5).
const retryAfterSeconds = 30

// kinds is the one table from failure kind to HTTP status and scimType.
var kinds = map[scimerr.Kind]struct {
	status   int
	scimType string
}{
	scimerr.Internal:           {http.StatusInternalServerError, ""},
	scimerr.NotFound:           {http.StatusNotFound, ""},
	scimerr.Uniqueness:         {http.StatusConflict, "uniqueness"},
	scimerr.InvalidValue:       {http.StatusBadRequest, "invalidValue"},
	scimerr.InvalidPath:        {http.StatusBadRequest, "invalidPath"},
	scimerr.InvalidFilter:      {http.StatusBadRequest, "invalidFilter"},
	scimerr.InvalidSyntax:      {http.StatusBadRequest, "invalidSyntax"},
	scimerr.Mutability:         {http.StatusBadRequest, "mutability"},
	scimerr.NoTarget:           {http.StatusBadRequest, "noTarget"},
	scimerr.TooMany:            {http.StatusBadRequest, "tooMany"},
	scimerr.Unauthorized:       {http.StatusUnauthorized, ""},
	scimerr.PreconditionFailed: {http.StatusPreconditionFailed, ""},
	scimerr.PayloadTooLarge:    {http.StatusRequestEntityTooLarge, ""},
	scimerr.Unavailable:        {http.StatusServiceUnavailable, ""},
	scimerr.NotImplemented:     {http.StatusNotImplemented, ""},
	scimerr.Forbidden:          {http.StatusForbidden, ""},
	scimerr.TooManyRequests:    {http.StatusTooManyRequests, ""},
	scimerr.MethodNotAllowed:   {http.StatusMethodNotAllowed, ""},
	scimerr.Conflict:           {http.StatusConflict, ""},
}

// handleError is Echo's error handler: every failure leaves as a SCIM error
// body. Internal causes are logged with the request id, never sent.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	kind, detail := scimerr.Internal, "internal error; see the bridge's log for request "+requestID(c)
	var se *scimerr.Error
	var he *echo.HTTPError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		kind = se.Kind
		if kind != scimerr.Internal {
			detail = se.Detail
		}
	case errors.As(err, &mbe):
		kind, detail = scimerr.PayloadTooLarge, errTooLarge(s.opts.MaxBodyBytes).Detail
	case errors.As(err, &he):
		switch he.Code {
		case http.StatusNotFound:
			kind, detail = scimerr.NotFound, "no such endpoint: "+clip(c.Request().URL.Path)
		case http.StatusMethodNotAllowed:
			// echo's own 405 (its router sets Allow); the routes of this
			// package answer 405 themselves, see methodNotAllowed.
			kind, detail = scimerr.MethodNotAllowed, "method "+clip(c.Request().Method)+" is not allowed on "+clip(c.Request().URL.Path)
		case http.StatusRequestEntityTooLarge:
			kind, detail = scimerr.PayloadTooLarge, errTooLarge(s.opts.MaxBodyBytes).Detail
		default:
			s.writeError(c, he.Code, "", http.StatusText(he.Code))
			return
		}
	}
	k := kinds[kind]
	ev := s.opts.Log.Debug()
	if k.status >= 500 {
		ev = s.opts.Log.Error()
	}
	// The whole error, cause included, for the operator; bounded, since a
	// detail may quote a client's id or filter.
	ev.Str(zerolog.ErrorFieldName, clipError(err)).Str("request_id", requestID(c)).Int("status", k.status).Msg("request failed")
	switch kind {
	case scimerr.Unavailable:
		c.Response().Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	case scimerr.Unauthorized:
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="scimbridge"`)
	}
	s.writeError(c, k.status, k.scimType, detail)
}

func (s *Server) writeError(c echo.Context, status int, scimType, detail string) {
	body := map[string]any{
		"schemas": []string{SchemaError},
		"status":  strconv.Itoa(status),
		"detail":  detail,
	}
	if scimType != "" {
		body["scimType"] = scimType
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = writeJSON(c, status, body)
}

func errTooLarge(limit int64) *scimerr.Error {
	return scimerr.New(scimerr.PayloadTooLarge, "request body larger than %d bytes", limit)
}

// maxLoggedError bounds an error in the log: enough for any directory
// diagnostic, not for an id of 60 KB quoted in a detail.
const maxLoggedError = 1024

func clipError(err error) string { return clipTo(err.Error(), maxLoggedError) }

func requestID(c echo.Context) string {
	s, _ := c.Get("request_id").(string)
	return s
}
