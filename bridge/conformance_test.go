package bridge_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/conformance"
)

// The conformance check (`scimbridge check`) run against the whole bridge on
// testenv's slapd, over real HTTP on loopback: this is how `make test` proves
// the check and the bridge agree, and how the check's failure rows look.

// check runs the conformance check and logs the table it printed.
func check(t *testing.T, o conformance.Options) (conformance.Report, string, error) {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	if o.Timeout == 0 {
		o.Timeout = 10 * time.Second
	}
	rep, err := conformance.Run(context.Background(), o)
	t.Logf("scimbridge check:\n%s", out.String())
	var printed bytes.Buffer
	if perr := rep.Print(&printed); perr != nil {
		t.Fatal(perr)
	}
	if printed.String() != out.String() {
		t.Errorf("Print differs from the live table:\n%s", printed.String())
	}
	return rep, out.String(), err
}

var allSteps = []string{
	"test connection", "test connection, ?aadOptscim062020", "wrong token is refused",
	"delete leftovers of earlier runs", "create user", "find user by userName, other case",
	"find user by work email", "duplicate create is refused", "update, default dialect",
	"update, aadOptscim062020 dialect", `disable ("False"), still found`, "re-enable (true)",
	"set manager", "remove manager", "create group", "find group by displayName", "add member",
	"add member again (idempotent)", "remove member, aadOptscim062020 path", "remove member, default value array",
	"rename group", "delete user", "delete group", "clean up",
}

func names(rep conformance.Report) []string {
	var out []string
	for _, r := range rep.Rows {
		out = append(out, r.Name)
	}
	return out
}

func row(t *testing.T, rep conformance.Report, name string) conformance.Row {
	t.Helper()
	r, ok := rep.Row(name)
	if !ok {
		t.Fatalf("no row %q in %q", name, names(rep))
	}
	return r
}

// nothingLeft asserts the check left no user or group with its prefix in LDAP.
func nothingLeft(t *testing.T, h *harness, prefix string) {
	t.Helper()
	if n := h.count("(uid=" + prefix + "*)"); n != 0 {
		t.Errorf("%d test users left in LDAP", n)
	}
	if n := len(h.groupsNamed(prefix)); n != 0 {
		t.Errorf("%d test groups left in LDAP", n)
	}
}

func (h *harness) groupsNamed(prefix string) []string {
	h.T.Helper()
	r := h.must(http.StatusOK, "GET", "/Groups?excludedAttributes=members&filter=displayName+sw+%22"+prefix+"%22", "")
	var out []string
	res, _ := r.body["Resources"].([]any)
	for _, x := range res {
		out = append(out, path(x, "displayName").(string))
	}
	return out
}

