package ldapmap

import (
	"strconv"
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
	// Create returns the attribute values for a new entry.
	Create(disabled bool) []ldap.Attribute
}

// changesAsAttributes turns the changes that disable an entry into the values
// to add with it.
func changesAsAttributes(cs []ldap.Change) []ldap.Attribute {
	out := make([]ldap.Attribute, 0, len(cs))
	for _, c := range cs {
		out = append(out, ldap.Attribute{Type: c.Modification.Type, Vals: c.Modification.Vals})
	}
	return out
}

// newDisabler builds the strategy of c.Method; an unknown method, which
// DisableConfig.Problems reports, disables nothing.
func newDisabler(c config.DisableConfig) Disabler {
	switch c.Method {
	case config.DisablePPolicy:
		return ppolicy{}
	case config.DisableAttribute:
		return attrDisabler{attr: c.Attribute, disabled: c.DisabledValue, enabled: c.EnabledValue}
	case config.DisableUAC:
		return uacDisabler{}
	}
	return noDisable{}
}

// ppolicy locks the account with the OpenLDAP ppolicy overlay. The value
// 000001010000Z means "locked by an administrator, until unlocked". It only
// blocks binds when the entry's password policy has pwdLockout: TRUE (see
// docs/configuration.md): slapd stores the attribute either way.
//
// That value is the bridge's own lock, and the only one it reads or removes.
// ppolicy writes the time of a lockout after pwdMaxFailure failed binds, and
// admins lock accounts the same way: those are security lockouts, not
// active=false. Were they read as inactive, Entra would send active=true on
// its next cycle and the enable would unlock an account under attack.
type ppolicy struct{}

const lockedForever = "000001010000Z"

func (ppolicy) Method() string       { return "ppolicy" }
func (ppolicy) Attributes() []string { return []string{"pwdAccountLockedTime"} }
func (ppolicy) Disabled(e *ldap.Entry) bool {
	for _, v := range e.GetEqualFoldAttributeValues("pwdAccountLockedTime") {
		if v == lockedForever {
			return true
		}
	}
	return false
}

func (p ppolicy) Changes(e *ldap.Entry, active bool) []ldap.Change {
	if active {
		if e == nil || !p.Disabled(e) {
			return nil
		}
		// Delete that one value, not the attribute: a lockout written since
		// the entry was read (by ppolicy or an admin) replaces the value, and
		// then the delete fails (noSuchAttribute) instead of unlocking it.
		return []ldap.Change{{
			Operation:    ldap.DeleteAttribute,
			Modification: ldap.PartialAttribute{Type: "pwdAccountLockedTime", Vals: []string{lockedForever}},
		}}
	}
	// The attribute is single-valued: a security lockout present now is
	// replaced by the permanent lock, which locks at least as long. An enable
	// later removes both (documented in docs/configuration.md §5).
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
	return []ldap.Change{{
		Operation:    ldap.DeleteAttribute,
		Modification: ldap.PartialAttribute{Type: a.attr, Vals: []string{}},
	}}
}

// noDisable is for directories where the bridge must not write any lock: every
// user reads as active and active=false is accepted and ignored.
type noDisable struct{}

func (noDisable) Method() string                          { return "none" }
func (noDisable) Create(bool) []ldap.Attribute            { return nil }
func (noDisable) Attributes() []string                    { return nil }
func (noDisable) Disabled(*ldap.Entry) bool               { return false }
func (noDisable) Changes(*ldap.Entry, bool) []ldap.Change { return nil }

func (p ppolicy) Create(disabled bool) []ldap.Attribute {
	if !disabled {
		return nil
	}
	return changesAsAttributes(p.Changes(nil, false))
}

func (a attrDisabler) Create(disabled bool) []ldap.Attribute {
	return changesAsAttributes(a.Changes(nil, !disabled))
}

// uacDisabler is Active Directory's ACCOUNTDISABLE bit (0x2) of
// userAccountControl. The other bits (password rules, delegation, smartcard)
// belong to the domain's admins: the bridge reads the value, flips only that
// bit and writes it as a compare-and-swap (delete the value read, add the new
// one, in one modify), so a concurrent change is never overwritten.
type uacDisabler struct{}

const (
	uacAccountDisable = 0x2
	uacNormalAccount  = 0x200
)

func (uacDisabler) Method() string       { return "uac" }
func (uacDisabler) Attributes() []string { return []string{"userAccountControl"} }
func (uacDisabler) Disabled(e *ldap.Entry) bool {
	v, err := strconv.ParseInt(e.GetEqualFoldAttributeValue("userAccountControl"), 10, 64)
	return err == nil && v&uacAccountDisable != 0
}

func (uacDisabler) Changes(e *ldap.Entry, active bool) []ldap.Change {
	if e == nil {
		return nil
	}
	cur := e.GetEqualFoldAttributeValue("userAccountControl")
	v, err := strconv.ParseInt(cur, 10, 64)
	if err != nil {
		return nil
	}
	next := v | uacAccountDisable
	if active {
		next = v &^ uacAccountDisable
	}
	if next == v {
		return nil
	}
	return []ldap.Change{
		{Operation: ldap.DeleteAttribute, Modification: ldap.PartialAttribute{Type: "userAccountControl", Vals: []string{cur}}},
		{Operation: ldap.AddAttribute, Modification: ldap.PartialAttribute{
			Type: "userAccountControl",
			Vals: []string{strconv.FormatInt(next, 10)},
		}},
	}
}

// Create makes new users disabled normal accounts: Windows refuses an enabled
// account without a password under the default policy, so the bridge adds the
// user disabled (with its password) and enables it in a second step.
func (uacDisabler) Create(bool) []ldap.Attribute {
	return []ldap.Attribute{{Type: "userAccountControl", Vals: []string{strconv.Itoa(uacNormalAccount | uacAccountDisable)}}}
}
