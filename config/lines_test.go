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

func TestPlace(t *testing.T) {
	f := NewLineFinder([]byte("server:\n  listen: x\nusers:\n  rdn: uid\n"))
	for _, tc := range []struct {
		name string
		in   Problem
		want int
	}{
		{"found", Problem{Path: "users.rdn"}, 4},
		{"has a line", Problem{Path: "users.rdn", Line: 9}, 9},
		{"from the environment", Problem{Path: "users.rdn", Origin: "SCIMBRIDGE_USERS__RDN"}, 0},
		{"missing key", Problem{Path: "server.base_path"}, 2}, // where its section starts
	} {
		if got := f.Place(tc.in).Line; got != tc.want {
			t.Errorf("%s: line %d, want %d", tc.name, got, tc.want)
		}
	}
	var none *LineFinder
	if got := none.Place(Problem{Path: "users.rdn"}).Line; got != 0 {
		t.Errorf("nil finder: line %d", got)
	}
}
