package bridge_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/internal/daemon"
)

// The bridge owns one value of pwdAccountLockedTime, the permanent lock
// 000001010000Z it writes for active=false. The timestamps slapd's ppolicy
// writes after failed binds (and the locks an admin sets) are security
// lockouts: they read as active=true, and an Entra enable leaves them alone.
// Entra sends active=true for every assigned user on its cycles, and when GET
// showed such a user as inactive it "repaired" it, which unlocked the account.

// bruteForcePolicy adds a password policy that locks an account after three
// failed binds until an admin unlocks it, and puts user dn under it.
func bruteForcePolicy(t *testing.T, h *harness, dn string) {
	t.Helper()
	policy := "cn=brute-force," + h.NS.DN
	add := ldap.NewAddRequest(policy, nil)
	add.Attribute("objectClass", []string{"organizationalRole", "pwdPolicy"})
	add.Attribute("cn", []string{"brute-force"})
	add.Attribute("pwdAttribute", []string{"userPassword"})
	add.Attribute("pwdLockout", []string{"TRUE"})
	add.Attribute("pwdMaxFailure", []string{"3"})
	add.Attribute("pwdLockoutDuration", []string{"0"}) // until an admin removes the lock
	if err := h.LDAP.Add(add); err != nil {
		t.Fatal(err)
	}
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("pwdPolicySubentry", []string{policy})
	if err := h.LDAP.Modify(m); err != nil {
		t.Fatal(err)
	}
}

func TestBruteForceLockoutSurvivesEnable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("guessed")
	dn := h.entry(id).DN
	setPassword(t, h, dn, "right-pw")
	bruteForcePolicy(t, h, dn)
	if err := bind(t, h, dn, "right-pw"); err != nil {
		t.Fatalf("bind before the attack: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := bind(t, h, dn, "wrong-pw"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			t.Fatalf("failed bind %d: %v", i, err)
		}
	}
	lockout := h.entry(id).GetAttributeValue("pwdAccountLockedTime")
	if lockout == "" || lockout == "000001010000Z" {
		t.Fatalf("ppolicy wrote pwdAccountLockedTime %q after 3 failed binds, want a timestamp", lockout)
	}
	if err := bind(t, h, dn, "right-pw"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Fatalf("locked-out user binds: %v", err)
	}

	// Entra sees an active user: nothing to repair.
	if g := h.must(http.StatusOK, "GET", "/Users/"+id, ""); g.body["active"] != true {
		t.Errorf("GET of a locked-out user: active = %v, want true (the bridge's own lock is absent)", g.body["active"])
	}
	// And when it sends active=true anyway (every cycle does), the lockout stays.
	for _, op := range []string{`"True"`, `true`} {
		r := h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":`+op+`}`))
		if r.body["active"] != true {
			t.Errorf("PATCH active %s answered active = %v", op, r.body["active"])
		}
		one(t, h.entry(id), "pwdAccountLockedTime", lockout)
		if err := bind(t, h, dn, "right-pw"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
			t.Errorf("after PATCH active %s the locked-out user binds: %v", op, err)
		}
	}
	h.must(http.StatusOK, "PUT", "/Users/"+id, `{"userName":"guessed","active":true,"name":{"givenName":"G","familyName":"F"}}`)
	one(t, h.entry(id), "pwdAccountLockedTime", lockout)

	// Once an admin has unlocked the account, disable and enable are the
	// bridge's own lock, as before.
	m := ldap.NewModifyRequest(dn, nil)
	m.Delete("pwdAccountLockedTime", nil)
	if err := h.LDAP.Modify(m); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"False"}`))
	one(t, h.entry(id), "pwdAccountLockedTime", "000001010000Z")
	if g := h.must(http.StatusOK, "GET", "/Users/"+id, ""); g.body["active"] != false {
		t.Errorf("GET after disable: active = %v", g.body["active"])
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"True"}`))
	none(t, h.entry(id), "pwdAccountLockedTime")
	if err := bind(t, h, dn, "right-pw"); err != nil {
		t.Errorf("re-enabled user cannot bind: %v", err)
	}
}

// A lock an admin sets by hand (a timestamp) is not the bridge's: the user
// reads as active and an enable keeps the lock.
func TestAdminLockSurvivesEnable(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("held")
	dn := h.entry(id).DN
	setPassword(t, h, dn, "right-pw")
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("pwdAccountLockedTime", []string{"20240101000000Z"})
	if err := h.LDAP.Modify(m); err != nil {
		t.Fatal(err)
	}
	if g := h.must(http.StatusOK, "GET", "/Users/"+id, ""); g.body["active"] != true {
		t.Errorf("GET: active = %v, want true", g.body["active"])
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"True"}`))
	one(t, h.entry(id), "pwdAccountLockedTime", "20240101000000Z")
	if err := bind(t, h, dn, "right-pw"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("admin-locked user binds after the enable: %v", err)
	}
}

// The enable deletes exactly the value 000001010000Z: when someone replaces
// the bridge's lock with a lockout of their own between the bridge's read and
// its write, that lockout stays and the user reads as active.
func TestEnableKeepsLockWrittenMeanwhile(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	id := h.user("contended")
	dn := h.entry(id).DN
	h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"False"}`))
	wb := &writeBetween{}
	h = rebuildWith(t, h, nil, daemon.WithDirectory(func(d bridge.Directory) bridge.Directory { wb.Directory = d; return wb }))
	wb.arm(func() {
		m := ldap.NewModifyRequest(dn, nil)
		m.Replace("pwdAccountLockedTime", []string{"20240101000000Z"})
		if err := h.LDAP.Modify(m); err != nil {
			t.Errorf("concurrent lock: %v", err)
		}
	})
	r := h.must(http.StatusOK, "PATCH", "/Users/"+id, patchBody(`{"op":"Replace","path":"active","value":"True"}`))
	if r.body["active"] != true {
		t.Errorf("active = %v", r.body["active"])
	}
	one(t, h.entry(id), "pwdAccountLockedTime", "20240101000000Z")
}

// active eq false finds the users the bridge disabled, not those locked out
// by ppolicy or an admin: the filter matches the bridge's own lock value, as
// GET reads it.
func TestActiveFilterSeesOnlyTheBridgesLock(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	held := h.user("held")
	off := h.user("off")
	m := ldap.NewModifyRequest(h.entry(held).DN, nil)
	m.Replace("pwdAccountLockedTime", []string{"20240101000000Z"})
	if err := h.LDAP.Modify(m); err != nil {
		t.Fatal(err)
	}
	h.must(http.StatusOK, "PATCH", "/Users/"+off, patchBody(`{"op":"Replace","path":"active","value":"False"}`))
	for f, want := range map[string]string{`active eq false`: off, `active eq true`: held} {
		q := h.must(http.StatusOK, "GET", "/Users?filter="+url.QueryEscape(f), "")
		res, _ := q.body["Resources"].([]any)
		if len(res) != 1 || res[0].(map[string]any)["id"] != want {
			t.Errorf("%s: %s", f, q.raw)
		}
	}
}
