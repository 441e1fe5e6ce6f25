// Package scimreq holds what a SCIM request hands to the stores that serve
// it, apart from the resource itself: the attributes the client wants, its
// If-Match, and the trail of LDAP writes for the audit line. It imports no
// HTTP framework, so the use cases (package bridge) depend on SCIM's
// semantics, not on how scimapi serves them.
package scimreq

import (
	"context"
	"strings"
	"sync"

	"github.com/scimbridge/scimbridge/scimapi/filter"
)

// Fields are the attributes a client asked for with attributes and
// excludedAttributes (RFC 7644 §3.9), handed to stores so they can skip
// expensive ones: a group's member list above all.
type Fields struct {
	Attributes, Excluded []string
}

// Wants tells whether the top-level attribute name is to be returned.
func (f Fields) Wants(name string) bool {
	top := func(a string) string {
		p, err := filter.ParsePath(a)
		if err != nil {
			return a
		}
		return p.Attr
	}
	for _, a := range f.Excluded {
		if strings.EqualFold(top(a), name) {
			return false
		}
	}
	if len(f.Attributes) == 0 {
		return true
	}
	for _, a := range f.Attributes {
		if strings.EqualFold(top(a), name) {
			return true
		}
	}
	return false
}

// ETagMatches reports whether a resource at version satisfies ifMatch, an
// If-Match value as scimapi passes it to a store: "" (no If-Match) and "*"
// match any version, otherwise version must equal one of the listed
// entity-tags. Tags are compared as sent, W/ included: meta.version is a weak
// ETag (RFC 7644 §3.14), and the strong comparison RFC 9110 §13.1.1 asks
// for would make every SCIM version fail. A value that is not an entity-tag
// list is split at commas and compared as it is, so it matches nothing.
func ETagMatches(ifMatch, version string) bool {
	if strings.TrimSpace(ifMatch) == "" {
		return true
	}
	for _, tag := range etagList(ifMatch) {
		if tag == "*" || tag == version {
			return true
		}
	}
	return false
}

// etagList splits an If-Match value into its elements. A quoted entity-tag
// may hold a comma, so tags are read quote to quote, not split at commas.
func etagList(s string) []string {
	var out []string
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		open := 0
		if strings.HasPrefix(s, "W/") {
			open = 2
		}
		if len(s) > open && s[open] == '"' {
			if end := strings.IndexByte(s[open+1:], '"'); end >= 0 {
				n := open + 1 + end + 1
				out = append(out, s[:n])
				s = s[n:]
				continue
			}
		}
		var tag string
		tag, s, _ = strings.Cut(s, ",")
		out = append(out, strings.TrimSpace(tag))
	}
}

// AuditWrite is one LDAP write done for a SCIM request.
type AuditWrite struct {
	Op         string
	DN         string
	Attributes []string
	Err        error
	// DryRun marks a write that server.dry_run did not perform.
	DryRun bool
}

// Trail collects the LDAP writes of one request, for its audit line.
type Trail struct {
	mu     sync.Mutex
	writes []AuditWrite
}

type trailKey struct{}

// WithTrail gives a request a trail of its writes.
func WithTrail(ctx context.Context) (context.Context, *Trail) {
	t := &Trail{}
	return context.WithValue(ctx, trailKey{}, t), t
}

// RecordWrite adds an LDAP write to the request's audit line. Only attribute
// names are recorded: values may be personal data or passwords.
func RecordWrite(ctx context.Context, w AuditWrite) {
	if t, ok := ctx.Value(trailKey{}).(*Trail); ok {
		t.mu.Lock()
		t.writes = append(t.writes, w)
		t.mu.Unlock()
	}
}

// Writes returns the writes recorded so far.
func (t *Trail) Writes() []AuditWrite {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]AuditWrite(nil), t.writes...)
}
