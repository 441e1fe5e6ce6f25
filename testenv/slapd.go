// Package testenv runs real, throwaway directory servers for scimbridge's
// tests: a private slapd (internal/slapd, shared with `scimbridge demo`), a
// Samba AD DC and Pebble, and the helpers tests use to reach them.
package testenv

import (
	"context"

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
