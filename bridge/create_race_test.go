package bridge_test

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/daemon"
)

// lostRace is a directory on which every add the bridge makes loses a race
// the moment it succeeds: another client's entry takes its DN before the
// bridge can read anything back. That is what two bridges adding the same
// DN on two replicating servers can see (both adds succeed, and replication
// leaves the other one's entry at the DN), made deterministic on one slapd:
// the entry is deleted and added again, with the same attributes and so a
// new entryUUID, over the admin connection, which the operation log does not
// count.
type lostRace struct {
	bridge.Directory
	t     *testing.T
	admin *ldap.Conn
	mu    sync.Mutex
	// ours and theirs are the entryUUIDs of the entries the bridge added and
	// of the entries that replaced them, in order.
	ours, theirs []string
}

func (d *lostRace) Add(ctx context.Context, req *ldap.AddRequest) error {
	if err := d.Directory.Add(ctx, req); err != nil {
		return err
	}
	ours := entryUUIDAt(d.t, d.admin, req.DN)
	if err := d.admin.Del(ldap.NewDelRequest(req.DN, nil)); err != nil {
		d.t.Errorf("lostRace: delete %s: %v", req.DN, err)
	}
	if err := d.admin.Add(&ldap.AddRequest{DN: req.DN, Attributes: req.Attributes}); err != nil {
		d.t.Errorf("lostRace: add %s again: %v", req.DN, err)
	}
	theirs := entryUUIDAt(d.t, d.admin, req.DN)
	d.mu.Lock()
	d.ours, d.theirs = append(d.ours, ours), append(d.theirs, theirs)
	d.mu.Unlock()
	return nil
}

// last returns the entryUUIDs of the last add: the bridge's and the one that
// replaced it.
func (d *lostRace) last() (ours, theirs string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.ours) == 0 {
		d.t.Fatal("lostRace: no add seen")
	}
	return d.ours[len(d.ours)-1], d.theirs[len(d.theirs)-1]
}

func entryUUIDAt(t *testing.T, c *ldap.Conn, dn string) string {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 0, false,
		"(objectClass=*)", []string{"entryUUID"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("entryUUID of %s: %v", dn, err)
	}
	return res.Entries[0].GetAttributeValue("entryUUID")
}

// raceBridge runs a bridge on h's namespace whose adds lose the race
// (lostRace), logged by the returned opLog; wrap, when not nil, goes
// between the log and the race (withoutPostRead).
func raceBridge(t *testing.T, first *harness, wrap func(*opLog) bridge.Directory) (*harness, *opLog, *lostRace) {
	t.Helper()
	log := &opLog{people: first.NS.People, groups: first.NS.Groups}
	race := &lostRace{t: t, admin: first.LDAP}
	h := rebuildWith(t, first, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory {
		log.Directory = d
		race.Directory = log
		if wrap != nil {
			race.Directory = wrap(log)
		}
		return race
	}))
	return h, log, race
}

func wantOps(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s: LDAP operations\n got  %q\n want %q", what, got, want)
	}
}

// A create that loses the race answers the entry its own add made, which the
// post-read control brought back: its entryUUID, never the id of the entry
// that took the DN, so two clients are never given one SCIM id (issue 14).
// Our entry is gone, so the id is then not found; the other client's entry
// is never given out under it.
func TestCreateLostRaceAnswersItsOwnEntry(t *testing.T) {
	t.Parallel()
	first := newHarness(t, nil)
	h, log, race := raceBridge(t, first, nil)

	log.take()
	r := h.must(http.StatusCreated, "POST", "/Users", entraUser("race@contoso.com", "race-ext"))
	wantOps(t, "user create", log.take(), []string{"add user +postread U"})
	ours, theirs := race.last()
	if id := r.body["id"]; id != ours || id == theirs {
		t.Errorf("user id %v: want %s, the entry this add made (the entry now at its DN is %s)", id, ours, theirs)
	}
	if r.body["userName"] != "race@contoso.com" || r.body["externalId"] != "race-ext" {
		t.Errorf("answer: %s", r.raw)
	}
	// The id was answered from our own entry, which the race deleted: the
	// read path must not find the other entry under it, and a write by
	// cached DN (the id's DN is cached) must not reach it either.
	scimErr(t, h.do("GET", "/Users/"+ours, ""), http.StatusNotFound, "")
	scimErr(t, h.do("PATCH", "/Users/"+ours, patchTwo), http.StatusNotFound, "")
	if e := first.entry(theirs); e == nil || e.GetAttributeValue("mail") != "race@contoso.com" {
		t.Errorf("the other client's entry changed: %v", e)
	}

	log.take()
	g := h.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"race-group"}`)
	wantOps(t, "group create", log.take(), []string{"add group +postread G+member"})
	ours, theirs = race.last()
	if id := g.body["id"]; id != ours || id == theirs {
		t.Errorf("group id %v: want %s, the entry this add made (the entry now at its DN is %s)", id, ours, theirs)
	}
}

// Where the directory does not list post-read (withoutPostRead; AD does not,
// and slapd cannot be started without it: it is not an overlay) the create
// reads its entry back by DN, as before issue 14. That read sees whatever
// entry is at the DN: this is the residual risk that Users.added documents,
// shown here so that a better fallback changes this test on purpose.
func TestCreateLostRaceWithoutPostRead(t *testing.T) {
	t.Parallel()
	first := newHarness(t, nil)
	h, log, race := raceBridge(t, first, func(l *opLog) bridge.Directory { return withoutPostRead{l} })

	log.take()
	r := h.must(http.StatusCreated, "POST", "/Users", entraUser("race2@contoso.com", "race2-ext"))
	wantOps(t, "user create", log.take(), []string{"add user", "search base user U"})
	if _, theirs := race.last(); r.body["id"] != theirs {
		t.Errorf("user id %v: the read back by DN should find the entry now at the DN, %s", r.body["id"], theirs)
	}

	log.take()
	g := h.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"race2-group"}`)
	wantOps(t, "group create", log.take(), []string{"add group", "search base group G+member"})
	if _, theirs := race.last(); g.body["id"] != theirs {
		t.Errorf("group id %v: the read back by DN should find the entry now at the DN, %s", g.body["id"], theirs)
	}
}

