package bridge_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// What the client is told and what the log keeps (issue 11, "Say what is
// logged"): details are stable and name no DN and no directory diagnostic;
// the log line of the failed LDAP write has both, with the request id.
func TestErrorDetailsHideDirectory(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("detail-victim")
	h.group("detail-group")
	// An entry the bridge does not manage (not an inetOrgPerson) holding the
	// name a new user would get.
	squat := ldap.NewAddRequest("uid=detail-squat,"+h.NS.People, nil)
	squat.Attribute("objectClass", []string{"account"})
	squat.Attribute("uid", []string{"detail-squat"})
	if err := h.LDAP.Add(squat); err != nil {
		t.Fatal(err)
	}
	// A non-group entry holding a group's name.
	role := ldap.NewAddRequest("cn=detail-role,"+h.NS.Groups, nil)
	role.Attribute("objectClass", []string{"organizationalRole"})
	role.Attribute("cn", []string{"detail-role"})
	if err := h.LDAP.Add(role); err != nil {
		t.Fatal(err)
	}
	const group = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"detail-role"}`
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		detail                   string // the whole detail, as documented
		diagnostic               string // in the log line, not in the detail
	}{
		{
			"mail not IA5 on create", "POST", "/Users", `{"userName":"detail-mail","emails":[{"type":"work","value":"bé@example.org"}]}`,
			400, "create user: the directory refused a value: a value does not have the syntax its LDAP attribute requires",
			"mail: value #0 invalid per syntax",
		},
		{
			"phone number syntax on PATCH", "PATCH", "/Users/" + id,
			patchBody(`{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"☎ call me"}`),
			400, "modify user: the directory refused a value: a value does not have the syntax its LDAP attribute requires",
			"telephoneNumber: value #0 invalid per syntax",
		},
		{
			"mail not IA5 on PUT", "PUT", "/Users/" + id, `{"userName":"detail-victim","emails":[{"type":"work","value":"ü@example.org"}]}`,
			400, "modify user: the directory refused a value: a value does not have the syntax its LDAP attribute requires",
			"mail: value #0 invalid per syntax",
		},
		{
			"entry name taken by an unmanaged entry", "POST", "/Users", `{"userName":"detail-squat"}`,
			409, "another directory entry already has this user's entry name (its RDN)", "Entry Already Exists",
		},
		{
			"group name taken by a non-group entry", "POST", "/Groups", group,
			409, "a group with this displayName already exists", "Entry Already Exists",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.raw)
			}
			detail, _ := r.body["detail"].(string)
			if detail != c.detail {
				t.Errorf("detail %q\nwant   %q", detail, c.detail)
			}
			for _, leak := range []string{"dc=", "ou=", "uid=", "cn=", h.NS.People, "value #", "LDAP Result", c.diagnostic} {
				if strings.Contains(strings.ToLower(r.raw), strings.ToLower(leak)) {
					t.Errorf("the answer holds %q: %s", leak, r.raw)
				}
			}
			// The log line of the failed write has the diagnostic and the
			// DN, joined to the request by its id.
			rid := r.header.Get("X-Request-Id")
			var found bool
			for _, line := range strings.Split(h.Logs.String(), "\n") {
				var l map[string]any
				if json.Unmarshal([]byte(line), &l) != nil || l["request_id"] != rid {
					continue
				}
				dn, _ := l["dn"].(string)
				dn = strings.ToLower(dn)
				msg, _ := l["error"].(string)
				underBase := strings.HasSuffix(dn, ","+strings.ToLower(h.NS.People)) ||
					strings.HasSuffix(dn, ","+strings.ToLower(h.NS.Groups))
				if l["message"] == "ldap write" && strings.Contains(msg, c.diagnostic) && underBase {
					found = true
				}
			}
			if !found {
				t.Errorf("no ldap write line with request_id %s, the DN and %q in the log:\n%s", rid, c.diagnostic, h.Logs.String())
			}
		})
	}
}
