package bridge_test

import (
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/config"
)

// Lists and counts that take several pages from slapd (ldap.page_size 2)
// still see every user and count them right. That the pool uses the
// configured size is TestPoolPageSize's: a page's size cannot be seen from
// here, a wrong paging loop can.
func TestListsAcrossSmallPages(t *testing.T) {
	t.Parallel()
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
