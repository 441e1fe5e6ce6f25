package bridge

import (
	"context"
	"errors"
	"net"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// Errors inside bridge are the directory's (*ldap.Error, from the pool) or
// the pool's own (ErrBusy, ErrDown, ErrClosed, a request out of time), named
// by the step that failed (failed). Each exported use case turns them into a
// scimerr once, on its way out to scimapi (atEdge, classify); inside, code
// branches on what the directory said through the predicates below, so that
// this file is the one place in bridge that reads LDAP result codes.

// refusals are the client-facing words for the LDAP result codes that mean
// "the directory refused a value". The directory's own diagnostic (which
// names attributes, DNs and server internals, and differs between servers
// and versions) stays in the wrapped cause: the "ldap write" log line has it
// with the request id. The detail the client gets is one of these, so it is
// stable and documented (docs/configuration.md §10, "What is logged").
var refusals = map[uint16]string{
	ldap.LDAPResultConstraintViolation:    "a value breaks a directory constraint (size, uniqueness or a single-valued attribute)",
	ldap.LDAPResultInvalidAttributeSyntax: "a value does not have the syntax its LDAP attribute requires",
	ldap.LDAPResultObjectClassViolation:   "the entry would break its object class rules (a required attribute missing or one not allowed)",
	ldap.LDAPResultUndefinedAttributeType: "an LDAP attribute of the mapping is not in the directory's schema (scimbridge validate names it)",
	ldap.LDAPResultNamingViolation:        "the value that names the entry is not allowed",
	ldap.LDAPResultInvalidDNSyntax:        "the value that names the entry is not allowed",
	ldap.LDAPResultNotAllowedOnRDN:        "the value that names the entry cannot be changed this way",
	ldap.LDAPResultAttributeOrValueExists: "a value to add is already present",
	ldap.LDAPResultNoSuchAttribute:        "a value to remove is not present",
}

// stepError is a failed LDAP step of a use case. what names the step ("read
// user") in the detail the client gets, which therefore says which step
// failed without quoting the directory.
type stepError struct {
	what string
	err  error
}

func (e *stepError) Error() string { return e.what + ": " + e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

// failed names the step whose directory error err is; nil stays nil.
func failed(what string, err error) error {
	if err == nil {
		return nil
	}
	return &stepError{what: what, err: err}
}

// atEdge classifies *err. Every exported use case defers it, so what leaves
// bridge for scimapi is a scimerr (or an error no step of the directory
// made, answered 500), and nothing inside has to undo a classification.
//
// Right after a failover, "not found" is not believed: the entry may be
// among the failed server's last writes, which reach this server only when
// that one is back. Entra retries a 503 but drops its record of the
// resource on a 404, so the window (ldap.failover.not_found_window) answers
// 503.
func atEdge(ctx context.Context, err *error) {
	*err = classify(*err)
	var se *scimerr.Error
	if errors.As(*err, &se) && se.Kind == scimerr.NotFound {
		if doubt := missingSinceSwitch(ctx, se.Detail, *err); doubt != nil {
			*err = doubt
		}
	}
}

// classify turns the failure of a use case into a scimerr kind. It is the
// only place that reads LDAP result codes and the pool's errors for the
// client's sake: the detail is generic and holds no DN and no directory
// diagnostic, the LDAP error stays in the wrapped cause for the log. A
// scimerr is passed on as it is: a step that branched on the directory's
// answer (a taken name, a vanished group) already said what it means.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var se *scimerr.Error
	if errors.As(err, &se) {
		return err
	}
	// The pool's own refusals carry their client-safe words: how many
	// connections, when the next attempt is due, whether anything was written.
	var pe *poolError
	if errors.As(err, &pe) {
		return scimerr.Wrap(scimerr.Unavailable, err, "%s, retry later", pe.msg)
	}
	var be *budgetError
	if errors.As(err, &be) {
		if be.write {
			return scimerr.Wrap(scimerr.Unavailable, err, "the request ran out of time before its %s; nothing was written, retry later", be.op)
		}
		return scimerr.Wrap(scimerr.Unavailable, err, "the request ran out of time; retry later")
	}
	var st *stepError
	if !errors.As(err, &st) {
		return err // not from the directory (a filter that does not compile): 500
	}
	what := st.what
	var le *ldap.Error
	if !errors.As(err, &le) {
		// A connection closed under the operation (net.ErrClosed) and the like.
		return scimerr.Wrap(scimerr.Unavailable, err, "%s: the directory is unavailable, retry later", what)
	}
	if why, ok := refusals[le.ResultCode]; ok {
		return scimerr.Wrap(scimerr.InvalidValue, err, "%s: the directory refused a value: %s", what, why)
	}
	switch le.ResultCode {
	case ldap.LDAPResultNoSuchObject:
		return scimerr.Wrap(scimerr.NotFound, err, "%s: not found", what)
	case ldap.LDAPResultEntryAlreadyExists:
		return scimerr.Wrap(scimerr.Uniqueness, err, "%s: an entry with this name already exists", what)
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultTimeLimitExceeded,
		ldap.LDAPResultTimeout, ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultConnectError,
		ldap.LDAPResultUnwillingToPerform:
		return scimerr.Wrap(scimerr.Unavailable, err, "%s: the directory is unavailable, retry later", what)
	case ldap.LDAPResultAssertionFailed:
		return scimerr.Wrap(scimerr.PreconditionFailed, err, "%s: the resource changed (If-Match)", what)
	case ldap.LDAPResultNotAllowedOnNonLeaf:
		// Another tool's entries below a user or group (removeEntry).
		return scimerr.Wrap(scimerr.Conflict, err, "%s: the entry has entries below it (e.g. a device or mailbox "+
			"object another tool created under it): delete or move them first", what)
	case ldap.LDAPResultSizeLimitExceeded:
		return scimerr.Wrap(scimerr.TooMany, err, "%s: too many results, narrow the filter", what)
	}
	return scimerr.Wrap(scimerr.Internal, err, "%s failed", what)
}

// The predicates the use cases branch on: what an answer means, not its number.

// noSuchEntry: the entry named (or the base of a search) does not exist.
func noSuchEntry(err error) bool { return isCode(err, ldap.LDAPResultNoSuchObject) }

// nameTaken: another entry already has the DN an add or rename asks for.
func nameTaken(err error) bool { return isCode(err, ldap.LDAPResultEntryAlreadyExists) }

// constraintViolated: AD's answer to an add whose userPrincipalName is taken.
func constraintViolated(err error) bool { return isCode(err, ldap.LDAPResultConstraintViolation) }

// valueGone: a value the modify deletes is not there (any more), so the
// entry changed since it was read and nothing of the modify was written.
func valueGone(err error) bool { return isCode(err, ldap.LDAPResultNoSuchAttribute) }

// memberClash: a member add or delete was refused because the value is
// already there or already gone: OpenLDAP says 20 or 16, AD without the
// permissive modify control 68 or 53.
func memberClash(err error) bool {
	return isCode(err, ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultNoSuchAttribute,
		ldap.LDAPResultEntryAlreadyExists, ldap.LDAPResultUnwillingToPerform)
}

// classViolated: the entry would break its object class rules (e.g. a group
// class that requires a member would lose its last one).
func classViolated(err error) bool { return isCode(err, ldap.LDAPResultObjectClassViolation) }

// hasChildren: a delete of an entry with entries below it.
func hasChildren(err error) bool { return isCode(err, ldap.LDAPResultNotAllowedOnNonLeaf) }

// refused: the directory will not do it for this bind account (no right, or
// a protected object), which a retry does not change.
func refused(err error) bool {
	return isCode(err, ldap.LDAPResultInsufficientAccessRights, ldap.LDAPResultUnwillingToPerform)
}

// moreThanAsked: a search found more entries than its size limit.
func moreThanAsked(err error) bool { return isCode(err, ldap.LDAPResultSizeLimitExceeded) }

// controlUnsupported: the directory does not know a critical control.
func controlUnsupported(err error) bool {
	return isCode(err, ldap.LDAPResultUnavailableCriticalExtension)
}

// badCredentials: the bind was refused for its DN or password.
func badCredentials(err error) bool { return isCode(err, ldap.LDAPResultInvalidCredentials) }

// connBroken tells whether err means the connection itself is broken, so it
// is dropped and a read may be tried again on another.
func connBroken(err error) bool {
	if err == nil {
		return false
	}
	return isCode(err, ldap.ErrorNetwork, ldap.LDAPResultTimeout, ldap.LDAPResultUnavailable,
		ldap.LDAPResultServerDown) || errors.Is(err, net.ErrClosed)
}

func isCode(err error, codes ...uint16) bool { return ldap.IsErrorAnyOf(err, codes...) }