func TestConformanceCheckPasses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	rep, out, err := check(t, conformance.Options{URL: serve(t, h), Token: h.Token, Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(rep); !slices.Equal(got, allSteps) {
		t.Errorf("rows %q\nwant %q", got, allSteps)
	}
	for _, r := range rep.Rows {
		if !r.OK || r.Skipped {
			t.Errorf("%s: ok=%v skipped=%v %s", r.Name, r.OK, r.Skipped, r.Detail)
		}
	}
	if !rep.Passed() || !strings.Contains(out, "PASSED: 24 steps, 24 passed") {
		t.Errorf("not passed:\n%s", out)
	}
	if d := row(t, rep, "test connection").Detail; !strings.Contains(d, "totalResults 0") {
		t.Errorf("test connection detail %q", d)
	}
	if d := row(t, rep, "duplicate create is refused").Detail; d != "409 uniqueness" {
		t.Errorf("duplicate detail %q", d)
	}
	if d := row(t, rep, "remove member, default value array").Detail; d != "204; GET shows no members" {
		t.Errorf("remove detail %q", d)
	}
	if d := row(t, rep, "clean up").Detail; d != "nothing left behind" {
		t.Errorf("clean up %q: the cycle's own deletes should have removed everything", d)
	}
	if strings.Contains(out, h.Token) {
		t.Error("the token is in the output")
	}
	nothingLeft(t, h, conformance.DefaultPrefix)
}

// A users-only deployment: groups off in the bridge and in the check, manager
// skipped on request. Skipped-on-request rows do not fail the run.
func TestConformanceCheckUsersOnly(t *testing.T) {
	t.Parallel()
	off := false
	h := newHarness(t, func(c *config.Config) { c.Groups.Enabled = &off })
	rep, out, err := check(t, conformance.Options{
		URL: serve(t, h), Token: h.Token, Groups: false,
		Skip: []string{conformance.SkipManager}, Prefix: "chk-",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() {
		t.Fatalf("not passed:\n%s", out)
	}
	for _, n := range []string{"set manager", "remove manager"} {
		if r := row(t, rep, n); !r.OK || !r.Skipped || r.Detail != "skipped (--skip manager)" {
			t.Errorf("%s: %+v", n, r)
		}
	}
	for _, n := range []string{"create group", "delete group"} {
		if _, ok := rep.Row(n); ok {
			t.Errorf("row %q with --groups=false", n)
		}
	}
	if n := h.count("(uid=chk-*)"); n != 0 {
		t.Errorf("%d test users left", n)
	}
}

// users.delete.mode disable keeps deleted users as inactive entries: the
// check accepts that (Entra forgets the id after a DELETE) and says so.
func TestConformanceCheckSoftDelete(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *config.Config) { c.Users.Delete.Mode = "disable" })
	rep, out, err := check(t, conformance.Options{URL: serve(t, h), Token: h.Token, Groups: true})
	if err != nil || !rep.Passed() {
		t.Fatalf("err %v:\n%s", err, out)
	}
	d := row(t, rep, "delete user").Detail
	if !strings.HasPrefix(d, "204; the server keeps 2 deleted user(s) as inactive") {
		t.Errorf("delete user detail %q", d)
	}
	if n := h.count("(&(uid=" + conformance.DefaultPrefix + "*)(pwdAccountLockedTime=*))"); n != 2 {
		t.Errorf("%d disabled test users in LDAP, want 2", n)
	}
}

// A wrong token: Test connection says so, nothing else is attempted, nothing
// is left behind, the token is not printed.
func TestConformanceCheckWrongToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	const wrong = "scb_0000000000000000000000000000000000000000000000000000000000000000"
	rep, out, err := check(t, conformance.Options{URL: serve(t, h), Token: wrong, Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed() {
		t.Fatal("passed with a wrong token")
	}
	tc := row(t, rep, "test connection")
	if tc.OK || !strings.Contains(tc.Detail, "401") || !strings.Contains(tc.Detail, "token was refused, check --token") {
		t.Errorf("test connection row %+v", tc)
	}
	for _, r := range rep.Rows[1 : len(rep.Rows)-1] {
		if r.OK || !r.Skipped || r.Detail != "not run: the server refused the token (401)" {
			t.Errorf("%s: %+v", r.Name, r)
		}
	}
	if cu := row(t, rep, "clean up"); !cu.OK || cu.Detail != "nothing left behind" {
		t.Errorf("clean up %+v", cu)
	}
	if !strings.Contains(out, "FAILED: 24 steps, 1 passed, 1 failed, 22 not run") {
		t.Errorf("summary:\n%s", out)
	}
	if strings.Contains(out, wrong) {
		t.Error("the token is in the output")
	}
}

// A bridge whose map sends mail to an attribute slapd does not have: every
// create is a 400. The create row says so; the steps that need the user do not
// run; the group steps that do not need it pass; the run ends cleanly.
func TestConformanceCheckBrokenMapping(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h = rebuildWith(t, h, func(c *config.Config) {
		attrs := slices.Clone(c.Users.Attributes)
		for i := range attrs {
			if attrs[i].LDAP == "mail" {
				attrs[i].LDAP = "mial"
			}
		}
		c.Users.Attributes = attrs
	})
	rep, out, err := check(t, conformance.Options{URL: serve(t, h), Token: h.Token, Groups: true})
	if err != nil {
		t.Fatalf("the check did not end cleanly: %v", err)
	}
	if rep.Passed() {
		t.Fatal("passed against a broken mapping")
	}
	cr := row(t, rep, "create user")
	if cr.OK || cr.Skipped || !strings.HasPrefix(cr.Detail, "POST /Users: 400 invalidValue (want 201): ") ||
		!strings.Contains(cr.Detail, "not in the directory's schema") {
		t.Errorf("create user row %+v", cr)
	}
	passed := []string{
		"test connection", "test connection, ?aadOptscim062020", "wrong token is refused",
		"delete leftovers of earlier runs", "create group", "find group by displayName", "rename group",
		"delete group", "clean up",
	}
	for _, r := range rep.Rows {
		switch {
		case r.Name == "create user":
		case slices.Contains(passed, r.Name):
			if !r.OK || r.Skipped {
				t.Errorf("%s: %+v", r.Name, r)
			}
		default:
			if r.OK || !r.Skipped || r.Detail != `not run: needs the user from "create user"` {
				t.Errorf("%s: %+v", r.Name, r)
			}
		}
	}
	if !strings.Contains(out, "FAILED: 24 steps, 9 passed, 1 failed, 14 not run") {
		t.Errorf("summary:\n%s", out)
	}
	nothingLeft(t, h, conformance.DefaultPrefix)
}

// Leftovers of an interrupted run (prefix) are deleted first; nothing else is.
func TestConformanceCheckDeletesLeftovers(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	old := h.user("scimbridge-check-deadbeef-1@example.com")
	oldGroup := h.group("scimbridge-check-deadbeef-group")
	bystander := h.user("bystander@example.com")
	keep := h.group("keep-me")
	almost := h.user("scimbridge-chec@example.com") // shares part of the prefix only
	rep, out, err := check(t, conformance.Options{URL: serve(t, h), Token: h.Token, Groups: true})
	if err != nil || !rep.Passed() {
		t.Fatalf("err %v:\n%s", err, out)
	}
	lo := row(t, rep, "delete leftovers of earlier runs")
	if want := `deleted 1 group(s) and 1 user(s) with prefix "scimbridge-check-"`; lo.Detail != want {
		t.Errorf("leftovers row %q, want %q", lo.Detail, want)
	}
	if h.entry(old) != nil || h.groupEntry(oldGroup) != nil {
		t.Error("leftovers still there")
	}
	for _, id := range []string{bystander, almost} {
		if h.entry(id) == nil {
			t.Errorf("user %s without the prefix was deleted", id)
		}
	}
	if h.groupEntry(keep) == nil {
		t.Error("group without the prefix was deleted")
	}
	nothingLeft(t, h, conformance.DefaultPrefix)
}

// cancelAfter cancels the run once the first user exists, as Ctrl-C would.
type cancelAfter struct {
	cancel context.CancelFunc
	posts  atomic.Int32
}

func (c *cancelAfter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Users") && c.posts.Add(1) == 1 {
		c.cancel()
	}
	return resp, err
}

// Interrupted right after the first create: the remaining steps do not run,
// the clean-up still deletes the user.
func TestConformanceCheckInterruptedCleansUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	rep, err := conformance.Run(ctx, conformance.Options{
		URL: serve(t, h), Token: h.Token, Groups: true, Out: &out,
		HTTPClient: &http.Client{Transport: &cancelAfter{cancel: cancel}}, Timeout: 10 * time.Second,
	})
	t.Logf("scimbridge check:\n%s", out.String())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if r := row(t, rep, "find user by userName, other case"); r.OK || r.Detail != "not run: interrupted" {
		t.Errorf("after the interrupt: %+v", r)
	}
	cu := row(t, rep, "clean up")
	if !cu.OK || !strings.HasPrefix(cu.Detail, "deleted user scimbridge-check-") {
		t.Errorf("clean up %+v", cu)
	}
	nothingLeft(t, h, conformance.DefaultPrefix)
}
