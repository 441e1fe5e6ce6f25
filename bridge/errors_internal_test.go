package bridge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// code is a directory answer as the pool returns it: the *ldap.Error, with
// the operation around it.
func code(c uint16) error {
	return fmt.Errorf("ldap modify: %w", ldap.NewError(c, errors.New("diagnostic naming uid=secret,dc=example,dc=org")))
}

// classify is the one translation from what the pool returns to a scimerr:
// the pool's refusals and budget keep their words and become 503, result
// codes become their kind under the step's name, a scimerr a step made
// passes unchanged, and an error no directory step made stays as it is.
func TestClassify(t *testing.T) {
	taken := scimerr.Wrap(scimerr.Uniqueness, code(ldap.LDAPResultEntryAlreadyExists), "another user already has this userName")
	notDirectory := errors.New("filter does not compile")
	for _, c := range []struct {
		name   string
		err    error
		kind   scimerr.Kind
		detail string // "" when classify returns err itself
	}{
		{
			"busy", &poolError{kind: ErrBusy, msg: "all 4 directory connections are busy"},
			scimerr.Unavailable, "all 4 directory connections are busy, retry later",
		},
		{
			"busy, request gone", &poolError{kind: ErrBusy, msg: "the directory is busy", cause: context.Canceled},
			scimerr.Unavailable, "the directory is busy, retry later",
		},
		{
			"closed", &poolError{kind: ErrClosed, msg: "the directory connections are closing (reload or shutdown)"},
			scimerr.Unavailable, "the directory connections are closing (reload or shutdown), retry later",
		},
		{
			"down, in backoff", &poolError{kind: ErrDown, msg: "the directory is unavailable (next connection attempt in 400ms)"},
			scimerr.Unavailable, "the directory is unavailable (next connection attempt in 400ms), retry later",
		},
		// The bind's 49 is the cause, not the answer to the operation: 503, not 500.
		{
			"down, bind refused", failed("read user", &poolError{
				kind: ErrDown, msg: "the directory is unavailable",
				cause: fmt.Errorf("bind: %w", ldap.NewError(ldap.LDAPResultInvalidCredentials, errors.New("x"))),
			}),
			scimerr.Unavailable, "the directory is unavailable, retry later",
		},
		{
			"out of time before a write", failed("modify user", &budgetError{op: "modify", write: true, err: context.DeadlineExceeded}),
			scimerr.Unavailable, "the request ran out of time before its modify; nothing was written, retry later",
		},
		{
			"out of time before a read", failed("read user", &budgetError{op: "search", err: context.DeadlineExceeded}),
			scimerr.Unavailable, "the request ran out of time; retry later",
		},
		{"no such object", failed("read group", code(ldap.LDAPResultNoSuchObject)), scimerr.NotFound, "read group: not found"},
		{
			"entry exists", failed("create group", code(ldap.LDAPResultEntryAlreadyExists)),
			scimerr.Uniqueness, "create group: an entry with this name already exists",
		},
		{
			"syntax", failed("create user", code(ldap.LDAPResultInvalidAttributeSyntax)), scimerr.InvalidValue,
			"create user: the directory refused a value: a value does not have the syntax its LDAP attribute requires",
		},
		{
			"constraint", failed("modify user", code(ldap.LDAPResultConstraintViolation)), scimerr.InvalidValue,
			"modify user: the directory refused a value: a value breaks a directory constraint (size, uniqueness or a single-valued attribute)",
		},
		{
			"object class", failed("modify group", code(ldap.LDAPResultObjectClassViolation)), scimerr.InvalidValue,
			"modify group: the directory refused a value: the entry would break its object class rules (a required attribute missing or one not allowed)",
		},
		{
			"server busy", failed("read user", code(ldap.LDAPResultBusy)), scimerr.Unavailable,
			"read user: the directory is unavailable, retry later",
		},
		{
			"network", failed("read user", code(ldap.ErrorNetwork)), scimerr.Unavailable,
			"read user: the directory is unavailable, retry later",
		},
		{
			"unwilling", failed("delete user", code(ldap.LDAPResultUnwillingToPerform)), scimerr.Unavailable,
			"delete user: the directory is unavailable, retry later",
		},
		{
			"closed connection", failed("read user", fmt.Errorf("ldap search: %w", net.ErrClosed)), scimerr.Unavailable,
			"read user: the directory is unavailable, retry later",
		},
		{
			"assertion", failed("modify user", code(ldap.LDAPResultAssertionFailed)), scimerr.PreconditionFailed,
			"modify user: the resource changed (If-Match)",
		},
		{
			"children", failed("delete user", code(ldap.LDAPResultNotAllowedOnNonLeaf)), scimerr.Conflict,
			"delete user: the entry has entries below it (e.g. a device or mailbox object another tool created under it): " +
				"delete or move them first",
		},
		{
			"size limit", failed("list users", code(ldap.LDAPResultSizeLimitExceeded)), scimerr.TooMany,
			"list users: too many results, narrow the filter",
		},
		{"no access", failed("modify user", code(ldap.LDAPResultInsufficientAccessRights)), scimerr.Internal, "modify user failed"},
		{"a step's own scimerr", taken, scimerr.Uniqueness, ""},
		{"not the directory's", notDirectory, scimerr.Internal, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := classify(c.err)
			if c.detail == "" {
				if got != c.err {
					t.Fatalf("classify(%v) = %v, want it unchanged", c.err, got)
				}
				if k := scimerr.KindOf(got); k != c.kind {
					t.Errorf("kind %v, want %v", k, c.kind)
				}
				return
			}
			var se *scimerr.Error
			if !errors.As(got, &se) {
				t.Fatalf("classify(%v) = %v (%T), want a scimerr", c.err, got, got)
			}
			if se.Kind != c.kind || se.Detail != c.detail {
				t.Errorf("kind %v detail %q\nwant %v detail %q", se.Kind, se.Detail, c.kind, c.detail)
			}
			if !errors.Is(got, c.err) {
				t.Errorf("the cause %v is not kept for the log", c.err)
			}
			if classify(got) != got {
				t.Errorf("classifying twice changed %v", got)
			}
		})
	}
	if classify(nil) != nil {
		t.Error("classify(nil) is not nil")
	}
}

