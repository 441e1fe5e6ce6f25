package bridge

import (
	"context"
	"errors"

	"github.com/go-ldap/ldap/v3"
)

// anyPage asks the pool for its configured page size (ldap.page_size).
const anyPage = 0

// countBound is the most DNs a list reads to count its matches where the
// directory cannot count them (no sorted lists): about 0.1-0.2 s of slapd's
// time. Past it, totalResults is a lower bound; see countMatches.
const countBound = 10000

// listQuery is one list's search.
type listQuery struct {
	base, filter string
	attrs        []string
	// sortKey orders the pages where the directory sorts them: the id
	// attribute, unique, so the order is total and the same on every page.
	sortKey string
	// filtered: the client sent a filter. Entra's are equality on userName,
	// externalId or displayName and match one entry or none.
	filtered bool
}

func (q listQuery) request(attrs []string) *ldap.SearchRequest {
	return ldap.NewSearchRequest(q.base, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 0, 0, false, q.filter, attrs, nil)
}

// searchWindow returns the number of entries q matches and the entries at
// 1-based positions [start, start+count); count 0 asks for the number only.
//
// Where the directory sorts and pages lists (sortedSearcher), one sorted
// search returns the page and the count, whatever start is: the directory
// counts without sending a DN. A filtered list's first page is tried first as
// a plain paged search instead: a filter that matches a page or less (every
// filter Entra sends) costs that one indexed search, where a sort would cost a
// connection (searchSorted closes it). Only when the matches outrun the page
// does the list go sorted, page included, so that every page of a client's
// walk comes in the same order: the sorted one (RFC 7644 §3.4.2.4 requires no
// order, but pages must neither repeat nor skip an entry while nothing
// changes).
//
// Elsewhere the entries come from a paged search (AD caps a plain search at
// 1000) and only the window is kept in memory; when the window ends before the
// matches do, countMatches counts the rest.
func searchWindow(ctx context.Context, dir Directory, q listQuery, start, count int) (int, []*ldap.Entry, error) {
	start = max(start, 1)
	sorter, _ := dir.(sortedSearcher)
	if sorter != nil && (!q.filtered || start > 1 || count <= 0) {
		total, window, err := sorter.searchSorted(ctx, q.request(q.attrs), q.sortKey, start, count)
		if !errors.Is(err, errNotSorted) {
			return total, window, err
		}
		sorter = nil
	}
	seen, window, complete, err := pagedWindow(ctx, dir, q, start, count)
	if err != nil || complete {
		return seen, window, err
	}
	if sorter != nil {
		total, sorted, err := sorter.searchSorted(ctx, q.request(q.attrs), q.sortKey, start, count)
		if !errors.Is(err, errNotSorted) {
			return total, sorted, err
		}
	}
	// A window that ended before the matches did says there are at least
	// start+count of them; a count alone (count 0) says nothing.
	more := 0
	if count > 0 {
		more = start + count
	}
	n, err := countMatches(ctx, dir, q, more, countBound)
	return max(n, seen), window, err
}

// pagedWindow pages through q's matches up to the window's end, keeping the
// window. complete: no match lies beyond the entries seen.
func pagedWindow(ctx context.Context, dir Directory, q listQuery, start, count int) (seen int, window []*ldap.Entry, complete bool, err error) {
	if count <= 0 {
		return 0, nil, false, nil
	}
	end := start + count - 1
	// A small window needs no larger page; the pool caps it at ldap.page_size.
	complete, err = dir.SearchPaged(ctx, q.request(q.attrs), uint32(end), func(e *ldap.Entry) bool {
		seen++
		if seen >= start {
			window = append(window, e)
		}
		return seen < end
	})
	return seen, window, complete, err
}

// countMatches counts q's matches where the directory cannot count them for
// us. It takes the paged-results size estimate (RFC 2696 §2) when the
// directory gives one that covers more than the entries already seen (Samba
// does, exactly; OpenLDAP and AD send 0). Else it reads DNs, at most bound:
// past that, the answer is bound or more (the first position not yet known
// to be empty), whichever is larger, so a client that pages until startIndex
// passes totalResults still reaches the last match.
func countMatches(ctx context.Context, dir Directory, q listQuery, more, bound int) (int, error) {
	if n, ok := sizeEstimate(ctx, dir, q); ok && n >= more {
		return n, nil
	}
	n := 0
	_, err := dir.SearchPaged(ctx, q.request([]string{"1.1"}), anyPage, func(*ldap.Entry) bool {
		n++
		return n < bound
	})
	if n >= bound {
		n = max(n, more)
	}
	return n, err
}

// sizeEstimate asks for the first page of one DN and reads the size the
// paged results response control estimates. The server keeps that search's
// state until the connection's next paged search replaces it (OpenLDAP) or
// it ages out (AD, Samba: ten per connection).
func sizeEstimate(ctx context.Context, dir Directory, q listQuery) (int, bool) {
	req := q.request([]string{"1.1"})
	req.Controls = []ldap.Control{ldap.NewControlPaging(1)}
	res, err := dir.Search(ctx, req)
	if err != nil {
		return 0, false
	}
	c, ok := ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging)
	if !ok || c.PagingSize == 0 {
		return 0, false
	}
	return int(c.PagingSize), true
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
