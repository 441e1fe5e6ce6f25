package bridge_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
)

// App roles (users.roles) against slapd: Entra's two role mappings, in both
// PATCH dialects, become the role attribute and membership of existing role
// groups that lie outside groups.base_dn.

// roleHarness is the example bridge with users.roles set to two role groups
// under ou=roles of the test's namespace (not under groups.base_dn).
func roleHarness(t *testing.T, mutate func(*config.RolesConfig)) (h *harness, admins, readers string) {
	t.Helper()
	h = newHarness(t, nil)
	ou := "ou=roles," + h.NS.DN
	add := ldap.NewAddRequest(ou, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	add.Attribute("ou", []string{"roles"})
	if err := h.LDAP.Add(add); err != nil {
		t.Fatal(err)
	}
	admins, readers = "cn=app-admins,"+ou, "cn=app-readers,"+ou
	for _, dn := range []string{admins, readers} {
		g := ldap.NewAddRequest(dn, nil)
		g.Attribute("objectClass", []string{"groupOfNames"})
		g.Attribute("member", []string{h.Cfg.Groups.EmptyMember})
		if err := h.LDAP.Add(g); err != nil {
			t.Fatal(err)
		}
	}
	h = rebuildWith(t, h, func(c *config.Config) {
		c.Users.Roles = config.RolesConfig{
			Attribute: "employeeType", Default: "Reader",
			Groups: map[string]string{"Admin": admins, "Reader": readers},
		}
		if mutate != nil {
			mutate(&c.Users.Roles)
		}
	})
	return h, admins, readers
}

// inGroup tells whether the user with SCIM id is a member of the group at dn.
func (h *harness) inGroup(id, dn string) bool {
	h.T.Helper()
	user := h.entry(id)
	if user == nil {
		h.T.Fatalf("no user %s", id)
	}
	return h.isMemberDN(user.DN, dn)
}

func (h *harness) isMemberDN(member, group string) bool {
	h.T.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(group, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"member"}, nil))
	if err != nil {
		h.T.Fatal(err)
	}
	for _, v := range res.Entries[0].GetAttributeValues("member") {
		if sameDN(v, member) {
			return true
		}
	}
	return false
}

// roleValues returns the values of roles in a SCIM body.
func roleValues(body map[string]any) []string {
	var out []string
	list, _ := body["roles"].([]any)
	for _, el := range list {
		m, _ := el.(map[string]any)
		s, _ := m["value"].(string)
		out = append(out, s)
	}
	return out
}

func wantRoles(t *testing.T, h *harness, id string, want ...string) {
	t.Helper()
	got := attr(h.entry(id), "employeeType")
	if len(got) != len(want) {
		t.Fatalf("employeeType %q, want %q", got, want)
	}
	for _, w := range want {
		if !containsString(got, w) {
			t.Fatalf("employeeType %q, want %q", got, want)
		}
	}
	r := h.must(http.StatusOK, "GET", "/Users/"+id, "")
	if rv := roleValues(r.body); len(rv) != len(want) {
		t.Fatalf("GET roles %q, want %q: %s", rv, want, r.raw)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

const rolesUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","active":true,
	"name":{"givenName":"G","familyName":"F"}%s}`

func roleUser(userName, extra string) string {
	return strings.Replace(strings.Replace(rolesUser, "%s", userName, 1), "%s", extra, 1)
}

func TestRolesDefaultRole(t *testing.T) {
	t.Parallel()
	h, admins, readers := roleHarness(t, nil)
	id := h.create(roleUser("plain", `,"roles":[]`)) // Entra's POST carries an empty roles list
	wantRoles(t, h, id, "Reader")
	if !h.inGroup(id, readers) || h.inGroup(id, admins) {
		t.Error("the default role's group was not joined (or another was)")
	}
	r := h.must(http.StatusOK, "GET", "/Users/"+id, "")
	if el, _ := r.body["roles"].([]any); len(el) != 1 || el[0].(map[string]any)["primary"] != true {
		t.Errorf("a single role must read back as primary (SingleAppRoleAssignment): %s", r.raw)
	}
}

// SingleAppRoleAssignment: POST roles [{primary: true, value}], PATCH
// roles[primary eq "True"].value, in both dialects.
func TestRolesSingleAppRoleAssignment(t *testing.T) {
	t.Parallel()
	h, admins, readers := roleHarness(t, nil)
	id := h.create(roleUser("single", `,"roles":[{"primary":true,"type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]`))
	wantRoles(t, h, id, "Admin")
	if !h.inGroup(id, admins) || h.inGroup(id, readers) {
		t.Fatal("Admin: want app-admins only")
	}
	for _, tc := range []struct{ op, role string }{{"Replace", "Reader"}, {"replace", "Admin"}, {"Replace", "Reader"}} {
		h.must(http.StatusOK, "PATCH", "/Users/"+id,
			patchBody(`{"op":"`+tc.op+`","path":"roles[primary eq \"True\"].value","value":"`+tc.role+`"}`))
		wantRoles(t, h, id, tc.role)
		other := admins
		mine := readers
		if tc.role == "Admin" {
			mine, other = admins, readers
		}
		if !h.inGroup(id, mine) || h.inGroup(id, other) {
			t.Fatalf("after %s %s: membership not moved", tc.op, tc.role)
		}
	}
	// Entra finds users by the role it assigned.
	q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`userName eq "single"`), "")
	if res, _ := q.body["Resources"].([]any); len(res) != 1 || len(roleValues(res[0].(map[string]any))) != 1 {
		t.Errorf("list shows no roles: %s", q.raw)
	}
}

