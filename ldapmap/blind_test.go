package ldapmap_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/patch"
)

func planBlind(t *testing.T, m *ldapmap.Map, body string) *ldapmap.Update {
	t.Helper()
	o, err := patch.Parse([]byte(body))
	if err != nil {
		t.Fatalf("patch.Parse: %v", err)
	}
	return m.PlanBlind(context.Background(), o, newResolver())
}

// PlanBlind writes what PlanUpdate writes to an entry that matches its
// assertion: each case's entry does (the new values are not there yet, cn
// and sn are), and both plans must agree.
func TestPlanBlindIsPlanUpdate(t *testing.T) {
	m := exampleMap(t, nil)
	for _, tc := range []struct {
		name   string
		entry  map[string][]string
		body   string
		want   []string
		assert string
	}{
		{
			name: "entra update multi-valued (§1.1)", body: ops(
				`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"updatedEmail@microsoft.com"}`,
				`{"op":"Replace","path":"name.familyName","value":"updatedFamilyName"}`),
			want:   []string{"replace mail=updatedEmail@microsoft.com", "replace sn=updatedFamilyName"},
			assert: `(&(!(mail=updatedEmail@microsoft.com))(!(sn=updatedFamilyName))(cn=*))`,
		},
		{
			name: "loadbench's displayName and title", body: ops(
				`{"op":"Replace","path":"displayName","value":"Display (1)"}`, `{"op":"Replace","path":"title","value":"T*"}`),
			want:   []string{"replace displayName=Display (1)", "replace title=T*"},
			assert: `(&(!(displayName=Display \281\29))(!(title=T\2a))(cn=*)(sn=*))`,
		},
		{
			name: "add to an empty attribute (§3.5)", body: ops(`{"op":"add","path":"title","value":"Boss"}`),
			want: []string{"replace title=Boss"}, assert: `(&(!(title=Boss))(cn=*)(sn=*))`,
		},
		{
			name: "flag dialect, path-less", body: ops(`{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom"}}`),
			want:   []string{"replace displayName=Bjfe", "replace givenName=Kkom"},
			assert: `(&(!(displayName=Bjfe))(!(givenName=Kkom))(cn=*)(sn=*))`,
		},
		{
			name: "enterprise department", body: ops(
				`{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"}`),
			want: []string{"replace departmentNumber=Sales"}, assert: `(&(!(departmentNumber=Sales))(cn=*)(sn=*))`,
		},
		{
			name: "manager by id", entry: map[string][]string{"manager": nil}, body: ops(
				`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"` + bossID + `"}`),
			want:   []string{"replace manager=" + bossDN},
			assert: `(&(!(manager=uid=o\5c2cbrien \28boss\29,ou=people,dc=example,dc=org))(cn=*)(sn=*))`,
		},
		{
			name: "entra disable (§3.3)", body: ops(`{"op":"Replace","path":"active","value":"False"}`),
			want: []string{"replace pwdAccountLockedTime=000001010000Z"}, assert: `(&(!(pwdAccountLockedTime=000001010000Z))(cn=*)(sn=*))`,
		},
		{
			name: "entra enable", entry: locked, body: ops(`{"op":"Replace","path":"active","value":"True"}`),
			want: []string{"delete pwdAccountLockedTime000001010000Z"}, assert: `(&(pwdAccountLockedTime=000001010000Z)(cn=*)(sn=*))`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			upd := planBlind(t, m, tc.body)
			if upd == nil {
				t.Fatal("no blind plan")
			}
			if got := renderChanges(upd.Changes); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changes %q, want %q", got, tc.want)
			}
			if upd.Assert != tc.assert {
				t.Errorf("assert\n got %s\nwant %s", upd.Assert, tc.assert)
			}
			read, err := planPatch(t, m, directoryEntry(tc.entry), tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := renderChanges(upd.Changes), renderChanges(read.Changes); !reflect.DeepEqual(got, want) || read.NewRDN != "" {
				t.Errorf("blind %q, PlanUpdate %q (rename %q)", got, want, read.NewRDN)
			}
		})
	}
}

