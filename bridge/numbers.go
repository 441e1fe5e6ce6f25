package bridge

import (
	"context"
	"strconv"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// numberAllocator hands out posix numbers (gidNumber for groups, uidNumber
// for users) from a counter entry in the directory. Taking a number is a compare-and-swap (delete the value read, add
// the next one, in one modify): if another bridge took it first the delete
// fails and we read again, so two bridges never get the same number and the
// daemon keeps no state.
type numberAllocator struct {
	dir   Directory
	dn    string
	start int
	// attr is the attribute allocated, and the one the counter entry holds;
	// key is its configuration (users.uid_number or groups.gid_number).
	attr, key string
}

// newNumberAllocator allocates attr as configured under key; nil when no
// counter is configured.
func newNumberAllocator(dir Directory, c config.GIDNumberConfig, attr, key string) *numberAllocator {
	if c.CounterDN == "" {
		return nil
	}
	return &numberAllocator{dir: dir, dn: c.CounterDN, start: c.Start, attr: attr, key: key}
}

func (a *numberAllocator) next(ctx context.Context) (string, error) {
	for attempt := 0; attempt < 20; attempt++ {
		res, err := a.dir.Search(ctx, ldap.NewSearchRequest(a.dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0,
			false, "(objectClass=*)", []string{a.attr}, nil))
		if noSuchEntry(err) {
			if err := a.create(ctx); err != nil {
				return "", err
			}
			continue
		}
		if err != nil {
			return "", failed("read "+a.attr+" counter", err)
		}
		if len(res.Entries) == 0 {
			return "", scimerr.New(scimerr.Internal, "%s counter %s cannot be read", a.attr, a.dn)
		}
		cur := res.Entries[0].GetAttributeValue(a.attr)
		n, err := strconv.Atoi(cur)
		if err != nil {
			return "", scimerr.Wrap(scimerr.Internal, err, "%s counter %s holds %q", a.attr, a.dn, cur)
		}
		req := ldap.NewModifyRequest(a.dn, nil)
		req.Delete(a.attr, []string{cur})
		req.Add(a.attr, []string{strconv.Itoa(n + 1)})
		err = a.dir.Modify(ctx, req)
		if valueGone(err) {
			continue // another bridge took this number
		}
		if err != nil {
			return "", failed("take "+a.attr, err)
		}
		return cur, nil
	}
	return "", scimerr.New(scimerr.Unavailable, "%s counter too contended, retry later", a.attr)
}

// create makes the counter entry; device + extensibleObject are in every
// OpenLDAP core schema and keep the counter out of posixGroup searches.
func (a *numberAllocator) create(ctx context.Context) error {
	dn, err := ldap.ParseDN(a.dn)
	if err != nil || len(dn.RDNs) == 0 || len(dn.RDNs[0].Attributes) == 0 {
		return scimerr.Wrap(scimerr.Internal, err, "%s.counter_dn %q", a.key, a.dn)
	}
	rdn := dn.RDNs[0].Attributes[0]
	req := ldap.NewAddRequest(a.dn, nil)
	req.Attribute("objectClass", []string{"top", "device", "extensibleObject"})
	req.Attribute(rdn.Type, []string{rdn.Value})
	req.Attribute(a.attr, []string{strconv.Itoa(a.start)})
	err = a.dir.Add(ctx, req)
	if err != nil && !nameTaken(err) {
		return failed("create "+a.attr+" counter", err)
	}
	return nil
}
