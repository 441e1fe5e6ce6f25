package config_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
)

// ldap.failover is loaded with its defaults, and every problem in it is
// reported with its path.
func TestFailoverConfig(t *testing.T) {
	load := func(extra string) (*config.Config, error) {
		yaml := strings.Replace(string(examples.OpenLDAP), "  flavor: openldap\n",
			"  flavor: openldap\n  failover_urls: [ldap://127.0.0.2:3890]\n"+extra, 1)
		return config.Load(config.Source{Data: []byte(yaml), Environ: exampleEnv()})
	}
	cfg, err := load("")
	if err != nil {
		t.Fatal(err)
	}
	f := cfg.LDAP.Failover
	if f.ProbeInterval.String() != "5s" || f.Hold.String() != "30s" || f.NotFoundWindow.String() != "30s" || f.ServerIDs != nil {
		t.Errorf("defaults: %+v", f)
	}
	for _, c := range []struct{ yaml, want string }{
		{"  failover: {server_ids: [1, 2]}\n", ""},
		{"  failover: {probe_interval: 10ms}\n", "ldap.failover.probe_interval: must be at least 100ms, got 10ms"},
		{"  failover: {hold: -1s}\n", "ldap.failover.hold: must not be negative"},
		{"  failover: {not_found_window: -1s}\n", "ldap.failover.not_found_window: must not be negative"},
		{"  failover: {server_ids: [1]}\n", "ldap.failover.server_ids: must name one serverID per server (ldap.url and 1 failover_urls): 2, got 1"},
		{"  failover: {server_ids: [1, 1]}\n", "ldap.failover.server_ids[1]: duplicate serverID 1"},
		{"  failover: {server_ids: [0, 4096]}\n", "ldap.failover.server_ids[0]: must be an OpenLDAP serverID between 1 and 4095, got 0"},
		{"  failover: {server_ids: [0, 4096]}\n", "ldap.failover.server_ids[1]: must be an OpenLDAP serverID between 1 and 4095, got 4096"},
		{"  failover: {probe_intervall: 1s}\n", "probe_intervall"},
	} {
		_, err := load(c.yaml)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q: %v", c.yaml, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: got %v, want %q", c.yaml, err, c.want)
		}
	}
	// AD has no contextCSN: its domain controllers fail back on the hold time.
	cfg.LDAP.Flavor = config.FlavorAD
	cfg.LDAP.Failover.ServerIDs = []int{1, 2}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "ldap.failover.server_ids: is for OpenLDAP providers") {
		t.Errorf("server_ids with flavor ad: %v", err)
	}
}
