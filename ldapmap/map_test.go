package ldapmap_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
)

// problemsOf splits the joined error of ldapmap.New or config.Validate.
func problemsOf(t *testing.T, err error) []config.Problem {
	t.Helper()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) {
		var p config.Problem
		if errors.As(err, &p) {
			return []config.Problem{p}
		}
		t.Fatalf("error %v (%T) is not a list of problems", err, err)
	}
	var out []config.Problem
	for _, e := range joined.Unwrap() {
		var p config.Problem
		if !errors.As(e, &p) {
			t.Fatalf("%v (%T) is not a config.Problem", e, e)
		}
		out = append(out, p)
	}
	return out
}

func TestNewExample(t *testing.T) {
	m := exampleMap(t, nil)
	if a := m.UserNameAttr(); a == nil || a.LDAP != "uid" || m.RDNAttr() != a {
		t.Fatalf("userName mapping %+v, RDN mapping %+v", a, m.RDNAttr())
	}
	if m.Disable.Method() != "ppolicy" {
		t.Errorf("disable method %q", m.Disable.Method())
	}
	got := strings.Join(m.ReadAttributes(), ",")
	want := "entryUUID,createTimestamp,modifyTimestamp,entryCSN,uSNChanged,uid,employeeNumber,displayName," +
		"givenName,sn,cn,title,mail,telephoneNumber,mobile,l,departmentNumber,manager,pwdAccountLockedTime"
	if got != want {
		t.Errorf("ReadAttributes\n got %s\nwant %s", got, want)
	}
}

func TestNewProblems(t *testing.T) {
	type want struct{ path, msg string }
	for _, tc := range []struct {
		name   string
		mutate func(*config.UsersConfig)
		want   []want
	}{
		{"unknown attribute with a suggestion", func(u *config.UsersConfig) {
			u.Attributes[2].SCIM = "displayNme"
		}, []want{{"users.attributes[2].scim", `"displayNme" is not an attribute of the User schema (RFC 7643 §4.1); did you mean "displayName"?`}}},
		{"unknown sub-attribute with a suggestion", func(u *config.UsersConfig) {
			u.Attributes[3].SCIM = "name.givenNme"
		}, []want{{"users.attributes[3].scim", `did you mean "givenName"?`}}},
		{"unknown enterprise attribute", func(u *config.UsersConfig) {
			u.Attributes[11].SCIM = enterURN + ":departement"
		}, []want{{"users.attributes[11].scim", `did you mean "department"?`}}},
		{"duplicate SCIM mapping", func(u *config.UsersConfig) {
			u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: "USERNAME", LDAP: "cn2"})
		}, []want{{"users.attributes[13].scim", `"USERNAME" is already mapped by users.attributes[0]`}}},
		{"duplicate LDAP target", func(u *config.UsersConfig) {
			u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: "nickName", LDAP: "MAIL"})
		}, []want{{"users.attributes[13].ldap", `LDAP attribute "MAIL" is already the target of users.attributes[7]`}}},
		{
			"rdn not mapped", func(u *config.UsersConfig) { u.RDN = "employeeType" },
			[]want{{"users.rdn", `RDN attribute "employeeType" is not the target of any users.attributes or users.derive entry`}},
		},
		{
			"rdn holds a reference", func(u *config.UsersConfig) { u.RDN = "manager" },
			[]want{{"users.rdn", "cannot hold a reference"}},
		},
		{"multi-valued without type filter", func(u *config.UsersConfig) {
			u.Attributes[7].SCIM = "emails.value"
		}, []want{{"users.attributes[7].scim", `"emails" is multi-valued: select one element with a type filter, e.g. emails[type eq "work"].value`}}},
		{"value filter other than type eq", func(u *config.UsersConfig) {
			u.Attributes[7].SCIM = `emails[display eq "x"].value`
		}, []want{{"users.attributes[7].scim", `the value filter must be type eq "<type>"`}}},
		{
			"complex without sub-attribute", func(u *config.UsersConfig) { u.Attributes[3].SCIM = "name" },
			[]want{{"users.attributes[3].scim", `"name" is complex: map one sub-attribute, e.g. name.givenName`}},
		},
		{
			"simple with sub-attribute", func(u *config.UsersConfig) { u.Attributes[6].SCIM = "title.value" },
			[]want{{"users.attributes[6].scim", `"title" is a simple attribute`}},
		},
		{
			"path that does not parse", func(u *config.UsersConfig) { u.Attributes[7].SCIM = `emails[type eq "work"` },
			[]want{{"users.attributes[7].scim", ""}},
		},
		{"complex custom extension attribute", func(u *config.UsersConfig) {
			u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: "urn:example:ext:1.0:User:badge.number", LDAP: "badge"})
		}, []want{{"users.attributes[13].scim", "custom extension attributes must be simple"}}},
		{
			"userName unmapped", func(u *config.UsersConfig) { u.Attributes[0].SCIM = "nickName" },
			[]want{{"users.attributes", "userName must be mapped"}},
		},
		{"bad template", func(u *config.UsersConfig) {
			u.Derive = append([]config.DeriveConfig{{LDAP: "cn", Template: "{{ .uid "}}, u.Derive...)
		}, []want{{"users.derive[0].template", ""}}},
		{
			"bad disable method", func(u *config.UsersConfig) { u.Disable.Method = "lock" },
			[]want{{"users.disable.method", `got "lock"`}},
		},
		{
			"bad base DN", func(u *config.UsersConfig) { u.BaseDN = "ou=people,,dc=x" },
			[]want{{"users.base_dn", "is not a valid DN"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := exampleConfig(t)
			tc.mutate(&cfg.Users)
			_, err := ldapmap.New(cfg.Users)
			if err == nil {
				t.Fatal("New accepted the mapping")
			}
			ps := problemsOf(t, err)
			if len(ps) != len(tc.want) {
				t.Fatalf("got %d problems, want %d:\n%v", len(ps), len(tc.want), err)
			}
			for i, w := range tc.want {
				if ps[i].Path != w.path || !strings.Contains(ps[i].Msg, w.msg) {
					t.Errorf("problem %d = %s: %s\nwant %s: …%s…", i, ps[i].Path, ps[i].Msg, w.path, w.msg)
				}
			}
		})
	}
}

