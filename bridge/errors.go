package bridge

import (
	"errors"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// classify turns an LDAP failure into a scimerr kind. It is the only place that
// reads LDAP result codes for the client's sake; the message the client sees is
// generic, the LDAP error stays in the wrapped cause for the log.
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
	switch le.ResultCode {
	case ldap.LDAPResultNoSuchObject:
		return scimerr.Wrap(scimerr.NotFound, err, "%s: not found", what)
	case ldap.LDAPResultEntryAlreadyExists:
		return scimerr.Wrap(scimerr.Uniqueness, err, "%s: an entry with this name already exists", what)
	case ldap.LDAPResultConstraintViolation, ldap.LDAPResultInvalidAttributeSyntax,
		ldap.LDAPResultObjectClassViolation, ldap.LDAPResultUndefinedAttributeType,
		ldap.LDAPResultNamingViolation, ldap.LDAPResultInvalidDNSyntax, ldap.LDAPResultNotAllowedOnRDN,
		ldap.LDAPResultAttributeOrValueExists, ldap.LDAPResultNoSuchAttribute:
		return scimerr.Wrap(scimerr.InvalidValue, err, "%s: the directory refused a value: %s", what, le.Err.Error())
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable, ldap.LDAPResultTimeLimitExceeded,
		ldap.LDAPResultTimeout, ldap.ErrorNetwork, ldap.LDAPResultServerDown, ldap.LDAPResultConnectError,
		ldap.LDAPResultUnwillingToPerform:
		return scimerr.Wrap(scimerr.Unavailable, err, "%s: the directory is unavailable, retry later", what)
	case ldap.LDAPResultAssertionFailed:
		return scimerr.Wrap(scimerr.PreconditionFailed, err, "%s: the resource changed (If-Match)", what)
	case ldap.LDAPResultSizeLimitExceeded:
		return scimerr.Wrap(scimerr.TooMany, err, "%s: too many results, narrow the filter", what)
	}
	return scimerr.Wrap(scimerr.Internal, err, "%s failed", what)
}

func isCode(err error, codes ...uint16) bool { return ldap.IsErrorAnyOf(err, codes...) }
