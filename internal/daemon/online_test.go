package daemon_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/testenv"
)

// onlineConfig loads examples/openldap.yaml as newHarness does, pointed at
// the test directory and at ns, then lets mutate adjust it.
func onlineConfig(t *testing.T, srv *testenv.Server, ns testenv.Namespace, mutate func(*config.Config)) *config.Config {
	t.Helper()
	cfg := apptest.ExampleConfig(t, srv, ns, strings.Repeat("ab", 32))
	if mutate != nil {
		mutate(cfg)
	}
	return cfg
}

func checkOnline(t *testing.T, cfg *config.Config) (config.Problems, []string) {
	t.Helper()
	pool, err := bridge.NewPool(cfg.LDAP, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pool.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ps, warns, err := daemon.CheckOnline(ctx, cfg, pool)
	if err != nil {
		t.Fatalf("CheckOnline: %v", err)
	}
	return ps, warns
}

// wantProblems asserts exactly these problems, each given as its path and a
// part of its message.
func wantProblems(t *testing.T, got config.Problems, want map[string][]string) {
	t.Helper()
	n := 0
	for path, msgs := range want {
		for _, msg := range msgs {
			n++
			if !slices.ContainsFunc(got, func(p config.Problem) bool { return p.Path == path && strings.Contains(p.Msg, msg) }) {
				t.Errorf("missing problem %s: …%s…", path, msg)
			}
		}
	}
	if len(got) != n {
		t.Errorf("%d problems, want %d:\n%v", len(got), n, got.Err())
	}
}

func TestCheckOnlineGoodConfig(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	ps, warns := checkOnline(t, onlineConfig(t, srv, ns, nil))
	wantProblems(t, ps, nil)
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	probesLeft(t, srv, ns)
}

// probesLeft fails when the write probe left an entry behind.
func probesLeft(t *testing.T, srv *testenv.Server, ns testenv.Namespace) {
	t.Helper()
	res, err := testenv.Conn(t, srv).Search(ldap.NewSearchRequest(ns.DN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases,
		0, 0, false, "(cn=scimbridge-write-probe-*)", []string{"1.1"}, nil))
	if err != nil || len(res.Entries) > 0 {
		t.Errorf("write probe entries left: %v %v", res, err)
	}
}

// Five different mistakes: all are reported, each once, at its YAML path.
func TestCheckOnlineFiveMistakes(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	mailAt := 0
	cfg := onlineConfig(t, srv, ns, func(c *config.Config) {
		u := &c.Users
		u.ObjectClasses[3] = "inetOrgPersn"
		u.Attributes = slices.DeleteFunc(u.Attributes, func(a config.AttributeMapping) bool { return a.LDAP == "sn" })
		u.Derive = slices.DeleteFunc(u.Derive, func(d config.DeriveConfig) bool { return d.LDAP == "sn" })
		mailAt = slices.IndexFunc(u.Attributes, func(a config.AttributeMapping) bool { return a.LDAP == "mail" })
		u.Attributes[mailAt].LDAP = "mial"
		c.Groups.BaseDN = "ou=missing," + ns.DN
		c.Groups.EmptyMember = "cn=nobody-missing," + srv.BaseDN
	})
	ps, _ := checkOnline(t, cfg)
	wantProblems(t, ps, map[string][]string{
		fmt.Sprintf("users.attributes[%d].ldap", mailAt): {`attribute "mial" is not in the directory schema; did you mean "mail"?`},
		"users.object_classes[3]":                        {`object class "inetOrgPersn" is not in the directory schema; did you mean "inetOrgPerson"?`},
		"users.object_classes":                           {`person requires attribute "sn" (MUST)`},
		"groups.base_dn":                                 {`entry "ou=missing,` + ns.DN + `" does not exist`},
		"groups.empty_member":                            {`entry "cn=nobody-missing,dc=example,dc=org" does not exist`},
	})
}

func TestCheckOnlineAttributesAndClasses(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	for _, tc := range []struct {
		name   string
		mutate func(*config.Config)
		want   map[string][]string
	}{
		{"not allowed by the classes", func(c *config.Config) {
			c.Groups.Attributes[1].LDAP = "mail"
		}, map[string][]string{"groups.attributes[1].ldap": {
			`attribute "mail" is not allowed by groups.object_classes (top, groupOfNames); it is allowed by`,
		}}},
		{"extensibleObject allows everything", func(c *config.Config) {
			c.Groups.ObjectClasses = append(c.Groups.ObjectClasses, "extensibleObject")
			c.Groups.Attributes[1].LDAP = "mail"
		}, nil},
		{"written by the directory only", func(c *config.Config) {
			c.Users.Attributes[2].LDAP = "memberOf"
		}, map[string][]string{"users.attributes[2].ldap": {`"memberOf" is maintained by the directory (NO-USER-MODIFICATION)`}}},
		{"operational attributes for id and disable", func(c *config.Config) {
			c.Users.Disable = config.DisableConfig{Method: "attribute", Attribute: "pwdAccountLockedTime", DisabledValue: "000001010000Z"}
			c.Groups.IDAttribute = "entryUUID"
		}, nil},
		{"MUST and missing class of posixAccount", func(c *config.Config) {
			c.Users.ObjectClasses = append(c.Users.ObjectClasses, "posixAccount", "noSuchClass")
			c.Users.Derive = append(c.Users.Derive, config.DeriveConfig{LDAP: "homeDirectory", Template: "/home/{{.uid}}"})
			c.Users.Disable.Attribute = "employeeTyp" // not used with method ppolicy: not checked
		}, map[string][]string{
			"users.object_classes[5]": {`object class "noSuchClass" is not in the directory schema`},
			"users.object_classes":    {`posixAccount requires attribute "uidNumber"`, `posixAccount requires attribute "gidNumber"`},
		}},
		{"posixGroup with a gidNumber counter", func(c *config.Config) {
			g := &c.Groups
			g.ObjectClasses, g.MemberAttribute, g.EmptyMember = []string{"top", "posixGroup"}, "memberUid", ""
			g.GIDNumber.CounterDN = "cn=gid," + ns.DN
		}, nil},
		{"unknown id and member attributes", func(c *config.Config) {
			c.Users.IDAttribute = "entryUUUID"
			c.Groups.MemberAttribute = "uniqueMembr"
		}, map[string][]string{
			"users.id_attribute":      {`attribute "entryUUUID" is not in the directory schema; did you mean "entryUUID"?`},
			"groups.member_attribute": {`did you mean "uniqueMember"?`},
			"groups.object_classes":   {`groupOfNames requires attribute "member" (MUST)`},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ps, _ := checkOnline(t, onlineConfig(t, srv, ns, tc.mutate))
			wantProblems(t, ps, tc.want)
		})
	}
}

// addReader adds a user that may bind and read but, under testenv's ACL
// (access to * by * read), write nothing.
func addReader(t *testing.T, srv *testenv.Server, ns testenv.Namespace) (dn, password string) {
	t.Helper()
	dn, password = "uid=reader,"+ns.DN, "reader-secret"
	req := ldap.NewAddRequest(dn, nil)
	req.Attribute("objectClass", []string{"inetOrgPerson"})
	req.Attribute("uid", []string{"reader"})
	req.Attribute("cn", []string{"reader"})
	req.Attribute("sn", []string{"reader"})
	req.Attribute("userPassword", []string{password})
	if err := testenv.Conn(t, srv).Add(req); err != nil {
		t.Fatal(err)
	}
	return dn, password
}

func TestCheckOnlineBindDNWithoutWriteAccess(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	dn, pw := addReader(t, srv, ns)
	ps, warns := checkOnline(t, onlineConfig(t, srv, ns, func(c *config.Config) {
		c.LDAP.BindDN, c.LDAP.BindPassword = dn, pw
	}))
	msg := fmt.Sprintf("the bind account %q may not add, rename or delete entries under", dn)
	wantProblems(t, ps, map[string][]string{"users.base_dn": {msg}, "groups.base_dn": {msg}})
	if len(warns) > 0 {
		t.Errorf("warnings: %q", warns)
	}
	probesLeft(t, srv, ns)
}

func TestCheckOnlineBindRefused(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	ps, _ := checkOnline(t, onlineConfig(t, srv, ns, func(c *config.Config) { c.LDAP.BindPassword = "wrong" }))
	wantProblems(t, ps, map[string][]string{"ldap.bind_password": {"invalid credentials"}})
}

func TestCheckOnlineUnreachable(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	cfg := onlineConfig(t, srv, ns, func(c *config.Config) {
		c.LDAP.URL, c.LDAP.DialTimeout = "ldap://127.0.0.1:1", time.Second
	})
	pool, err := bridge.NewPool(cfg.LDAP, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	ps, warns, err := daemon.CheckOnline(context.Background(), cfg, pool)
	if err == nil || len(ps) > 0 || len(warns) > 0 || strings.Contains(err.Error(), "retry later") {
		t.Errorf("CheckOnline on a closed port: %v, %v, %v", ps, warns, err)
	}
}

// The ppolicy overlay of testenv's slapd defines pwdAccountLockedTime and its
// default policy has pwdLockout: TRUE, so disable.method ppolicy passes without
// a problem or warning (TestCheckOnlineGoodConfig uses it too).
func TestCheckOnlinePPolicyPresent(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	cfg := onlineConfig(t, srv, ns, nil)
	if cfg.Users.Disable.Method != "ppolicy" {
		t.Fatalf("example uses %q", cfg.Users.Disable.Method)
	}
	ps, warns := checkOnline(t, cfg)
	for _, p := range ps {
		if p.Path == "users.disable.method" {
			t.Error(p)
		}
	}
	for _, w := range warns {
		if strings.Contains(w, "ppolicy") {
			t.Error(w)
		}
	}
}

// Why checkWrite uses a transaction and not the assertion control (RFC
// 4528): slapd evaluates the assertion before access control and even before
// it looks for the parent, so a bind DN that may write, one that may not, and
// an add under a parent that does not exist all get assertionFailed (122).
func TestAssertionControlRevealsNothing(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	readerDN, pw := addReader(t, srv, ns)
	reader, err := ldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if err := reader.Bind(readerDN, pw); err != nil {
		t.Fatal(err)
	}
	filter, err := ldap.CompileFilter("(!(objectClass=*))")
	if err != nil {
		t.Fatal(err)
	}
	assertion := &ldap.ControlString{ControlType: "1.3.6.1.1.12", Criticality: true, ControlValue: string(filter.Bytes())}
	add := func(c *ldap.Conn, parent string) error {
		req := ldap.NewAddRequest("cn=probe,"+parent, []ldap.Control{assertion})
		req.Attribute("objectClass", []string{"organizationalRole"})
		req.Attribute("cn", []string{"probe"})
		return c.Add(req)
	}
	admin := testenv.Conn(t, srv)
	for name, err := range map[string]error{
		"admin":          add(admin, ns.People),
		"reader":         add(reader, ns.People),
		"missing parent": add(admin, "ou=missing,"+ns.DN),
	} {
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultAssertionFailed) {
			t.Errorf("%s: %v, want assertionFailed", name, err)
		}
	}
	// Without the assertion the reader is refused, so the ACL does apply.
	req := ldap.NewAddRequest("cn=probe,"+ns.People, nil)
	req.Attribute("objectClass", []string{"organizationalRole"})
	req.Attribute("cn", []string{"probe"})
	if err := reader.Add(req); !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
		t.Errorf("reader without assertion: %v", err)
	}
}