// TestNewAllProblems: one pass reports every mistake, each at its path.
func TestNewAllProblems(t *testing.T) {
	cfg := exampleConfig(t)
	u := &cfg.Users
	u.Attributes[1].SCIM = "externalID.x"                                                             // simple with sub
	u.Attributes[2].SCIM = "dispayName"                                                               // typo
	u.Attributes[7].SCIM = "emails.value"                                                             // no type filter
	u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: "title", LDAP: "title2"})       // duplicate SCIM
	u.Attributes = append(u.Attributes, config.AttributeMapping{SCIM: "nickName", LDAP: "givenName"}) // duplicate LDAP
	u.RDN = "employeeType"
	u.Derive = []config.DeriveConfig{{LDAP: "cn", Template: "{{ coalesce .sn"}}
	u.Disable.Method = "nope"
	_, err := ldapmap.New(cfg.Users)
	got := map[string]bool{}
	for _, p := range problemsOf(t, err) {
		got[p.Path] = true
	}
	for _, path := range []string{
		"users.attributes[1].scim", "users.attributes[2].scim", "users.attributes[7].scim", "users.attributes[13].scim",
		"users.attributes[14].ldap", "users.rdn", "users.derive[0].template", "users.disable.method",
	} {
		if !got[path] {
			t.Errorf("no problem reported at %s; got:\n%v", path, err)
		}
	}
	if len(got) != 8 {
		t.Errorf("got problems at %d paths, want 8:\n%v", len(got), err)
	}
}

// TestEnterpriseURNCase: a mapping may spell the extension URN in any case,
// but responses use the canonical spelling, which is what Entra looks for.
func TestEnterpriseURNCase(t *testing.T) {
	m := exampleMap(t, func(u *config.UsersConfig) {
		u.Attributes[11].SCIM = strings.ToLower(enterURN) + ":department"
	})
	res, err := m.FromEntry(context.Background(), directoryEntry(map[string][]string{"manager": nil}), newResolver())
	if err != nil {
		t.Fatal(err)
	}
	ext, ok := res[ldapmap.SchemaEnterprise].(map[string]any)
	if !ok || ext["department"] != "Tech" {
		t.Fatalf("enterprise extension under the canonical URN missing: %v", res)
	}
	if s := res["schemas"].([]any); len(s) != 2 || s[1] != ldapmap.SchemaEnterprise {
		t.Errorf("schemas = %v", s)
	}
	req, err := m.PlanAdd(context.Background(), decode(t, `{"userName":"a","`+enterURN+`":{"department":"Sales"}}`), newResolver())
	if err != nil {
		t.Fatal(err)
	}
	if got := attrsOf(req)["departmentNumber"]; len(got) != 1 || got[0] != "Sales" {
		t.Errorf("departmentNumber = %v, want Sales", got)
	}
}
