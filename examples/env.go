package examples

// Target is where a run of examples/openldap.yaml points: its connection,
// base DNs and token hash, which the file leaves to the environment or to a
// site's own values.
type Target struct {
	URL, BindDN, BindPassword string
	UsersBaseDN, GroupsBaseDN string
	TokenSHA256               string
}

// OpenLDAPEnv is the environment that points examples/openldap.yaml at t the
// way its header documents (LDAP_BIND_PASSWORD, SCIMBRIDGE_TOKEN_SHA256, and
// SCIMBRIDGE_<SECTION>__<KEY> for the rest): how the tests, the end-to-end
// tier and scimbench run the file an admin starts from.
func OpenLDAPEnv(t Target) []string {
	return []string{
		"LDAP_BIND_PASSWORD=" + t.BindPassword,
		"SCIMBRIDGE_TOKEN_SHA256=" + t.TokenSHA256,
		"SCIMBRIDGE_LDAP__URL=" + t.URL,
		"SCIMBRIDGE_LDAP__BIND_DN=" + t.BindDN,
		"SCIMBRIDGE_USERS__BASE_DN=" + t.UsersBaseDN,
		"SCIMBRIDGE_GROUPS__BASE_DN=" + t.GroupsBaseDN,
	}
}
