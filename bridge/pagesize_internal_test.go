package bridge

import (
	"testing"

	"github.com/scimbridge/scimbridge/config"
)

// ldap.page_size is the page of every paged search: the default when a
// caller has no preference, and a cap on what a caller asks.
func TestPoolPageSize(t *testing.T) {
	t.Parallel()
	p := &Pool{cfg: config.LDAPConfig{PageSize: 200}}
	for want, got := range map[uint32]uint32{0: 200, 50: 50, 200: 200, 1000: 200} {
		if n := p.pageSize(want); n != got {
			t.Errorf("pageSize(%d) = %d, want %d", want, n, got)
		}
	}
}
