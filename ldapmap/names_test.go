package ldapmap_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// badNameRunes are refused in names: C0 with TAB, LF, CR; DEL; C1; bidi
// embeddings, overrides and isolates; zero-width; BOM; line separators.
var badNameRunes = []rune{
	0x01, '\t', '\n', '\r', 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9f, 0x200b, 0x200c, 0x200d, 0x2028,
	0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xfeff,
}

// derivedMap names users CN=<displayName>, as the AD preset does.
func derivedMap(t *testing.T) *ldapmap.Map {
	return exampleMap(t, func(u *config.UsersConfig) {
		u.RDN = "cn"
		var attrs []config.AttributeMapping
		for _, a := range u.Attributes {
			if a.LDAP != "cn" {
				attrs = append(attrs, a)
			}
		}
		u.Attributes = attrs
		u.Derive = []config.DeriveConfig{{LDAP: "cn", Template: `{{ coalesce .displayName .uid }}`}}
	})
}

func TestNamesRefuseControlCharacters(t *testing.T) {
	m, d, g := exampleMap(t, nil), derivedMap(t), exampleGroups(t)
	for _, r := range badNameRunes {
		bad := "a" + string(r) + "b"
		t.Run(fmt.Sprintf("U+%04X", r), func(t *testing.T) {
			_, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": bad}, newResolver())
			wantInvalid(t, err, "userName")
			_, err = planPatch(t, m, directoryEntry(nil), ops(`{"op":"replace","path":"userName","value":`+jsonString(bad)+`}`))
			wantInvalid(t, err, "userName")

			// userName is checked where it is not the RDN too (AD's userPrincipalName).
			_, err = d.PlanAdd(context.Background(), ldapmap.Resource{"userName": bad, "displayName": "Fine"}, newResolver())
			wantInvalid(t, err, "userName")
			// A derived RDN names the attribute it came from.
			_, err = d.PlanAdd(context.Background(), ldapmap.Resource{"userName": "fine", "displayName": bad}, newResolver())
			wantInvalid(t, err, "displayName")
			_, err = planPatch(t, d, directoryEntry(nil), ops(`{"op":"replace","path":"displayName","value":`+jsonString(bad)+`}`))
			wantInvalid(t, err, "displayName")

			_, err = g.PlanAdd(context.Background(), ldapmap.Resource{"displayName": bad}, nil)
			wantInvalid(t, err, "displayName")
			e := groupEntry()
			before, err := g.FromEntry(context.Background(), e, nil)
			if err != nil {
				t.Fatal(err)
			}
			after := clone(t, before)
			after["displayName"] = bad
			_, err = g.PlanUpdate(context.Background(), e, before, after, nil)
			wantInvalid(t, err, "displayName")
		})
	}
}

// Only names are checked: the same characters elsewhere are the client's
// business, and a name may hold any visible character.
func TestNamesAccepted(t *testing.T) {
	m, d := exampleMap(t, nil), derivedMap(t)
	for _, name := range []string{"José", "東京", "O'Brien", "a b", " lead", "trail ", "שלום\u200fעולם", "emoji👩"} {
		if _, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": name}, newResolver()); err != nil {
			t.Errorf("userName %q: %v", name, err)
		}
	}
	if _, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": "jdoe", "displayName": "tab\there", "title": "two\nlines"}, newResolver()); err != nil {
		t.Errorf("a control character outside names: %v", err)
	}
	u, err := planPatch(t, m, directoryEntry(nil), ops(`{"op":"replace","path":"displayName","value":"tab\there"}`))
	if err != nil || !reflect.DeepEqual(renderChanges(u.Changes), []string{"replace displayName=tab\there"}) {
		t.Errorf("PATCH displayName with a TAB: %v %v", u, err)
	}
	// With cn=<displayName>, displayName is a name; title is not.
	if _, err := d.PlanAdd(context.Background(), ldapmap.Resource{"userName": "jdoe", "displayName": "Jane Doe", "title": "a\tb"}, newResolver()); err != nil {
		t.Errorf("derived name: %v", err)
	}
	// The stored name is not checked again when the update leaves it alone.
	e := directoryEntry(map[string][]string{"uid": {"old\tname"}})
	if _, err := planPatch(t, m, e, ops(`{"op":"replace","path":"title","value":"x"}`)); err != nil {
		t.Errorf("update beside a stored bad name: %v", err)
	}
}

// A blank userName is refused before the directory sees it, whose
// diagnostic ("requires attribute 'sn'") would not say why.
func TestBlankNames(t *testing.T) {
	m, g := exampleMap(t, nil), exampleGroups(t)
	for _, blank := range []string{" ", "   ", "\u00a0", "\u3000 ", "\u2003"} {
		_, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": blank}, newResolver())
		wantInvalid(t, err, "userName")
		_, err = planPatch(t, m, directoryEntry(nil), ops(`{"op":"replace","path":"userName","value":`+jsonString(blank)+`}`))
		wantInvalid(t, err, "userName")
		_, err = g.PlanAdd(context.Background(), ldapmap.Resource{"displayName": blank}, nil)
		wantInvalid(t, err, "displayName")
	}
	// Empty is still "required" on create and "cannot be removed" on update.
	_, err := m.PlanAdd(context.Background(), ldapmap.Resource{"userName": ""}, newResolver())
	wantInvalid(t, err, "userName")
	_, err = planPatch(t, m, directoryEntry(nil), ops(`{"op":"replace","path":"userName","value":""}`))
	wantKind(t, err, scimerr.Mutability)
}

func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return string(b)
}
