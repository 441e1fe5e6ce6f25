package ldapmap_test

import (
	"context"
	"reflect"
	"testing"
)

// With ppolicy the bridge reads and removes only its own lock, 000001010000Z;
// the lockout timestamps of failed binds and admins are not active=false.
// (Against a real slapd: bridge/lockout_test.go.)
func TestPPolicyOwnsOnlyItsLock(t *testing.T) {
	m := exampleMap(t, nil)
	for _, tc := range []struct {
		name, lock, body string
		active           bool
		want             []string
	}{
		{
			"own lock reads inactive; enable deletes that value", "000001010000Z",
			ops(`{"op":"replace","path":"active","value":true}`), false,
			[]string{"delete pwdAccountLockedTime000001010000Z"},
		},
		{
			"a lockout after failed binds reads active; enable writes nothing", "20261201122916Z",
			ops(`{"op":"replace","path":"active","value":"True"}`), true, nil,
		},
		{
			"a lockout is replaced by a disable", "20261201122916Z",
			ops(`{"op":"replace","path":"active","value":false}`), true,
			[]string{"replace pwdAccountLockedTime=000001010000Z"},
		},
		{
			"own lock: disable writes nothing", "000001010000Z",
			ops(`{"op":"replace","path":"active","value":false}`), false, nil,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := directoryEntry(map[string][]string{"pwdAccountLockedTime": {tc.lock}})
			res, err := m.FromEntry(context.Background(), e, newResolver())
			if err != nil {
				t.Fatal(err)
			}
			if res["active"] != tc.active {
				t.Errorf("active = %v, want %v", res["active"], tc.active)
			}
			u, err := planPatch(t, m, e, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if got := renderChanges(u.Changes); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("changes %q, want %q", got, tc.want)
			}
		})
	}
}
