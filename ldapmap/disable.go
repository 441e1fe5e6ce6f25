package ldapmap

import (
	"fmt"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
)

// Disabler writes and reads SCIM active=false in the directory's own terms.
type Disabler interface {
	// Attributes are the LDAP attributes to read to know the state.
	Attributes() []string
	// Disabled reports the state of an entry.
	Disabled(e *ldap.Entry) bool
	// Changes returns the modifications that make e active or not; e is nil
	// for an entry being added (then the changes are attribute values to add).
	Changes(e *ldap.Entry, active bool) []ldap.Change
	// Method names the strategy for messages and docs.
	Method() string
}

func newDisabler(c config.DisableConfig) (Disabler, error) {
	switch c.Method {
	case "ppolicy":
		return ppolicy{}, nil
	case "attribute":
		return attrDisabler{attr: c.Attribute, disabled: c.DisabledValue, enabled: c.EnabledValue}, nil
	case "none", "":
		return noDisable{}, nil
	}
	return noDisable{}, fmt.Errorf("unknown method %q", c.Method)
}

// ppolicy locks the account with the OpenLDAP ppolicy overlay. The value
// 000001010000Z means "locked by an administrator, until unlocked". It only
// blocks binds when the entry's password policy has pwdLockout: TRUE (see
// docs/configuration.md): slapd stores the attribute either way.
type ppolicy struct{}

const lockedForever = "000001010000Z"

func (ppolicy) Method() string       { return "ppolicy" }
func (ppolicy) Attributes() []string { return []string{"pwdAccountLockedTime"} }
func (ppolicy) Disabled(e *ldap.Entry) bool {
	return e.GetEqualFoldAttributeValue("pwdAccountLockedTime") != ""
}

func (p ppolicy) Changes(e *ldap.Entry, active bool) []ldap.Change {
	if active {
		if e == nil || !p.Disabled(e) {
			return nil
		}
		return []ldap.Change{{Operation: ldap.DeleteAttribute,
			Modification: ldap.PartialAttribute{Type: "pwdAccountLockedTime", Vals: []string{}}}}
	}
	return []ldap.Change{replace("pwdAccountLockedTime", lockedForever)}
}

// attrDisabler sets an attribute to a configured value, for directories without
// ppolicy (a login filter on the consuming side checks it).
type attrDisabler struct{ attr, disabled, enabled string }

func (a attrDisabler) Method() string       { return "attribute" }
func (a attrDisabler) Attributes() []string { return []string{a.attr} }
func (a attrDisabler) Disabled(e *ldap.Entry) bool {
	for _, v := range e.GetEqualFoldAttributeValues(a.attr) {
		if strings.EqualFold(v, a.disabled) {
			return true
		}
	}
	return false
}

func (a attrDisabler) Changes(e *ldap.Entry, active bool) []ldap.Change {
	if !active {
		return []ldap.Change{replace(a.attr, a.disabled)}
	}
	if a.enabled != "" {
		return []ldap.Change{replace(a.attr, a.enabled)}
	}
	if e == nil || e.GetEqualFoldAttributeValue(a.attr) == "" {
		return nil
	}
	return []ldap.Change{{Operation: ldap.DeleteAttribute,
		Modification: ldap.PartialAttribute{Type: a.attr, Vals: []string{}}}}
}

// noDisable is for directories where the bridge must not write any lock: every
// user reads as active and active=false is accepted and ignored.
type noDisable struct{}

func (noDisable) Method() string                          { return "none" }
func (noDisable) Attributes() []string                    { return nil }
func (noDisable) Disabled(*ldap.Entry) bool               { return false }
func (noDisable) Changes(*ldap.Entry, bool) []ldap.Change { return nil }
