package config

// Directory presets: ldap.flavor fills what the admin left out with the
// directory's conventions. Anything set explicitly wins; a preset only fills
// empty keys, before the generic defaults run.

// adGlobalSecurity is groupType for a global security group
// (GROUP_TYPE_SECURITY_ENABLED | GROUP_TYPE_ACCOUNT_GROUP), as int32.
const adGlobalSecurity = "-2147483646"

func (c *Config) applyADPreset() {
	u := &c.Users
	def(&u.RDN, "cn")
	defList(&u.ObjectClasses, "top", "person", "organizationalPerson", "user")
	def(&u.IDAttribute, "objectGUID")
	// computer objects are users too in AD's schema.
	def(&u.Filter, "(&(objectClass=user)(!(objectClass=computer)))")
	def(&u.Disable.Method, "uac")
	if !hasDerive(u.Derive, "cn") {
		u.Derive = append(u.Derive, DeriveConfig{
			LDAP:     "cn",
			Template: `{{ coalesce .displayName (join " " .givenName .sn) (localpart .userPrincipalName) }}`,
		})
	}
	if !hasDerive(u.Derive, "sAMAccountName") {
		u.Derive = append(u.Derive, DeriveConfig{LDAP: "sAMAccountName", Template: `{{ samaccountname .userPrincipalName }}`})
	}
	if u.Password.Attribute == "" {
		u.Password.Attribute = "unicodePwd"
		if u.Password.RandomWhenMissing == nil {
			t := true
			u.Password.RandomWhenMissing = &t
		}
	}
	g := &c.Groups
	def(&g.RDN, "cn")
	defList(&g.ObjectClasses, "top", "group")
	def(&g.IDAttribute, "objectGUID")
	def(&g.MemberAttribute, "member")
	def(&g.Filter, "(objectClass=group)")
	if !constantFor(g.Constants, "groupType") {
		g.Constants = append(g.Constants, ConstantConfig{LDAP: "groupType", Value: adGlobalSecurity})
	}
}

func hasDerive(list []DeriveConfig, attr string) bool {
	for _, d := range list {
		if equalFold(d.LDAP, attr) {
			return true
		}
	}
	return false
}