// The answer to a create, built from the post-read entry, is the resource as
// a later GET reads it: the control asks for every attribute the read back
// asked for (the id, meta, each mapped attribute, the disable state), with
// and without post-read. A group created with a member shows it (slapd's
// memberof overlay updates the member during the add that carries the
// control).
func TestCreateAnswerIsTheEntry(t *testing.T) {
	t.Parallel()
	first := newHarness(t, nil)
	for _, tc := range []struct {
		name string
		wrap func(*opLog) bridge.Directory
		user []string
		grp  []string
	}{
		// The group create resolves its member's id first and renders the
		// member (display) last; the read back is what post-read saves.
		{
			"post-read", nil,
			[]string{"add user +postread U"},
			[]string{"paged sub people [entryUUID]", "add group +postread G+member", "paged sub people [displayName,entryUUID,uid]"},
		},
		{
			"without post-read", func(l *opLog) bridge.Directory { return withoutPostRead{l} },
			[]string{"add user", "search base user U"},
			[]string{"paged sub people [entryUUID]", "add group", "search base group G+member", "paged sub people [displayName,entryUUID,uid]"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &opLog{people: first.NS.People, groups: first.NS.Groups}
			h := rebuildWith(t, first, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory {
				log.Directory = d
				if tc.wrap != nil {
					return tc.wrap(log)
				}
				return log
			}))
			userName := "answer-" + itoa(len(tc.name)) + "@contoso.com"
			log.take()
			post := h.must(http.StatusCreated, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",`+
				`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"`+userName+`","externalId":"x-`+tc.name+`",`+
				`"active":false,"displayName":"Ann Swer","title":"Clerk","name":{"givenName":"Ann","familyName":"Swer"},`+
				`"emails":[{"type":"work","value":"`+userName+`","primary":true}],`+
				`"phoneNumbers":[{"type":"work","value":"+1 555 0100"},{"type":"mobile","value":"+1 555 0101"}],`+
				`"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"42","department":"Sales"}}`)
			wantOps(t, "user create", log.take(), tc.user)
			id, _ := post.body["id"].(string)
			e := first.entry(id)
			if e == nil || !slices.Contains(e.GetAttributeValues("entryUUID"), id) {
				t.Fatalf("id %q is no entry's entryUUID: %v", id, e)
			}
			if e.GetAttributeValue("pwdAccountLockedTime") == "" {
				t.Error("active false: the entry is not locked")
			}
			get := h.must(http.StatusOK, "GET", "/Users/"+id, "")
			if post.raw != get.raw {
				t.Errorf("the create's answer is not the entry as read\n POST %s\n GET  %s", post.raw, get.raw)
			}

			log.take()
			gpost := h.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"answer-`+itoa(len(tc.name))+`",`+
				`"members":[{"value":"`+id+`"}]}`)
			wantOps(t, "group create", log.take(), tc.grp)
			gid, _ := gpost.body["id"].(string)
			gget := h.must(http.StatusOK, "GET", "/Groups/"+gid, "")
			if gpost.raw != gget.raw {
				t.Errorf("the create's answer is not the group as read\n POST %s\n GET  %s", gpost.raw, gget.raw)
			}
			if m, _ := gpost.body["members"].([]any); len(m) != 1 {
				t.Errorf("group members: %s", gpost.raw)
			}
		})
	}
}