// users.roles online: the role groups must exist, the role attribute must be
// in the schema and allowed, and a role group under groups.base_dn is warned
// about (Entra manages that subtree too).
func TestCheckOnlineRoles(t *testing.T) {
	t.Parallel()
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	c := testenv.Conn(t, srv)
	inGroups := "cn=app-admins," + ns.Groups
	add := ldap.NewAddRequest(inGroups, nil)
	add.Attribute("objectClass", []string{"groupOfNames"})
	add.Attribute("member", []string{testenv.NobodyDN})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	missing := "cn=app-missing,ou=roles," + ns.DN
	ps, warns := checkOnline(t, onlineConfig(t, srv, ns, func(c *config.Config) {
		c.Users.Roles = config.RolesConfig{
			Attribute: "employeeTyp",
			Groups:    map[string]string{"Admin": inGroups, "Reader": missing},
		}
	}))
	wantProblems(t, ps, map[string][]string{
		"users.roles.groups.Reader": {"does not exist"},
		"users.roles.attribute":     {`"employeeTyp" is not in the directory schema; did you mean "employeeType"?`},
	})
	if !slices.ContainsFunc(warns, func(w string) bool {
		return strings.HasPrefix(w, "users.roles.groups.Admin:") && strings.Contains(w, "under groups.base_dn")
	}) {
		t.Errorf("no warning for a role group under groups.base_dn: %q", warns)
	}
	ps, warns = checkOnline(t, onlineConfig(t, srv, ns, func(c *config.Config) {
		c.Users.Roles = config.RolesConfig{Attribute: "employeeType"}
	}))
	if len(ps) > 0 || len(warns) > 0 {
		t.Errorf("a good roles configuration: problems %v, warnings %q", ps.Err(), warns)
	}
}
