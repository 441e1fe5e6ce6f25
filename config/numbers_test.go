package config_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
)

// twoServers is examples/openldap.yaml on a primary and one replica, with
// one uidNumber range and one gidNumber range for each (issue 14).
func twoServers(t *testing.T) []byte {
	t.Helper()
	yaml := string(examples.OpenLDAP)
	for _, r := range []struct{ after, add string }{
		{"  flavor: openldap\n", "  failover_urls: [ldap://127.0.0.2:3890]\n"},
		{"    mode: delete\n", `  uid_number:
    ranges:
      - counter_dn: cn=uidNext-1,dc=example,dc=org
        start: 10000
        end: 499999
      - counter_dn: cn=uidNext-2,dc=example,dc=org
        start: 500000
        end: 999999
`},
		{"  empty_member: cn=nobody,dc=example,dc=org", `
  gid_number:
    ranges:
      - { counter_dn: "cn=gidNext-1,dc=example,dc=org", start: 10000, end: 19999 }
      - { counter_dn: "cn=gidNext-2,dc=example,dc=org", start: 20000, end: 29999 }
`},
	} {
		if !strings.Contains(yaml, r.after) {
			t.Fatalf("examples/openldap.yaml no longer has %q", r.after)
		}
		yaml = strings.Replace(yaml, r.after, r.after+r.add, 1)
	}
	return []byte(yaml)
}

func TestNumberRangesLoad(t *testing.T) {
	cfg, err := config.Load(config.Source{Data: twoServers(t), Environ: exampleEnv()})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	u := cfg.Users.UIDNumber
	want := []config.NumberRange{
		{CounterDN: "cn=uidNext-1,dc=example,dc=org", Start: 10000, End: 499999},
		{CounterDN: "cn=uidNext-2,dc=example,dc=org", Start: 500000, End: 999999},
	}
	if len(u.Ranges) != 2 || u.Ranges[0] != want[0] || u.Ranges[1] != want[1] {
		t.Errorf("users.uid_number.ranges = %+v, want %+v", u.Ranges, want)
	}
	if u.Start != 0 {
		t.Errorf("users.uid_number.start defaulted to %d beside ranges", u.Start)
	}
	if !u.Enabled() || len(u.Counters()) != 2 {
		t.Errorf("Enabled %v, Counters %+v", u.Enabled(), u.Counters())
	}
	if g := cfg.Groups.GIDNumber; len(g.Ranges) != 2 || g.Ranges[1].Start != 20000 || g.Ranges[1].End != 29999 {
		t.Errorf("groups.gid_number.ranges = %+v", g.Ranges)
	}
	if ws := cfg.Warnings(); len(ws) != 0 {
		t.Errorf("warnings %q, want none: every server has its range", ws)
	}

	// A problem in a range is placed on its line.
	bad := strings.Replace(string(twoServers(t)), "end: 999999", "end: 400000", 1)
	_, err = config.Load(config.Source{Data: []byte(bad), Environ: exampleEnv()})
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Path != "users.uid_number.ranges[1].end" || ps[0].Line == 0 {
		t.Fatalf("problems %q, want users.uid_number.ranges[1].end with its line", ps)
	}
	// A misspelt key in a range is caught like any other.
	bad = strings.Replace(string(twoServers(t)), "end: 999999", "ned: 999999", 1)
	_, err = config.Load(config.Source{Data: []byte(bad), Environ: exampleEnv()})
	if ps := problems(t, err); len(ps) != 1 || ps[0].Path != "users.uid_number.ranges[1].ned" || !strings.Contains(ps[0].Msg, `did you mean "end"?`) {
		t.Fatalf("problems %q, want users.uid_number.ranges[1].ned: unknown key; did you mean \"end\"?", ps)
	}
}

// The single form is unchanged: counter_dn with start (10000 by default), one
// counter that every server shares, and no end.
func TestNumberCounterSingle(t *testing.T) {
	cfg := loadExample(t)
	if cfg.Users.UIDNumber.Enabled() || cfg.Users.UIDNumber.Counters() != nil {
		t.Errorf("allocation on without a counter: %+v", cfg.Users.UIDNumber)
	}
	cfg.Users.UIDNumber.CounterDN = "cn=uidNext,dc=example,dc=org"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	got := cfg.Users.UIDNumber.Counters()
	if len(got) != 1 || got[0] != (config.NumberRange{CounterDN: "cn=uidNext,dc=example,dc=org", Start: 10000}) {
		t.Errorf("Counters() = %+v", got)
	}
	if ws := cfg.Warnings(); len(ws) != 0 {
		t.Errorf("warnings %q for one server", ws)
	}
}

