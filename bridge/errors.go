package bridge

import (
	"errors"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

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

// classify turns an LDAP failure into a scimerr kind. It is the only place that
// reads LDAP result codes for the client's sake; the message the client sees is
// generic and holds no DN and no directory diagnostic, the LDAP error stays in
// the wrapped cause for the log.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	var se *scimerr.Error
	if errors.As(err, &se) {
		return err
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
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

func isCode(err error, codes ...uint16) bool { return ldap.IsErrorAnyOf(err, codes...) }
