package daemon_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	s, err := testenv.StartSlapd(context.Background(), testenv.SlapdOptions{})
	if err != nil {
		if testenv.CIRequiresServer() {
			t.Fatal(err)
		}
		t.Skipf("no slapd: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	conf := filepath.Join(s.Dir(), "slapd.conf")
	raw, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.Contains(line, "sssvlv") {
			kept = append(kept, line)
		}
	}
	if err := os.WriteFile(conf, []byte(strings.Join(kept, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Restart(ctx); err != nil {
		t.Fatal(err)
	}
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
