package bridge_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/testenv"
)

// If-Match is one atomic step on slapd wherever it is accepted (RFC 7644
// §3.14): the version the client read is checked by the directory in the
// write itself (the assertion control on entryCSN), so of several writes
// carrying the same ETag exactly one wins, whatever the timing. A check of
// the version read just before the write let every request whose read came
// before the winner's write through: in five runs 3-7 of 20 member-add
// PATCHes, 3-20 of 20 externalId PATCHes and 4-20 of 20 PUTs succeeded, and
// in 4-13 of 40 PATCH/DELETE pairs both did.

// sameETag sends n requests at once, all with If-Match etag, and counts the
// answers by status.
func sameETag(h *harness, n int, method, path string, body func(i int) string, etag string) map[int]int {
	h.T.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var start, done sync.WaitGroup
	start.Add(1)
	for i := 0; i < n; i++ {
		done.Add(1)
		go func(i int) {
			defer done.Done()
			start.Wait()
			r := h.do(method, path, body(i), "If-Match", etag)
			mu.Lock()
			got[r.status]++
			mu.Unlock()
		}(i)
	}
	start.Done()
	done.Wait()
	return got
}

func TestConcurrentGroupPatchesWithOneETag(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.LDAP.PoolSize = 20 })
	gid := h.group("race")
	users := make([]string, 20)
	for i := range users {
		users[i] = h.user("racer" + itoa(i))
	}
	// Member adds (Entra's most frequent group PATCH) and attribute replaces:
	// both are one modify of the group entry.
	for round, body := range []func(i int) string{
		func(i int) string {
			return patchBody(`{"op":"add","path":"members","value":[{"value":"` + users[i] + `"}]}`)
		},
		func(i int) string {
			return patchBody(`{"op":"replace","path":"externalId","value":"ext-` + itoa(i) + `"}`)
		},
	} {
		etag := h.must(http.StatusOK, "GET", "/Groups/"+gid, "").header.Get("ETag")
		got := sameETag(h, 20, "PATCH", "/Groups/"+gid, body, etag)
		if got[http.StatusNoContent] != 1 || got[http.StatusPreconditionFailed] != 19 {
			t.Errorf("round %d: 20 concurrent PATCHes with one If-Match answered %v, want exactly one 204 and 19 412", round, got)
		}
	}
	if n := len(attr(h.groupEntry(gid), "member")); n != 1 {
		t.Errorf("the group has %d members after the concurrent adds, want the one winner", n)
	}
	etag := h.must(http.StatusOK, "GET", "/Groups/"+gid, "").header.Get("ETag")
	got := sameETag(h, 20, "PUT", "/Groups/"+gid, func(i int) string {
		return `{"displayName":"race","externalId":"put-` + itoa(i) + `"}`
	}, etag)
	if got[http.StatusOK] != 1 || got[http.StatusPreconditionFailed] != 19 {
		t.Errorf("20 concurrent PUTs with one If-Match answered %v, want exactly one 200 and 19 412", got)
	}
}

// A DELETE with an ETag that a concurrent PATCH makes stale must not delete
// the entry the PATCH just changed: of the two requests carrying the same
// ETag, exactly one succeeds.
func TestDeleteRacingPatchWithOneETag(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.LDAP.PoolSize = 40 })
	const rounds = 20
	type target struct{ path, etag, patch string }
	var targets []target
	for i := 0; i < rounds; i++ {
		uid := h.user("del-race-" + itoa(i))
		gid := h.group("del-race-" + itoa(i))
		targets = append(targets,
			target{"/Users/" + uid, "", patchBody(`{"op":"replace","path":"title","value":"patched"}`)},
			target{"/Groups/" + gid, "", patchBody(`{"op":"replace","path":"externalId","value":"patched"}`)})
	}
	for i := range targets {
		targets[i].etag = h.must(http.StatusOK, "GET", targets[i].path, "").header.Get("ETag")
	}
	var both, neither atomic.Int32
	var start, done sync.WaitGroup
	start.Add(1)
	for _, tg := range targets {
		done.Add(1)
		go func(tg target) {
			defer done.Done()
			var patched, deleted atomic.Bool
			var pair sync.WaitGroup
			pair.Add(2)
			go func() {
				defer pair.Done()
				start.Wait()
				r := h.do("PATCH", tg.path, tg.patch, "If-Match", tg.etag)
				patched.Store(r.status/100 == 2)
				if r.status/100 != 2 && r.status != http.StatusPreconditionFailed && r.status != http.StatusNotFound {
					h.T.Errorf("PATCH %s: %d %s", tg.path, r.status, r.raw)
				}
			}()
			go func() {
				defer pair.Done()
				start.Wait()
				r := h.do("DELETE", tg.path, "", "If-Match", tg.etag)
				deleted.Store(r.status == http.StatusNoContent)
				if r.status != http.StatusNoContent && r.status != http.StatusPreconditionFailed {
					h.T.Errorf("DELETE %s: %d %s", tg.path, r.status, r.raw)
				}
			}()
			pair.Wait()
			switch {
			case patched.Load() && deleted.Load():
				both.Add(1)
			case !patched.Load() && !deleted.Load():
				neither.Add(1)
			}
		}(tg)
	}
	start.Done()
	done.Wait()
	if both.Load() != 0 || neither.Load() != 0 {
		t.Errorf("of %d PATCH/DELETE pairs with one ETag: %d had both succeed, %d neither; want exactly one each",
			len(targets), both.Load(), neither.Load())
	}
}

