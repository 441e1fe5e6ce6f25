package daemon

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/go-ldap/ldap/v3"
)

// The result label: what the server answered, or network for a connection
// that failed, however go-ldap or the pool reports it.
func TestLDAPResultLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{nil, "success"},
		{ldap.NewError(ldap.LDAPResultEntryAlreadyExists, errors.New("exists")), "68"},
		{fmt.Errorf("ldap add: %w", ldap.NewError(ldap.LDAPResultUnavailable, errors.New("x"))), "52"},
		{ldap.NewError(ldap.LDAPResultBusy, errors.New("busy")), "51"},
		{ldap.NewError(ldap.ErrorNetwork, errors.New("ldap: connection closed")), "network"},
		{fmt.Errorf("ldap search: %w", ldap.NewError(ldap.ErrorNetwork, errors.New("read: connection reset"))), "network"},
		{context.DeadlineExceeded, "network"},
	}
	for _, tc := range tests {
		if got := ldapResult(tc.err); got != tc.want {
			t.Errorf("ldapResult(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
