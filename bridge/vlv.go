package bridge

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"
)

// sortedSearcher pages a search on the server: sorted by one attribute
// (RFC 2891) and cut with the virtual list view (draft-ietf-ldapext-ldapv3-
// vlv-09), which also counts the matches. *Pool implements it where the
// directory offers both (OpenLDAP's sssvlv overlay, AD natively); wrappers of
// a Directory that do not pass it on leave lists on the paged path.
type sortedSearcher interface {
	// searchSorted returns the number of entries req matches and those at
	// the 1-based positions [start, start+count) in the order of key; count
	// 0 asks for the number only. errNotSorted: the directory does not sort
	// and page these entries, and the caller takes the paged path.
	searchSorted(ctx context.Context, req *ldap.SearchRequest, key string, start, count int) (int, []*ldap.Entry, error)
}

var (
	_ sortedSearcher = (*Pool)(nil)
	_ sortedSearcher = (*dryRun)(nil)
)

// errNotSorted: the directory does not offer sorted, paged lists, or refused
// one; see sortedSearcher.
var errNotSorted = errors.New("the directory does not sort and page lists")

// sortRefusedFor is how long a key the directory refused to sort by stays on
// the paged path before it is tried again: a setting (a missing ordering rule,
// an overlay on another database) does not change by itself, and every page
// of a client's walk should come in the same order.
const sortRefusedFor = 10 * time.Minute

// vlvState is what a Pool remembers of its directory's sorted lists: by
// sort key, until when a refusal stands.
type vlvState struct {
	mu      sync.Mutex
	refused map[string]time.Time // nil until the first refusal
}

// sorts tells whether lists sorted by key go to the directory: its root DSE
// lists both controls (Supports: read once per pool), and it has not refused
// key lately.
func (p *Pool) sorts(ctx context.Context, key string) bool {
	if !p.Supports(ctx, oidSort) || !p.Supports(ctx, oidVLV) {
		return false
	}
	st := &p.sorted
	st.mu.Lock()
	defer st.mu.Unlock()
	if until, ok := st.refused[key]; ok {
		if time.Now().Before(until) {
			return false
		}
		delete(st.refused, key)
	}
	return true
}

// refuse keeps key on the paged path for sortRefusedFor, and says so once.
func (p *Pool) refuse(key string, err error) {
	st := &p.sorted
	st.mu.Lock()
	defer st.mu.Unlock()
	if until, ok := st.refused[key]; ok && time.Now().Before(until) {
		return
	}
	if st.refused == nil {
		st.refused = map[string]time.Time{}
	}
	st.refused[key] = time.Now().Add(sortRefusedFor)
	p.log.Warn().Err(err).Str("sort_key", key).Dur("retry_in", sortRefusedFor).
		Msg("the directory refused a sorted, paged list: lists take the paged path, slow deep in a large directory, " +
			"and count at most 10,000 matches (docs/configuration.md, \"Lists\")")
}

// searchSorted implements sortedSearcher with one LDAP connection, which it
// closes afterwards instead of returning it to the pool: slapd's sssvlv keeps
// every VLV result set until its connection closes (only an exhausted paged
// sort is freed) and refuses new sorts on a connection that holds
// sssvlv-maxperconn of them, or on the server once sssvlv-max are held, so a
// pooled connection would carry one list's sort into the next requests
// (docs/directory-lab.md, "Sorted lists"). Each list is thereby
// self-contained: no VLV context outlives its request. The next operation
// dials again (about 1 ms on a LAN slapd).
func (p *Pool) searchSorted(ctx context.Context, req *ldap.SearchRequest, key string, start, count int) (int, []*ldap.Entry, error) {
	if !p.sorts(ctx, key) {
		return 0, nil, errNotSorted
	}
	var total int
	var window []*ldap.Entry
	err := p.do(ctx, "search", false, func(c *ldap.Conn) error {
		defer c.Close()
		var err error
		total, window, err = vlvWindow(c, req, key, start, count, int(p.pageSize(0)))
		return err
	})
	if refusedSort(err) {
		p.refuse(key, err)
		return 0, nil, errNotSorted
	}
	return total, window, err
}

// CheckSortedList tells, for `validate --online` on a directory whose root
// DSE offers both controls, whether it sorts and pages the entries under base
// by key, as lists ask: refusal is its answer when it will not (the key has
// no ORDERING rule, the overlay is on another database, ...), and those lists
// take the paged path. It sorts base alone (a base search): enough for the
// server to accept or refuse the controls and the key. err means the
// directory could not be asked.
func (p *Pool) CheckSortedList(ctx context.Context, base, key string) (refusal, err error) {
	req := ldap.NewSearchRequest(base, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil)
	err = p.do(ctx, "search", false, func(c *ldap.Conn) error {
		defer c.Close()
		_, _, err := vlvWindow(c, req, key, 1, 0, 1)
		return err
	})
	if refusedSort(err) {
		return err, nil
	}
	return nil, err
}

// refusedSort tells a directory that will not sort or page this search from
// one that failed: unavailableCriticalExtension (the controls are not offered
// for this database), noSuchAttribute or inappropriateMatching (the key is
// unknown or has no ORDERING rule), protocolError, adminLimitExceeded (AD: too
// large to sort without an index on the key), unwillingToPerform, a VLV error
// (76), or a malformed or missing response control. busy (51: sssvlv-max
// reached) is none of these: the request fails with 503 and is retried, where
// falling back would hand that one page over in another order.
func refusedSort(err error) bool {
	var bad *badVLVResponse
	return isCode(err, ldap.LDAPResultUnavailableCriticalExtension, ldap.LDAPResultNoSuchAttribute,
		ldap.LDAPResultInappropriateMatching, ldap.LDAPResultProtocolError, ldap.LDAPResultAdminLimitExceeded,
		ldap.LDAPResultUnwillingToPerform, ldapResultVLVError) || errors.As(err, &bad)
}