// AppRoleAssignmentsComplex: POST with several roles, PATCH add/remove of
// roles whose values are JSON serialized inside a string, in both dialects.
func TestRolesAppRoleAssignmentsComplex(t *testing.T) {
	t.Parallel()
	h, admins, readers := roleHarness(t, nil)
	id := h.create(roleUser("complex", `,"roles":[
		{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Admin","value":"Admin"},
		{"primary":false,"type":"WindowsAzureActiveDirectoryRole","display":"Auditor","value":"Auditor"}]`))
	wantRoles(t, h, id, "Admin", "Auditor") // an unknown role is stored, never a 400
	if !h.inGroup(id, admins) || h.inGroup(id, readers) {
		t.Fatal("want app-admins only")
	}
	if !strings.Contains(h.Logs.String(), "Auditor") {
		t.Errorf("the role without a group is not logged:\n%s", h.Logs.String())
	}
	reader := `[{"value":"{\"id\":\"06b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"Reader\",\"displayName\":\"Reader\"}"}]`
	admin := `[{"value":"{\"id\":\"16b07648-ecfe-589f-9d2f-6325724a46ee\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]`
	for _, dialect := range []struct{ add, remove string }{{"Add", "Remove"}, {"add", "remove"}} {
		h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"`+dialect.add+`","path":"roles","value":`+reader+`}`))
		wantRoles(t, h, id, "Admin", "Auditor", "Reader")
		if !h.inGroup(id, readers) || !h.inGroup(id, admins) {
			t.Fatalf("%s Reader: want both groups", dialect.add)
		}
		h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"`+dialect.add+`","path":"roles","value":`+reader+`}`))
		wantRoles(t, h, id, "Admin", "Auditor", "Reader") // a repeated add changes nothing
		h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"`+dialect.remove+`","path":"roles","value":`+admin+`}`))
		wantRoles(t, h, id, "Auditor", "Reader")
		if h.inGroup(id, admins) || !h.inGroup(id, readers) {
			t.Fatalf("%s Admin: membership of app-admins kept", dialect.remove)
		}
		h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"`+dialect.add+`","path":"roles","value":`+admin+`}`))
		h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"`+dialect.remove+`","path":"roles","value":`+reader+`}`))
		wantRoles(t, h, id, "Admin", "Auditor")
	}
}

// Disabling keeps role memberships (the account cannot bind; an enable
// restores access as it was); deleting removes them, in every delete mode.
func TestRolesDisableKeepsDeleteRemoves(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"delete", "disable", "anonymize"} {
		t.Run(mode, func(t *testing.T) {
			h, admins, _ := roleHarness(t, nil)
			h = rebuildWith(t, h, func(c *config.Config) { c.Users.Delete.Mode = mode })
			id := h.create(roleUser("leaver-"+mode, `,"roles":[{"primary":true,"value":"Admin"}]`))
			dn := h.entry(id).DN
			h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"False"}`))
			if !h.inGroup(id, admins) {
				t.Fatal("disabling removed the role group membership")
			}
			wantRoles(t, h, id, "Admin")
			h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
			if h.isMemberDN(dn, admins) {
				t.Error("the deleted user is still in its role group")
			}
			if e := h.entry(id); e != nil {
				if h.isMemberDN(e.DN, admins) {
					t.Error("the parked user is still in its role group")
				}
				none(t, e, "employeeType")
			}
		})
	}
}

