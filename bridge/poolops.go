package bridge

import (
	"context"

	"github.com/go-ldap/ldap/v3"
)

// The LDAP operations the use cases send through the pool (Directory). Each
// runs on one pooled connection; pool.go holds how connections are lent.

// Search runs a search.
func (p *Pool) Search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	var res *ldap.SearchResult
	err := p.do(ctx, "search", false, func(c *ldap.Conn) error {
		var err error
		res, err = c.Search(req)
		return err
	})
	return res, err
}

// SearchPaged runs a paged search on one connection; see searchPaged.
func (p *Pool) SearchPaged(ctx context.Context, req *ldap.SearchRequest, pageSize uint32, each func(*ldap.Entry) bool) (bool, error) {
	pageSize = p.pageSize(pageSize)
	var complete bool
	// Not retried: each has already seen the entries of a failed attempt.
	err := p.do(ctx, "search", true, func(c *ldap.Conn) error {
		var err error
		complete, err = searchPaged(c, req, pageSize, each)
		return err
	})
	return complete, err
}

// Add adds an entry. A request carrying the post-read control (postRead)
// gets the new entry in that control, when the directory sent it back, as
// Pool.Modify does: that entry, with its entryUUID, is the one this add
// made, whereas a read by DN afterwards may find another client's entry of
// the same DN (issue 14). AddWithResult is our patch to go-ldap
// (internal/third_party/ldap/PATCHES.md).
func (p *Pool) Add(ctx context.Context, req *ldap.AddRequest) error {
	pr := postReadIn(req.Controls)
	if pr == nil {
		return p.do(ctx, "add", true, func(c *ldap.Conn) error { return c.Add(req) })
	}
	return p.do(ctx, "add", true, func(c *ldap.Conn) error {
		res, err := c.AddWithResult(req)
		if err == nil {
			pr.entry = postReadEntry(res.Controls)
		}
		return err
	})
}

// Modify modifies an entry. A request carrying the post-read control
// (postRead) gets the entry as the modify left it in that control, when the
// directory sent it back.
func (p *Pool) Modify(ctx context.Context, req *ldap.ModifyRequest) error {
	pr := postReadIn(req.Controls)
	if pr == nil {
		return p.do(ctx, "modify", true, func(c *ldap.Conn) error { return c.Modify(req) })
	}
	return p.do(ctx, "modify", true, func(c *ldap.Conn) error {
		res, err := c.ModifyWithResult(req)
		if err == nil {
			pr.entry = postReadEntry(res.Controls)
		}
		return err
	})
}

// Supports tells whether the directory lists the control oid in its root
// DSE's supportedControl. The root DSE is read on the first call and kept
// for the pool's life (a reload opens a new pool); when the read fails, the
// answer is false and the next call reads again.
func (p *Pool) Supports(ctx context.Context, oid string) bool {
	p.mu.Lock()
	known := p.controls
	p.mu.Unlock()
	if known == nil {
		res, err := p.Search(ctx, ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
			"(objectClass=*)", []string{"supportedControl"}, nil))
		if err != nil || len(res.Entries) == 0 {
			p.log.Debug().Err(err).Msg("root DSE unreadable: writes go without the controls it would list")
			return false
		}
		known = map[string]bool{}
		for _, c := range res.Entries[0].GetEqualFoldAttributeValues("supportedControl") {
			known[c] = true
		}
		p.mu.Lock()
		p.controls = known
		p.mu.Unlock()
	}
	return known[oid]
}

// ModifyDN renames an entry.
func (p *Pool) ModifyDN(ctx context.Context, req *ldap.ModifyDNRequest) error {
	return p.do(ctx, "modrdn", true, func(c *ldap.Conn) error { return c.ModifyDN(req) })
}

// Del deletes an entry.
func (p *Pool) Del(ctx context.Context, req *ldap.DelRequest) error {
	return p.do(ctx, "delete", true, func(c *ldap.Conn) error { return c.Del(req) })
}

// Ping checks that a bound connection can be had and the directory answers.
func (p *Pool) Ping(ctx context.Context) error {
	_, err := p.Search(ctx, ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"1.1"}, nil))
	return err
}