// writeBetween is a Directory that, once armed, lets a test write to the
// directory right after the bridge's next search: between the read that a
// version check looks at and the bridge's own write.
type writeBetween struct {
	bridge.Directory
	mu   sync.Mutex
	hook func()
}

func (w *writeBetween) arm(hook func()) { w.mu.Lock(); w.hook = hook; w.mu.Unlock() }

func (w *writeBetween) Search(ctx context.Context, req *ldap.SearchRequest) (*ldap.SearchResult, error) {
	res, err := w.Directory.Search(ctx, req)
	w.mu.Lock()
	hook := w.hook
	w.hook = nil
	w.mu.Unlock()
	if hook != nil {
		hook()
	}
	return res, err
}

// The same, deterministically: someone writes to the entry after the
// bridge read it (and found the client's version current) but before the
// bridge writes. Every If-Match write then answers 412 and changes nothing.
func TestIfMatchHoldsAgainstWriteAfterRead(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	wb := &writeBetween{}
	h = rebuildWith(t, h, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory { wb.Directory = d; return wb }))
	theirs := func(dn, attr string) func() {
		return func() {
			m := ldap.NewModifyRequest(dn, nil)
			m.Replace(attr, []string{"theirs"})
			if err := h.LDAP.Modify(m); err != nil {
				t.Errorf("concurrent write: %v", err)
			}
		}
	}
	uid := h.user("guarded")
	gid := h.group("guarded")
	for _, c := range []struct {
		name, method, path, body, attr string
		dn                             func() string
	}{
		{
			"user PATCH", "PATCH", "/Users/" + uid, patchBody(`{"op":"replace","path":"title","value":"ours"}`), "title",
			func() string { return h.entry(uid).DN },
		},
		{"user DELETE", "DELETE", "/Users/" + uid, "", "title", func() string { return h.entry(uid).DN }},
		{
			"group PATCH", "PATCH", "/Groups/" + gid, patchBody(`{"op":"replace","path":"externalId","value":"ours"}`), "description",
			func() string { return h.groupEntry(gid).DN },
		},
		{
			"group PUT", "PUT", "/Groups/" + gid, `{"displayName":"guarded","externalId":"ours"}`, "description",
			func() string { return h.groupEntry(gid).DN },
		},
		{"group DELETE", "DELETE", "/Groups/" + gid, "", "description", func() string { return h.groupEntry(gid).DN }},
	} {
		t.Run(c.name, func(t *testing.T) {
			etag := h.must(http.StatusOK, "GET", c.path, "").header.Get("ETag")
			dn := c.dn()
			wb.arm(theirs(dn, c.attr))
			scimErr(t, h.do(c.method, c.path, c.body, "If-Match", etag), http.StatusPreconditionFailed, "")
			e := testEntry(h, dn)
			if e == nil {
				t.Fatalf("%s with a stale version deleted the entry", c.method)
			}
			if got := e.GetEqualFoldAttributeValue(c.attr); got != "theirs" {
				t.Errorf("%s = %q: the stale write went through", c.attr, got)
			}
		})
	}
}

func testEntry(h *harness, dn string) *ldap.Entry {
	h.T.Helper()
	res, err := h.LDAP.Search(ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"*"}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		return nil
	}
	if err != nil {
		h.T.Fatal(err)
	}
	return res.Entries[0]
}

// AD has no assertion control (docs/directory-lab.md): If-Match there is the
// version check before the write, and the writes must not carry the control
// (Samba would refuse a critical control it does not know).
func TestADIfMatchIsReadCompare(t *testing.T) {
	t.Parallel()
	h := adHarness(t, nil)
	gid := h.must(http.StatusCreated, "POST", "/Groups", `{"displayName":"`+adUnique(t, "etag")+`"}`).body["id"].(string)
	uid := h.must(http.StatusCreated, "POST", "/Users", `{"userName":"`+adUnique(t, "etag")+`@`+testenv.ADDomain+`"}`).body["id"].(string)
	groupDN := func() string { return h.groupEntry(gid).DN }
	userDN := func() string { return h.entry(uid).DN }
	for _, c := range []struct {
		method, path, body string
		dn                 func() string
		ok                 int
	}{
		{"PATCH", "/Groups/" + gid, patchBody(`{"op":"replace","path":"externalId","value":"one"}`), groupDN, http.StatusNoContent},
		{"PATCH", "/Users/" + uid, patchBody(`{"op":"replace","path":"title","value":"one"}`), userDN, http.StatusOK},
		{"DELETE", "/Groups/" + gid, "", groupDN, http.StatusNoContent},
		{"DELETE", "/Users/" + uid, "", userDN, http.StatusNoContent},
	} {
		etag := h.must(http.StatusOK, "GET", c.path, "").header.Get("ETag")
		m := ldap.NewModifyRequest(c.dn(), nil)
		m.Replace("description", []string{"theirs " + c.method})
		if err := h.LDAP.Modify(m); err != nil {
			t.Fatal(err)
		}
		scimErr(t, h.do(c.method, c.path, c.body, "If-Match", etag), http.StatusPreconditionFailed, "")
		etag = h.must(http.StatusOK, "GET", c.path, "").header.Get("ETag")
		h.must(c.ok, c.method, c.path, c.body, "If-Match", etag)
	}
}
