package bridge_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/testenv"
)

// listBenchUsers is the directory size of BenchmarkListPages.
const listBenchUsers = 100000

// BenchmarkListPages times GET /Users pages of 100 over 100,000 users on a
// slapd of its own (testenv's configuration, sssvlv included): the first
// page and the last (startIndex=99901), sorted and paged by the directory;
// the same on the paged path (a wrapper hides the sorted lists, as on a
// directory without them: a paged search plus a count bounded at 10,000
// DNs); and Entra's equality filter. Run it on an older commit to time the
// unbounded count it replaces. It only runs with -bench: loading the users
// takes 10-20 s (slapadd, as an admin bulk-loads; LDAP adds would take
// minutes here, docs/directory-lab.md). No timing is asserted.
//
//	go test ./bridge -run '^$' -bench BenchmarkListPages -benchtime 5x -count 3
func BenchmarkListPages(b *testing.B) {
	s := bulkLoadedSlapd(b, listBenchUsers)
	sorted := newHarness(b, nil).Rebuild(b, func(c *config.Config) {
		c.LDAP.URL, c.LDAP.BindPassword = s.URL, s.BindPassword
		c.Users.BaseDN, c.Groups.BaseDN = "ou=people,"+s.BaseDN, "ou=groups,"+s.BaseDN
	})
	plain := sorted.Rebuild(b, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory { return &pagedOnly{Directory: d} }))
	last := listBenchUsers - 99
	pages := []struct{ name, path string }{
		{"startIndex=1", "/Users?startIndex=1&count=100"},
		{"startIndex=" + itoa(last), "/Users?startIndex=" + itoa(last) + "&count=100"},
		{"filter=userName_eq", "/Users?filter=" + url.QueryEscape(`userName eq "`+benchUID(last)+`"`)},
	}
	for _, side := range []struct {
		name string
		h    *harness
	}{{"sorted", &harness{sorted}}, {"paged", &harness{plain}}} {
		for _, p := range pages {
			b.Run(side.name+"/"+p.name, func(b *testing.B) {
				h := side.h
				h.T = b
				h.must(http.StatusOK, "GET", p.path, "") // the connections, warm
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if r := h.Do("GET", p.path, ""); r.Status != http.StatusOK {
						b.Fatalf("%d %s", r.Status, r.Raw)
					}
				}
			})
		}
	}
}

func benchUID(i int) string { return fmt.Sprintf("list.%06d@contoso.com", i) }

// bulkLoadedSlapd starts a slapd of its own with n users under ou=people,
// loaded with slapadd (Slapd.BulkLoad).
func bulkLoadedSlapd(b *testing.B, n int) *testenv.Slapd {
	b.Helper()
	s := testenv.PrivateSlapd(b)
	ldif := filepath.Join(b.TempDir(), "users.ldif")
	if err := writeBenchUsers(ldif, "ou=people,"+s.BaseDN, n); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	if err := s.BulkLoad(ctx, ldif); err != nil {
		b.Fatal(err)
	}
	b.Logf("%d users loaded with slapadd in %.1f s", n, time.Since(start).Seconds())
	return s
}

// writeBenchUsers writes n users as the bridge creates them from Entra's
// POST, as LDIF (every value is a SAFE-STRING).
func writeBenchUsers(path, people string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := 0; i < n; i++ {
		uid := benchUID(i)
		fmt.Fprintf(w, "dn: uid=%s,%s\nobjectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\n"+
			"objectClass: inetOrgPerson\nuid: %s\nemployeeNumber: 0a21f0f2-0000-4f8e-bf98-%012d\nmail: %s\n"+
			"cn: Given%06d Family%06d\ngivenName: Given%06d\nsn: Family%06d\ndisplayName: Display Name %06d\n\n",
			uid, people, uid, i, uid, i, i, i, i, i)
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
