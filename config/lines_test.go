package config

import "testing"

func TestLineFinder(t *testing.T) {
	f := NewLineFinder([]byte(`server:
  listen: 127.0.0.1:8080
users:
  base_dn: ou=people,dc=example,dc=org
  attributes:
    - { scim: userName, ldap: uid }
    - scim: displayNme
      ldap: displayName
`))
	for path, want := range map[string]int{
		"server.listen":            2,
		"users.base_dn":            4,
		"users.attributes[0].ldap": 6,
		"users.attributes[1].scim": 7,
		"users.attributes[1].ldap": 8,
		"users.attributes[5].ldap": 6, // missing element: where its list starts
		"users.rdn":                4, // missing key: where its section starts
		"ldap.url":                 0, // missing section
	} {
		if got := f.Line(path); got != want {
			t.Errorf("%s: line %d, want %d", path, got, want)
		}
	}
	if NewLineFinder([]byte("::: not yaml [")).Line("a.b") != 0 {
		t.Error("broken YAML found a line")
	}
}