// Without users.roles.attribute the roles are the role groups the user is a
// member of (memberOf), and a role without a group is only logged.
func TestRolesGroupsOnly(t *testing.T) {
	t.Parallel()
	h, admins, readers := roleHarness(t, func(r *config.RolesConfig) { r.Attribute = "" })
	id := h.create(roleUser("groupsonly", `,"roles":[{"primary":true,"value":"Nobody"}]`))
	// Nobody grants no group and there is no attribute to store it: no role,
	// and not the default either (a role was sent).
	if h.inGroup(id, admins) || h.inGroup(id, readers) {
		t.Error("an unknown role joined a group")
	}
	none(t, h.entry(id), "employeeType")
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"roles[primary eq \"True\"].value","value":"Admin"}`))
	if !h.inGroup(id, admins) {
		t.Fatal("Admin: app-admins not joined")
	}
	r := h.must(http.StatusOK, "GET", "/Users/"+id, "")
	if rv := roleValues(r.body); len(rv) != 1 || rv[0] != "Admin" {
		t.Errorf("GET roles %q, want [Admin] from memberOf: %s", rv, r.raw)
	}
}

// roles[primary eq "True"].value as an ordinary single-valued mapping.
func TestRolesAsPlainMapping(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) {
		c.Users.Attributes = append(c.Users.Attributes, config.AttributeMapping{SCIM: `roles[primary eq "True"].value`, LDAP: "employeeType"})
	})
	id := h.create(roleUser("plainmap", `,"roles":[{"primary":true,"type":"WindowsAzureActiveDirectoryRole","value":"Admin"}]`))
	one(t, h.entry(id), "employeeType", "Admin")
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"roles[primary eq \"True\"].value","value":"Reader"}`))
	one(t, h.entry(id), "employeeType", "Reader")
	q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(`roles[primary eq "True"].value eq "Reader"`), "")
	if q.body["totalResults"] != jsonNumber(1) {
		t.Errorf("filter on the role: %s", q.raw)
	}
	r := h.must(http.StatusOK, "GET", "/Users/"+id, "")
	if rv := roleValues(r.body); len(rv) != 1 || rv[0] != "Reader" {
		t.Errorf("GET roles %q: %s", rv, r.raw)
	}
}

// /Schemas lists roles when users.roles maps them.
func TestRolesInSchema(t *testing.T) {
	t.Parallel()
	h, _, _ := roleHarness(t, nil)
	r := h.must(http.StatusOK, "GET", "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "")
	if !strings.Contains(r.raw, `"name":"roles"`) {
		t.Errorf("roles not in the User schema: %s", r.raw)
	}
}

// The same on Samba AD, without a role attribute: the roles are read back
// from memberOf (which AD keeps itself), and memberships use AD's groups.
func TestADRolesFromMemberOf(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	ou := "OU=Roles," + h.NS.DN
	add := ldap.NewAddRequest(ou, nil)
	add.Attribute("objectClass", []string{"organizationalUnit"})
	if err := h.LDAP.Add(add); err != nil {
		t.Fatal(err)
	}
	admins, readers := "CN=app-admins-"+adUnique(t, "")+","+ou, "CN=app-readers-"+adUnique(t, "")+","+ou
	for _, dn := range []string{admins, readers} {
		g := ldap.NewAddRequest(dn, nil)
		g.Attribute("objectClass", []string{"group"})
		if err := h.LDAP.Add(g); err != nil {
			t.Fatal(err)
		}
	}
	h = rebuildWith(t, h, func(c *config.Config) {
		c.Users.Roles = config.RolesConfig{Default: "Reader", Groups: map[string]string{"Admin": admins, "Reader": readers}}
	})
	upn := adUnique(t, "roleuser") + "@" + h.AD.Domain
	id := h.create(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + upn +
		`","displayName":"Role User ` + adUnique(t, "") + `","active":true,"name":{"givenName":"R","familyName":"U"},"roles":[]}`)
	if !h.inGroup(id, readers) || h.inGroup(id, admins) {
		t.Fatal("default role: want app-readers only")
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"x\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}`))
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"remove","path":"roles[value eq \"Reader\"]"}`))
	if !h.inGroup(id, admins) || h.inGroup(id, readers) {
		t.Fatal("after add Admin, remove Reader: want app-admins only")
	}
	r := h.must(http.StatusOK, "GET", "/Users/"+id, "")
	if rv := roleValues(r.body); len(rv) != 1 || rv[0] != "Admin" {
		t.Errorf("GET roles %q, want [Admin] from memberOf: %s", rv, r.raw)
	}
	dn := h.entry(id).DN
	h.must(http.StatusNoContent, "DELETE", "/Users/"+id, "")
	if h.isMemberDN(dn, admins) {
		t.Error("the deleted user is still in its role group")
	}
}
