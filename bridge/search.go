package bridge

import (
	"context"

	"github.com/go-ldap/ldap/v3"
)

// anyPage asks the pool for its configured page size (ldap.page_size).
const anyPage = 0

// searchWindow returns the number of entries matching f under base and the
// entries at 1-based positions [start, start+count). It pages through the
// results (AD caps a plain search at 1000) and keeps only the window in memory.
// When the window ends before the matches do, it stops transferring attributes
// and counts the rest with a search that returns no attributes.
func searchWindow(ctx context.Context, dir Directory, base, f string, attrs []string, start, count int) (int, []*ldap.Entry, error) {
	if start < 1 {
		start = 1
	}
	if count <= 0 {
		n, err := countMatches(ctx, dir, base, f)
		return n, nil, err
	}
	end := start + count - 1
	var window []*ldap.Entry
	seen := 0
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, f, attrs, nil)
	// A small window needs no larger page; the pool caps it at ldap.page_size.
	complete, err := dir.SearchPaged(ctx, req, uint32(end), func(e *ldap.Entry) bool {
		seen++
		if seen >= start {
			window = append(window, e)
		}
		return seen < end
	})
	if err != nil || complete {
		return seen, window, err
	}
	n, err := countMatches(ctx, dir, base, f)
	return max(n, seen), window, err
}

// countMatches counts the entries matching f, transferring DNs only.
func countMatches(ctx context.Context, dir Directory, base, f string) (int, error) {
	n := 0
	req := ldap.NewSearchRequest(base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, f,
		[]string{"1.1"}, nil)
	_, err := dir.SearchPaged(ctx, req, anyPage, func(*ldap.Entry) bool { n++; return true })
	return n, err
}

// searchPaged runs req with the paged results control (RFC 2696) on one
// connection (the server keeps the paging state per connection), calling each
// for every entry until it returns false. It reports whether all results were
// seen. When stopped early it tells the server to drop the search state.
func searchPaged(c *ldap.Conn, req *ldap.SearchRequest, pageSize uint32, each func(*ldap.Entry) bool) (bool, error) {
	paging := ldap.NewControlPaging(pageSize)
	base := req.Controls
	for {
		req.Controls = append(append([]ldap.Control(nil), base...), paging)
		res, err := c.Search(req)
		if err != nil {
			return false, err
		}
		for i, e := range res.Entries {
			if !each(e) {
				cookie := nextCookie(res)
				if cookie != nil || i < len(res.Entries)-1 {
					abandonPaging(c, req, base, cookie)
					return false, nil
				}
				return true, nil
			}
		}
		cookie := nextCookie(res)
		if cookie == nil {
			return true, nil
		}
		paging.SetCookie(cookie)
	}
}

// abandonPaging sends a zero-size page with the cookie, which RFC 2696 §3
// defines as "abandon this paged search".
func abandonPaging(c *ldap.Conn, req *ldap.SearchRequest, base []ldap.Control, cookie []byte) {
	if cookie == nil {
		return
	}
	stop := ldap.NewControlPaging(0)
	stop.SetCookie(cookie)
	req.Controls = append(append([]ldap.Control(nil), base...), stop)
	_, _ = c.Search(req)
}

func nextCookie(res *ldap.SearchResult) []byte {
	c, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
	if !ok || len(c.Cookie) == 0 {
		return nil
	}
	return c.Cookie
}