// The predicates see the directory's answer through the wrapping that steps
// and scimerrs add, and only the answers they name.
func TestPredicates(t *testing.T) {
	deep := func(c uint16) error {
		return scimerr.Wrap(scimerr.NotFound, failed("read group", code(c)), "the group entry vanished while the request ran")
	}
	for _, c := range []struct {
		name     string
		pred     func(error) bool
		yes, not []error
	}{
		{"noSuchEntry", noSuchEntry, []error{code(32), deep(32)}, []error{code(16), nil, errors.New("32")}},
		{"nameTaken", nameTaken, []error{code(68), failed("rename user", code(68))}, []error{code(20), code(19)}},
		{"valueGone", valueGone, []error{code(16), deep(16)}, []error{code(20), code(32)}},
		{"memberClash", memberClash, []error{code(20), code(16), code(68), code(53)}, []error{code(65), code(32), code(50)}},
		{"classViolated", classViolated, []error{code(65)}, []error{code(64), code(20)}},
		{"hasChildren", hasChildren, []error{code(66)}, []error{code(32)}},
		{"refused", refused, []error{code(50), code(53)}, []error{code(66), code(49)}},
		{"moreThanAsked", moreThanAsked, []error{code(4)}, []error{code(3), code(11)}},
		{"controlUnsupported", controlUnsupported, []error{code(12)}, []error{code(2)}},
		{"badCredentials", badCredentials, []error{code(49), fmt.Errorf("bind: %w", code(49))}, []error{code(50)}},
		{
			"connBroken", connBroken,
			[]error{
				code(ldap.ErrorNetwork), code(ldap.LDAPResultUnavailable), code(ldap.LDAPResultTimeout),
				code(ldap.LDAPResultServerDown), net.ErrClosed,
			},
			[]error{code(ldap.LDAPResultBusy), code(32), nil, &poolError{kind: ErrBusy, msg: "busy"}},
		},
	} {
		for _, err := range c.yes {
			if !c.pred(err) {
				t.Errorf("%s(%v) = false, want true", c.name, err)
			}
		}
		for _, err := range c.not {
			if c.pred(err) {
				t.Errorf("%s(%v) = true, want false", c.name, err)
			}
		}
	}
}

// ConnectionLost is "no answer": the pool's own refusals, a request out of
// time and a broken connection; never an answer of the directory.
func TestConnectionLost(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{&poolError{kind: ErrBusy, msg: "busy"}, true},
		{&poolError{kind: ErrClosed, msg: "closing"}, true},
		{&poolError{kind: ErrDown, msg: "down", cause: code(ldap.LDAPResultInvalidCredentials)}, true},
		{&budgetError{op: "search", err: context.DeadlineExceeded}, true},
		{code(ldap.ErrorNetwork), true},
		{code(ldap.LDAPResultNoSuchObject), false},
		{code(ldap.LDAPResultInsufficientAccessRights), false},
		{nil, false},
	} {
		if got := ConnectionLost(c.err); got != c.want {
			t.Errorf("ConnectionLost(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
