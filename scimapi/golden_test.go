package scimapi_test

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/scimtest"
)

// goldenDir holds Entra's exchanges, replayed here through scimapi over an
// in-memory store and in bridge/golden_test.go through the whole bridge on
// slapd.
const goldenDir = "testdata/entra"

// lockedBuffer is a log sink the parallel replays may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// goldenServer is scimapi over fresh in-memory stores, as a Tenant URL.
func goldenServer(t *testing.T, audit *lockedBuffer) scimtest.Target {
	t.Helper()
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	sum, err := scimapi.ParseTokenHash(hash)
	if err != nil {
		t.Fatal(err)
	}
	auditLog := zerolog.New(audit)
	srv := scimapi.New(scimapi.Options{
		BasePath:     "/scim/v2",
		MaxBodyBytes: 1 << 20,
		Tokens:       []scimapi.Token{{Name: "entra", SHA256: sum}},
		Log:          zerolog.Nop(),
		Audit:        &auditLog,
	}, newMemUsers(), newMemGroups())
	return scimtest.Target{Handler: srv, BaseURL: "http://bridge.test/scim/v2", Token: tok, Tier: scimtest.TierMemory}
}

// TestGoldenEntra replays every golden file against scimapi, and checks that
// each authenticated write left exactly one audit line.
func TestGoldenEntra(t *testing.T) {
	for _, f := range scimtest.Load(t, goldenDir) {
		t.Run(f.Name, func(t *testing.T) {
			t.Parallel()
			audit := &lockedBuffer{}
			scimtest.Replay(t, f, goldenServer(t, audit))
			want := 0
			for _, x := range f.Exchanges {
				if x.RunsOn(scimtest.TierMemory) && x.IsWrite() && x.Auth == "" {
					want++
				}
			}
			if got := strings.Count(audit.String(), `"audit":"scim_write"`); got != want {
				t.Errorf("%d audit lines, want one per authenticated write (%d):\n%s", got, want, audit.String())
			}
		})
	}
}
