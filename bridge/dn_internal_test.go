package bridge

import "testing"

// DNs as a directory or an admin writes them: spaces after commas and
// escaped commas must not shift where the RDN ends (a cut on the string
// turned "uid=a, ou=people,dc=x" into the RDN "uid=a,").
func TestSplitDN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ dn, rdn, parent string }{
		{"uid=a,ou=people,dc=x", "uid=a", "ou=people,dc=x"},
		{"uid=a, ou=people, dc=x", "uid=a", "ou=people,dc=x"},
		{`cn=Doe\, Jane,OU=People,DC=x`, `cn=Doe\, Jane`, "ou=People,dc=x"},
		{"CN=Jane Doe (2),OU=Users,DC=lab", "cn=Jane Doe (2)", "ou=Users,dc=lab"},
		{"dc=x", "", ""},
		{"not a dn", "", ""},
	} {
		rdn, parent := splitDN(tc.dn)
		if rdn != tc.rdn || parent != tc.parent {
			t.Errorf("splitDN(%q) = %q, %q; want %q, %q", tc.dn, rdn, parent, tc.rdn, tc.parent)
		}
	}
}
