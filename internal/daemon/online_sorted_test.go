package daemon_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/testenv"
)

// oneWarning asserts that exactly one warning starts with path and that it
// says each of parts.
func oneWarning(t *testing.T, warns []string, path string, parts ...string) {
	t.Helper()
	var found []string
	for _, w := range warns {
		if strings.HasPrefix(w, path+": ") {
			found = append(found, w)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d warnings at %s, want 1: %q", len(found), path, warns)
	}
	for _, p := range parts {
		if !strings.Contains(found[0], p) {
			t.Errorf("warning %q does not say %q", found[0], p)
		}
	}
}

// A slapd without the sssvlv overlay (testenv's configuration less it): the
// check says lists will count by reading DNs, and how to load the overlay.
func TestCheckOnlineWarnsWithoutSortedLists(t *testing.T) {
	t.Parallel()
	s := testenv.PrivateSlapd(t)
	testenv.WithoutOverlay(t, s, "sssvlv")
	ns := testenv.NewNamespace(t, &s.Server)
	ps, warns := checkOnline(t, onlineConfig(t, &s.Server, ns, nil))
	wantProblems(t, ps, nil)
	oneWarning(t, warns, "ldap", "no server-side sort and virtual list view", "at most 10,000 DNs", "overlay sssvlv")
	if len(warns) != 1 {
		t.Errorf("warnings: %q", warns)
	}
}

// An id attribute without an ORDERING rule (uid) cannot be sorted by: the
// check names it, and the groups (entryUUID) are fine.
func TestCheckOnlineWarnsUnsortableIDAttribute(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	ps, warns := checkOnline(t, onlineConfig(t, srv, ns, func(c *config.Config) { c.Users.IDAttribute = "uid" }))
	wantProblems(t, ps, nil)
	oneWarning(t, warns, "users.id_attribute", "refused to sort", "by uid", "ORDERING rule")
	if len(warns) != 1 {
		t.Errorf("warnings: %q", warns)
	}
}
