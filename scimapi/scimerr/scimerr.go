// Package scimerr is the vocabulary of failures shared by every layer: each kind is
// one SCIM error (RFC 7644 §3.12). Inner layers say what went wrong with a Kind and
// a client-safe Detail; scimapi turns a Kind into a status and scimType in one place
// (scimapi/errors.go). The wrapped Err carries the internal cause for the log only.
package scimerr

import (
	"errors"
	"fmt"
)

// Kind is what went wrong, from the client's point of view.
type Kind int

// The kinds. Their HTTP status and scimType are decided in scimapi/errors.go.
const (
	Internal           Kind = iota // 500, never with internal detail
	NotFound                       // 404
	Uniqueness                     // 409 uniqueness
	InvalidValue                   // 400 invalidValue
	InvalidPath                    // 400 invalidPath
	InvalidFilter                  // 400 invalidFilter
	InvalidSyntax                  // 400 invalidSyntax
	Mutability                     // 400 mutability
	NoTarget                       // 400 noTarget
	TooMany                        // 400 tooMany
	Unauthorized                   // 401
	PreconditionFailed             // 412
	PayloadTooLarge                // 413
	Unavailable                    // 503 with Retry-After
	NotImplemented                 // 501
	Forbidden                      // 403
	TooManyRequests                // 429 with Retry-After
	MethodNotAllowed               // 405 with Allow
	// Conflict clashes with the state of the resource in a way no scimType
	// of RFC 7644 names (uniqueness is for a taken name): e.g. a DELETE of an
	// entry that has entries below it.
	Conflict // 409 without scimType
)

// Error is a failure with a client-safe Detail.
type Error struct {
	Kind   Kind
	Detail string
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Detail + ": " + e.Err.Error()
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an Error of kind k with a formatted detail.
func New(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...)}
}

// Wrap returns an Error of kind k whose cause is err (logged, not sent).
func Wrap(k Kind, err error, format string, args ...any) *Error {
	return &Error{Kind: k, Detail: fmt.Sprintf(format, args...), Err: err}
}

// KindOf returns the kind of the first *Error in err's chain, Internal if none.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}
