// Package testenv runs real, throwaway directory servers for scimbridge's
// tests: a private slapd (internal/slapd, shared with `scimbridge demo`), two
// slapds replicating to each other (Pair, for high availability), a Samba AD
// DC and Pebble, and the helpers tests use to reach them.
package testenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// The slapd launcher lives in internal/slapd, which does not import testing,
// so that the demo can use it without linking test code into the binary.
// These names keep the tests' vocabulary.
type (
	// Server is what a test needs to reach a directory.
	Server = slapd.Server
	// Slapd is a running private slapd.
	Slapd = slapd.Slapd
	// SlapdOptions tunes StartSlapd.
	SlapdOptions = slapd.Options
	// TestCA is a throwaway certificate authority for TLS tests.
	TestCA = slapd.TestCA
)

// Fixed names of the throwaway directory (see internal/slapd).
const (
	DefaultBaseDN   = slapd.DefaultBaseDN
	DefaultBindDN   = slapd.DefaultBindDN
	DefaultPassword = slapd.DefaultPassword
	NobodyDN        = slapd.NobodyDN
)

// ErrSlapdNotFound is returned when slapd is not installed.
var ErrSlapdNotFound = slapd.ErrNotFound

// StartSlapd starts a private slapd (slapd.Start).
func StartSlapd(ctx context.Context, opts SlapdOptions) (*Slapd, error) {
	return slapd.Start(ctx, opts)
}

// NewTestCA, WriteTLSFiles and CertPoolFromFile are internal/slapd's TLS helpers.
var (
	NewTestCA        = slapd.NewTestCA
	WriteTLSFiles    = slapd.WriteTLSFiles
	CertPoolFromFile = slapd.CertPoolFromFile
)

// PrivateSlapd starts a slapd of the test's own, stopped when the test ends:
// for tests that stop, restart or reconfigure it. Without slapd the test is
// skipped, or fails under CI=true.
func PrivateSlapd(t testing.TB) *Slapd {
	t.Helper()
	s, err := StartSlapd(context.Background(), SlapdOptions{})
	if err != nil {
		if CIRequiresServer() {
			t.Fatal(err)
		}
		t.Skipf("no slapd (would fail under CI=true): %v", err)
	}
	t.Cleanup(func() { _ = s.Resume(); _ = s.Stop() })
	return s
}

// WithoutOverlay restarts s with its configuration less every line that
// names overlay (e.g. "sssvlv"): the same directory as testenv's, without
// that one feature.
func WithoutOverlay(t testing.TB, s *Slapd, overlay string) {
	t.Helper()
	conf := filepath.Join(s.Dir(), "slapd.conf")
	raw, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(raw), "\n") {
		if !strings.Contains(line, overlay) {
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
}
