package bridge

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// numberAllocator hands out posix numbers (gidNumber for groups, uidNumber
// for users) from a counter entry in the directory. Taking a number is a compare-and-swap (delete the value read, add
// the next one, in one modify): if another bridge took it first the delete
// fails and we read again, so two bridges never get the same number and the
// daemon keeps no state.
//
// The compare-and-swap is atomic on one server only. With replicas
// (ldap.failover_urls), numbers the primary handed out but had not replicated
// when it failed are still free on the replica that takes over, so each
// server gets its own counter and range (…ranges) and the allocator uses the
// one of the server the request runs on: no counter is ever written on two
// servers, and the ranges do not overlap (issue 14).
type numberAllocator struct {
	dir Directory
	// ranges are the counters by directory server index. single is the form
	// with one counter_dn, which every server shares and which has no end.
	ranges []config.NumberRange
	single bool
	// last is the server the last number came from: the first guess of
	// the next request's.
	last atomic.Int64
	// attr is the attribute allocated, and the one the counter entry holds;
	// key is its configuration (users.uid_number or groups.gid_number).
	attr, key string
}

// serverOf is what the allocator needs of the pool: the index, in ldap.url
// then ldap.failover_urls, of the directory server a request's operations run
// on (the pool pins a request to the server of its first operation). It is
// asked instead of being part of Directory so that wrappers and test doubles
// need not know about servers; they count as server 0.
type serverOf interface {
	Server(ctx context.Context) int
}

// newNumberAllocator allocates attr as configured under key; nil when no
// counter is configured.
func newNumberAllocator(dir Directory, c config.GIDNumberConfig, attr, key string) *numberAllocator {
	ranges := c.Counters()
	if len(ranges) == 0 {
		return nil
	}
	return &numberAllocator{dir: dir, ranges: ranges, single: len(c.Ranges) == 0, attr: attr, key: key}
}

// server is the index of the directory server the request in ctx runs on;
// 0 for the single counter, which every server shares.
func (a *numberAllocator) server(ctx context.Context) int {
	if s, ok := a.dir.(serverOf); ok && !a.single {
		return s.Server(ctx)
	}
	return 0
}

// rangeOf is the range of directory server i and its path in the
// configuration (for messages).
func (a *numberAllocator) rangeOf(i int) (config.NumberRange, string, error) {
	if a.single {
		return a.ranges[0], a.key, nil
	}
	if i < 0 || i >= len(a.ranges) {
		// Validate allows no such configuration; refuse rather than take
		// another server's numbers.
		return config.NumberRange{}, "", scimerr.New(scimerr.Internal, "%s.ranges has %d ranges, none for directory server %d (%s)",
			a.key, len(a.ranges), i, serverName(i))
	}
	return a.ranges[i], fmt.Sprintf("%s.ranges[%d]", a.key, i), nil
}

// serverName is the configuration key of directory server i.
func serverName(i int) string {
	if i == 0 {
		return "ldap.url"
	}
	return fmt.Sprintf("ldap.failover_urls[%d]", i-1)
}

func (a *numberAllocator) next(ctx context.Context) (string, error) {
	// The pool is asked only after the counter read: asked first, it would
	// pin a request that has not run an operation yet to the server in use
	// before anything showed that server still answers, and on a fresh pool
	// whose ldap.url is down the request would be refused (503) instead of
	// failing over. So the read goes to the counter of the server the last
	// number came from, and to the right one when that guess was wrong.
	server := int(a.last.Load())
	for attempt := 0; attempt < 20; attempt++ {
		r, path, err := a.rangeOf(server)
		if err != nil {
			return "", err
		}
		res, err := a.dir.Search(ctx, ldap.NewSearchRequest(r.CounterDN, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0,
			false, "(objectClass=*)", []string{a.attr}, nil))
		// The read ran on the server the request is pinned to now. If that
		// is not the one guessed, nothing has been written: read its own
		// counter instead, before any counter is created or changed.
		if now := a.server(ctx); now != server {
			server = now
			continue
		}
		if noSuchEntry(err) {
			if err := a.create(ctx, r, path); err != nil {
				return "", err
			}
			continue
		}
		if err != nil {
			return "", failed("read "+a.attr+" counter", err)
		}
		if len(res.Entries) == 0 {
			return "", scimerr.New(scimerr.Internal, "%s counter %s cannot be read", a.attr, r.CounterDN)
		}
		cur := res.Entries[0].GetAttributeValue(a.attr)
		n, err := strconv.Atoi(cur)
		if err != nil {
			return "", scimerr.Wrap(scimerr.Internal, err, "%s counter %s holds %q", a.attr, r.CounterDN, cur)
		}
		// Only a range has an end. Running out is the admin's to fix, in
		// the configuration, so the answer is a 500 whose logged detail says
		// where, not a 503 that asks the client to retry in vain.
		if r.End > 0 && n > r.End {
			return "", scimerr.New(scimerr.Internal, "%s: the %s range %d-%d of directory server %d (%s) is exhausted "+
				"(counter %s holds %d): raise its end, or give the server another range with a counter of its own",
				path, a.attr, r.Start, r.End, server, serverName(server), r.CounterDN, n)
		}
		// A counter below its range was set by hand or belongs to another
		// range: its numbers could be another server's.
		if r.End > 0 && n < r.Start {
			return "", scimerr.New(scimerr.Internal, "%s: counter %s holds %d, below the range %d-%d of directory server %d (%s): "+
				"set it to a number of the range", path, r.CounterDN, n, r.Start, r.End, server, serverName(server))
		}
		req := ldap.NewModifyRequest(r.CounterDN, nil)
		req.Delete(a.attr, []string{cur})
		req.Add(a.attr, []string{strconv.Itoa(n + 1)})
		err = a.dir.Modify(ctx, req)
		if valueGone(err) {
			continue // another bridge took this number
		}
		if err != nil {
			return "", failed("take "+a.attr, err)
		}
		a.last.Store(int64(server))
		return cur, nil
	}
	return "", scimerr.New(scimerr.Unavailable, "%s counter too contended, retry later", a.attr)
}

// create makes the counter entry; device + extensibleObject are in every
// OpenLDAP core schema and keep the counter out of posixGroup searches.
func (a *numberAllocator) create(ctx context.Context, r config.NumberRange, path string) error {
	dn, err := ldap.ParseDN(r.CounterDN)
	if err != nil || len(dn.RDNs) == 0 || len(dn.RDNs[0].Attributes) == 0 {
		return scimerr.Wrap(scimerr.Internal, err, "%s.counter_dn %q", path, r.CounterDN)
	}
	rdn := dn.RDNs[0].Attributes[0]
	req := ldap.NewAddRequest(r.CounterDN, nil)
	req.Attribute("objectClass", []string{"top", "device", "extensibleObject"})
	req.Attribute(rdn.Type, []string{rdn.Value})
	req.Attribute(a.attr, []string{strconv.Itoa(r.Start)})
	err = a.dir.Add(ctx, req)
	if err != nil && !nameTaken(err) {
		return failed("create "+a.attr+" counter", err)
	}
	return nil
}
