package bridge_test

import (
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/config"
)

// With ldap.page_size 2, lists and counts page through slapd two entries at
// a time and still see every user.
func TestListsPageWithConfiguredPageSize(t *testing.T) {
	h := newHarness(t, func(c *config.Config) { c.LDAP.PageSize = 2 })
	for i := 0; i < 5; i++ {
		h.user("paged" + itoa(i))
	}
	all := h.must(http.StatusOK, "GET", "/Users?count=5", "")
	if all.body["totalResults"] != jsonNumber(5) || all.body["itemsPerPage"] != jsonNumber(5) {
		t.Errorf("count=5: %s", all.raw)
	}
	some := h.must(http.StatusOK, "GET", "/Users?startIndex=2&count=3", "")
	if some.body["totalResults"] != jsonNumber(5) || some.body["itemsPerPage"] != jsonNumber(3) {
		t.Errorf("startIndex=2&count=3: %s", some.raw)
	}
}
