package bridge_test

import (
	"net/http"
	"testing"
)

// BenchmarkListUsers: one list of 1,000 users (count=1000), the largest page
// a client may ask for; -benchmem gives the bytes one such request allocates.
func BenchmarkListUsers(b *testing.B) {
	h := newHarness(b, nil)
	bulkUsers(b, h, 1000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := h.do("GET", "/Users?count=1000", ""); r.status != http.StatusOK {
			b.Fatalf("%d %s", r.status, r.raw)
		}
	}
}
