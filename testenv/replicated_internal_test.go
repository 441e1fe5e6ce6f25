package testenv

import (
	"context"
	"errors"
	"testing"

	"github.com/scimbridge/scimbridge/internal/slapd"
)

// ProviderPair skips (or fails under CI) only on this error, so a pair must report a missing
// slapd the way a single server does.
func TestStartProviderPairNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	saved := slapd.SearchDirs
	slapd.SearchDirs = []string{t.TempDir()}
	t.Cleanup(func() { slapd.SearchDirs = saved })

	if _, err := StartProviderPair(context.Background(), SlapdOptions{}); !errors.Is(err, ErrSlapdNotFound) {
		t.Fatalf("err = %v, want ErrSlapdNotFound", err)
	}
}
