package bridge_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/scimapi/scimtest"
)

// TestGoldenEntraLDAP replays Entra's golden exchanges (scimapi/testdata/entra,
// also replayed over an in-memory store by scimapi's TestGoldenEntra) through
// the whole bridge on examples/openldap.yaml and slapd, one namespace per file.
func TestGoldenEntraLDAP(t *testing.T) {
	for _, f := range scimtest.Load(t, "../scimapi/testdata/entra") {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			scimtest.Replay(t, f, scimtest.Target{
				Handler: h.App.Handler(), BaseURL: "http://bridge.test/scim/v2",
				Token: h.Token, Tier: scimtest.TierLDAP,
			})
		})
	}
}