// ldapResultVLVError is virtualListViewError (draft vlv-09 §6.2 and
// OpenLDAP's LDAP_VLV_ERROR); go-ldap names no constant for it.
const ldapResultVLVError = 76

// badVLVResponse: the search succeeded but its VLV response control is
// missing or says the view failed; the directory did not do what was asked.
type badVLVResponse struct{ err error }

func (e *badVLVResponse) Error() string { return e.err.Error() }
func (e *badVLVResponse) Unwrap() error { return e.err }

// continueTries bounds the retries of a chunk that continues a result set
// and finds it busy (vlvWindow): 1+2+...+5 ms at most.
const continueTries = 5

// vlvWindow runs the sorted search on c: the entries at [start, start+count),
// at most chunk per request (a server may cap a VLV answer as it caps a page:
// AD at MaxPageSize); the requests after the first continue the same sorted
// result set through its contextID, on the same connection, within this one
// list. count 0 asks for the number of matches, with one DN.
func vlvWindow(c *ldap.Conn, base *ldap.SearchRequest, key string, start, count, chunk int) (int, []*ldap.Entry, error) {
	want, attrs := count, base.Attributes
	if count <= 0 {
		start, want, attrs = 1, 1, []string{"1.1"}
	}
	chunk = max(chunk, 1)
	var window []*ldap.Entry
	var contextID []byte
	total := 0
	for got := 0; got < want; {
		n := min(want-got, chunk)
		res, v, err := vlvSearch(c, base, attrs, key, start+got, n, contextID)
		for try := 1; contextID != nil && isCode(err, ldap.LDAPResultBusy) && try <= continueTries; try++ {
			// sssvlv answers a request before it marks the result set
			// idle, so the next chunk, sent at once, can find it still
			// running: Busy, "Other sort requests already in progress"
			// (6 of 300 here). It is idle a moment later.
			time.Sleep(time.Duration(try) * time.Millisecond)
			res, v, err = vlvSearch(c, base, attrs, key, start+got, n, contextID)
		}
		if got == 0 && pastTheEnd(err) {
			// startIndex beyond the last match: sssvlv answers 76 and
			// go-ldap drops the response control of a failed search, so
			// the count comes from a view at offset 1.
			_, v, err = vlvSearch(c, base, []string{"1.1"}, key, 1, 1, nil)
			return v.count, nil, err
		}
		if err != nil {
			return 0, nil, err
		}
		total = v.count
		entries := inView(res.Entries, v, start+got, n)
		window = append(window, entries...)
		got += n
		if len(entries) < n || start+got > total {
			break
		}
		contextID = v.contextID
	}
	if count <= 0 {
		window = nil
	}
	return total, window, nil
}

// inView keeps the entries of one VLV answer that lie at the positions
// [offset, offset+n) asked for. A server may place the view elsewhere: Samba
// answers an offset past the last match with the last entry (its
// targetPosition says where the entries start; beforeCount is 0).
func inView(entries []*ldap.Entry, v vlvResponse, offset, n int) []*ldap.Entry {
	if offset > v.count {
		return nil
	}
	if v.target == 0 || v.target == offset {
		return entries
	}
	var kept []*ldap.Entry
	for i, e := range entries {
		if pos := v.target + i; pos >= offset && pos < offset+n {
			kept = append(kept, e)
		}
	}
	return kept
}

// vlvSearch is one request of vlvWindow.
func vlvSearch(c *ldap.Conn, base *ldap.SearchRequest, attrs []string, key string, offset, n int, contextID []byte) (*ldap.SearchResult, vlvResponse, error) {
	req := *base
	req.Attributes = attrs
	req.Controls = append(slices.Clip(base.Controls), sortControl(key), vlvControl(offset, n-1, contextID))
	res, err := c.Search(&req)
	if err != nil {
		return nil, vlvResponse{}, err
	}
	v, err := findVLVResponse(res.Controls)
	if err == nil && v.result != 0 {
		err = fmt.Errorf("the VLV response says %d (%s)", v.result, ldap.LDAPResultCodeMap[uint16(v.result)])
	}
	if err != nil {
		return nil, vlvResponse{}, &badVLVResponse{err: err}
	}
	return res, v, nil
}

// searchSorted lets a dry run's lists be sorted by the directory too: they
// only read.
func (d *dryRun) searchSorted(ctx context.Context, req *ldap.SearchRequest, key string, start, count int) (int, []*ldap.Entry, error) {
	if s, ok := d.Directory.(sortedSearcher); ok {
		return s.searchSorted(ctx, req, key, start, count)
	}
	return 0, nil, errNotSorted
}

// pastTheEnd: the view's offset lies beyond the last match. OpenLDAP answers
// virtualListViewError (76) then; a server that follows vlv-09 §6.1 with
// contentCount 0 answers success with targetPosition past the count instead,
// which vlvWindow handles as a short window.
func pastTheEnd(err error) bool {
	return isCode(err, ldapResultVLVError)
}