// A single counter on replicas stays valid (configurations written before
// ranges), with a warning that names the risk and where to read about it.
func TestNumberCounterOnReplicasWarns(t *testing.T) {
	cfg := loadExample(t)
	cfg.LDAP.FailoverURLs = []string{"ldap://127.0.0.2:3890"}
	cfg.Users.UIDNumber.CounterDN = "cn=uidNext,dc=example,dc=org"
	cfg.Groups.GIDNumber.CounterDN = "cn=gidNext,dc=example,dc=org"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	ws := cfg.Warnings()
	if len(ws) != 2 {
		t.Fatalf("warnings %q, want one for users and one for groups", ws)
	}
	for i, prefix := range []string{"users.uid_number", "groups.gid_number"} {
		for _, want := range []string{
			prefix + ".counter_dn: one counter for 2 directory servers", "handed out twice",
			prefix + ".ranges", "docs/high-availability.md",
		} {
			if !strings.Contains(ws[i], want) {
				t.Errorf("warning %q lacks %q", ws[i], want)
			}
		}
	}
	// Groups off: their counter is not used, so no warning about it.
	off := false
	cfg.Groups.Enabled = &off
	if ws := cfg.Warnings(); len(ws) != 1 {
		t.Errorf("warnings %q with groups off", ws)
	}
}

