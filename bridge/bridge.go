package bridge

import (
	"context"
	"errors"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
)

// Options is everything the use cases need; New returns them complete.
type Options struct {
	// Dir is the directory: the pool, or a wrapper around it (dry run).
	Dir Directory
	// Users is the user mapping; Groups the group mapping, nil when
	// /Groups is off.
	Users  *ldapmap.Map
	Groups *ldapmap.GroupMap
	// AD switches on Active Directory's rules (name collisions, permissive
	// member modifies, tree delete).
	AD bool
	// UIDNumber and GIDNumber are the posix number counters
	// (users.uid_number, groups.gid_number); zero values allocate nothing.
	UIDNumber, GIDNumber config.GIDNumberConfig
	// DefaultGroups are the groups every new user joins (needs Groups).
	DefaultGroups []string
	Log           zerolog.Logger
}

// New builds the user and group use cases over o.Dir. Groups is nil when
// o.Groups is: users then show no groups and join none.
func New(o Options) (*Users, *Groups) {
	u := &Users{
		dir: o.Dir, m: o.Users, log: o.Log, ad: o.AD,
		uidNumbers: newNumberAllocator(o.Dir, o.UIDNumber, "uidNumber", "users.uid_number"),
	}
	if o.Groups == nil {
		return u, nil
	}
	g := &Groups{
		dir: o.Dir, g: o.Groups, users: u, log: o.Log, ad: o.AD,
		gid: newNumberAllocator(o.Dir, o.GIDNumber, "gidNumber", "groups.gid_number"),
	}
	u.groups, u.defaultGroups = g, o.DefaultGroups
	return u, g
}

// Observe makes the pool report each LDAP operation (op, duration, error)
// and each wait for a free connection, for metrics. Call it before use.
func (p *Pool) Observe(op func(op string, d time.Duration, err error), waited func(time.Duration)) {
	p.observe, p.waited = op, waited
}

// DryRun wraps dir so that reads go to the directory and writes are only
// logged as LDIF (and handed to record when set): server.dry_run and
// `scimbridge preview`. Each request needs DryRunContext.
func DryRun(dir Directory, log zerolog.Logger, record func(op, ldif string)) Directory {
	return &dryRun{Directory: dir, log: log, record: record}
}

// DryRunContext gives a request its own memory of dry-run writes, so that it
// answers as it would have (a create reads back the entry it "added").
func DryRunContext(ctx context.Context) context.Context { return withOverlay(ctx) }

// ConnectionLost tells whether err means the directory could not be reached
// (or stopped answering), as opposed to an answer: a broken connection, the
// pool's ErrBusy, ErrDown or ErrClosed, or a request whose time ran out
// before its operation was sent.
func ConnectionLost(err error) bool {
	var pe *poolError
	var be *budgetError
	return connBroken(err) || errors.As(err, &pe) || errors.As(err, &be)
}
