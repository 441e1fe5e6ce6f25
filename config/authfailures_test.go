package config_test

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
)

// server.auth_failures has a default (30 a minute, bursts of 10), takes
// explicit values through the file and the environment, and refuses
// negative numbers.
func TestAuthFailuresConfig(t *testing.T) {
	cfg := loadExample(t)
	if af := cfg.Server.AuthFailures; af.PerMinute != 30 || af.Burst != 10 {
		t.Errorf("default %+v, want 30 a minute, burst 10", af)
	}
	cfg = loadExample(t, "SCIMBRIDGE_SERVER__AUTH_FAILURES__PER_MINUTE=120", "SCIMBRIDGE_SERVER__AUTH_FAILURES__BURST=40")
	if af := cfg.Server.AuthFailures; af.PerMinute != 120 || af.Burst != 40 {
		t.Errorf("from the environment %+v, want 120 a minute, burst 40", af)
	}
	data := strings.Replace(string(examples.OpenLDAP), "server:\n", "server:\n  auth_failures: { per_minute: -1, burst: 5 }\n", 1)
	_, err := config.Load(config.Source{Data: []byte(data), Environ: exampleEnv()})
	if err == nil {
		t.Fatal("a negative per_minute was accepted")
	}
	ps := problems(t, err)
	if len(ps) != 1 || ps[0].Path != "server.auth_failures" || !strings.Contains(ps[0].Msg, "must not be negative") {
		t.Errorf("problems %v", err)
	}
}