func TestNumberRangesValidate(t *testing.T) {
	r := func(dn string, start, end int) config.NumberRange {
		return config.NumberRange{CounterDN: dn + ",dc=example,dc=org", Start: start, End: end}
	}
	type problem struct{ path, msg string }
	for _, tc := range []struct {
		name   string
		mutate func(c *config.Config)
		want   []problem
	}{
		{"valid", func(*config.Config) {}, nil},
		{"counter_dn and ranges", func(c *config.Config) {
			c.Users.UIDNumber.CounterDN = "cn=uidNext,dc=example,dc=org"
		}, []problem{{"users.uid_number.ranges", "cannot be used with counter_dn"}}},
		{
			"start beside ranges", func(c *config.Config) { c.Groups.GIDNumber.Start = 10000 },
			[]problem{{"groups.gid_number.start", "is not used with ranges: each range has its own start"}},
		},
		{"bad counter_dn beside ranges", func(c *config.Config) { c.Users.UIDNumber.CounterDN = "uidNext" }, []problem{
			{"users.uid_number.counter_dn", "is not a valid DN"},
			{"users.uid_number.ranges", "cannot be used with counter_dn"},
		}},
		{
			"one range too few", func(c *config.Config) { c.Users.UIDNumber.Ranges = c.Users.UIDNumber.Ranges[:1] },
			[]problem{{"users.uid_number.ranges", "has 1 ranges for 2 directory servers (ldap.url and 1 ldap.failover_urls): " +
				"give each server exactly one, in that order"}},
		},
		{"one range too many", func(c *config.Config) {
			c.Groups.GIDNumber.Ranges = append(c.Groups.GIDNumber.Ranges, r("cn=gid3", 30000, 39999))
		}, []problem{{"groups.gid_number.ranges", "has 3 ranges for 2 directory servers"}}},
		{"ranges without failover", func(c *config.Config) { c.LDAP.FailoverURLs = nil }, []problem{
			{"users.uid_number.ranges", "has 2 ranges for 1 directory servers (ldap.url and 0 ldap.failover_urls)"},
			{"groups.gid_number.ranges", "has 2 ranges for 1 directory servers"},
		}},
		{
			"counter_dn missing", func(c *config.Config) { c.Users.UIDNumber.Ranges[1].CounterDN = "" },
			[]problem{{"users.uid_number.ranges[1].counter_dn", "is required"}},
		},
		{
			"counter_dn not a DN", func(c *config.Config) { c.Groups.GIDNumber.Ranges[0].CounterDN = "gidNext-1" },
			[]problem{{"groups.gid_number.ranges[0].counter_dn", "is not a valid DN"}},
		},
		{"one counter for two ranges", func(c *config.Config) {
			c.Users.UIDNumber.Ranges[1].CounterDN = "CN=UIDNext-1, DC=example,DC=org"
		}, []problem{{"users.uid_number.ranges[1].counter_dn", "is the counter of users.uid_number.ranges[0] as well"}}},
		{
			"start missing", func(c *config.Config) { c.Users.UIDNumber.Ranges[0].Start = 0 },
			[]problem{{"users.uid_number.ranges[0].start", "must be at least 1, got 0"}},
		},
		{
			"start negative", func(c *config.Config) { c.Groups.GIDNumber.Ranges[1].Start = -5 },
			[]problem{{"groups.gid_number.ranges[1].start", "must be at least 1, got -5"}},
		},
		{
			"end missing", func(c *config.Config) { c.Users.UIDNumber.Ranges[1].End = 0 },
			[]problem{{"users.uid_number.ranges[1].end", "is required: the last number this server hands out"}},
		},
		{
			"end below start", func(c *config.Config) { c.Users.UIDNumber.Ranges[1].End = 499999 },
			[]problem{{"users.uid_number.ranges[1].end", "must not be below start (500000), got 499999"}},
		},
		{"start equals end", func(c *config.Config) { c.Users.UIDNumber.Ranges[1].End = 500000 }, nil},
		{
			"overlap", func(c *config.Config) { c.Users.UIDNumber.Ranges[1].Start = 499999 },
			[]problem{{"users.uid_number.ranges[1]", "499999-999999 overlaps users.uid_number.ranges[0] (10000-499999): " +
				"two servers would hand out the same numbers"}},
		},
		{"inside another", func(c *config.Config) {
			c.Groups.GIDNumber.Ranges[0] = r("cn=gidNext-1", 20500, 20600)
		}, []problem{{"groups.gid_number.ranges[1]", "20000-29999 overlaps groups.gid_number.ranges[0] (20500-20600)"}}},
		// uidNumbers and gidNumbers are separate number spaces.
		{"uid and gid share numbers", func(c *config.Config) {
			c.Groups.GIDNumber.Ranges = []config.NumberRange{r("cn=gidNext-1", 10000, 499999), r("cn=gidNext-2", 500000, 999999)}
		}, nil},
		{"groups off", func(c *config.Config) {
			off := false
			c.Groups.Enabled = &off
			c.Groups.GIDNumber.Ranges = nil
			c.Users.UIDNumber.Ranges[0].End = 1
		}, []problem{{"users.uid_number.ranges[0].end", "must not be below start (10000), got 1"}}},
		{"posixGroup without counter", func(c *config.Config) {
			c.Groups.ObjectClasses = []string{"top", "posixGroup"}
			c.Groups.GIDNumber.Ranges = nil
		}, []problem{{"groups.gid_number.counter_dn", "posixGroup requires gidNumber: set a counter entry DN to allocate them " +
			"(or ranges, one per directory server)"}}},
		{"posixGroup with ranges", func(c *config.Config) { c.Groups.ObjectClasses = []string{"top", "posixGroup"} }, nil},
		{"everything at once", func(c *config.Config) {
			c.Users.UIDNumber.Ranges = []config.NumberRange{
				{CounterDN: "", Start: 0, End: 0},
				r("cn=a", 100, 200),
				r("cn=a", 150, 120),
				r("cn=b", 150, 300),
			}
		}, []problem{
			{"users.uid_number.ranges", "has 4 ranges for 2 directory servers"},
			{"users.uid_number.ranges[0].counter_dn", "is required"},
			{"users.uid_number.ranges[0].start", "must be at least 1, got 0"},
			{"users.uid_number.ranges[0].end", "is required"},
			{"users.uid_number.ranges[2].end", "must not be below start (150), got 120"},
			{"users.uid_number.ranges[2].counter_dn", "is the counter of users.uid_number.ranges[1] as well"},
			{"users.uid_number.ranges[3]", "150-300 overlaps users.uid_number.ranges[1] (100-200)"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(config.Source{Data: twoServers(t), Environ: exampleEnv()})
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			tc.mutate(cfg)
			err = cfg.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("problems: %v", err)
				}
				return
			}
			ps := problems(t, err)
			if len(ps) != len(tc.want) {
				t.Fatalf("problems:\n%v\nwant %d: %v", err, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if ps[i].Path != w.path || !strings.HasPrefix(ps[i].Msg, w.msg) {
					t.Errorf("problem %d = %q, want %s: %s…", i, ps[i].Error(), w.path, w.msg)
				}
			}
		})
	}
}