// What needs the entry is left to the read path.
func TestPlanBlindNeedsTheEntry(t *testing.T) {
	m := exampleMap(t, nil)
	for name, body := range map[string]string{
		"userName renames":              ops(`{"op":"Replace","path":"userName","value":"new@contoso.com"}`),
		"remove":                        ops(`{"op":"Remove","path":"title"}`),
		"replace with empty clears":     ops(`{"op":"replace","path":"title","value":""}`),
		"replace with null clears":      ops(`{"op":"replace","path":"title","value":null}`),
		"complex value":                 ops(`{"op":"replace","path":"name","value":{"givenName":"A"}}`),
		"multi-valued value":            ops(`{"op":"replace","path":"emails","value":[{"type":"work","value":"a@b.c"}]}`),
		"other filter on the same path": ops(`{"op":"replace","path":"emails[type eq \"work\" and primary eq true].value","value":"a@b.c"}`),
		"unmapped attribute":            ops(`{"op":"replace","path":"nickName","value":"x"}`),
		"password":                      ops(`{"op":"replace","path":"password","value":"s3cret!"}`),
		"not a boolean":                 ops(`{"op":"replace","path":"active","value":"maybe"}`),
		"wrong JSON type":               ops(`{"op":"replace","path":"title","value":true}`),
		"two operations, one attribute": ops(`{"op":"replace","path":"title","value":"a"}`, `{"op":"replace","path":"title","value":"b"}`),
		"unknown manager":               ops(`{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"nobody"}`),
		"NUL byte":                      ops(`{"op":"replace","path":"title","value":"a\u0000b"}`),
	} {
		if upd := planBlind(t, m, body); upd != nil {
			t.Errorf("%s: blind plan %q", name, renderChanges(upd.Changes))
		}
	}
	// Without a disable method active changes nothing: the answer needs
	// the entry.
	none := exampleMap(t, func(u *config.UsersConfig) { u.Disable.Method = config.DisableNone })
	if upd := planBlind(t, none, ops(`{"op":"replace","path":"active","value":false}`)); upd != nil {
		t.Errorf("method none: blind plan %q", renderChanges(upd.Changes))
	}
	// The attribute method compares values case-insensitively, which an
	// LDAP filter may not: left to the read path.
	attr := exampleMap(t, func(u *config.UsersConfig) {
		u.Disable = config.DisableConfig{Method: config.DisableAttribute, Attribute: "employeeType", DisabledValue: "disabled"}
	})
	if upd := planBlind(t, attr, ops(`{"op":"replace","path":"active","value":false}`)); upd != nil {
		t.Errorf("method attribute: blind plan %q", renderChanges(upd.Changes))
	}
}

// Derived attributes: a template that reads a written attribute makes the
// plan need the entry (its value follows); a constant is asserted present.
func TestPlanBlindDerives(t *testing.T) {
	m := exampleMap(t, func(u *config.UsersConfig) {
		u.Derive = append(u.Derive,
			config.DeriveConfig{LDAP: "gecos", Template: "{{ .displayName }}"},
			config.DeriveConfig{LDAP: "businessCategory", Template: "entra"})
	})
	if upd := planBlind(t, m, ops(`{"op":"replace","path":"displayName","value":"D"}`)); upd != nil {
		t.Errorf("displayName feeds gecos: blind plan %q", renderChanges(upd.Changes))
	}
	upd := planBlind(t, m, ops(`{"op":"replace","path":"title","value":"T"}`))
	if upd == nil {
		t.Fatal("title: no blind plan")
	}
	if want := "(businessCategory=entra)"; !strings.Contains(upd.Assert, want) {
		t.Errorf("assert %s lacks %s", upd.Assert, want)
	}
	roles := exampleMap(t, func(u *config.UsersConfig) {
		u.Roles = config.RolesConfig{Attribute: "employeeType"}
	})
	if upd := planBlind(t, roles, ops(`{"op":"replace","path":"title","value":"T"}`)); upd != nil {
		t.Errorf("roles configured: blind plan %q", renderChanges(upd.Changes))
	}
}
