package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// exampleFor writes examples/openldap.yaml pointed at srv and ns, with the
// given lines appended under users:.
func exampleFor(t *testing.T, srv *testenv.Server, ns testenv.Namespace, usersExtra string) string {
	t.Helper()
	raw, err := os.ReadFile("../../examples/openldap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	body := strings.Replace(string(raw), "  disable:\n    method: ppolicy\n", usersExtra+"  disable:\n    method: ppolicy\n", 1)
	f := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("LDAP_BIND_PASSWORD", srv.BindPassword)
	t.Setenv("SCIMBRIDGE_TOKEN_SHA256", strings.Repeat("ab", 32))
	t.Setenv("SCIMBRIDGE_LDAP__URL", srv.URL)
	t.Setenv("SCIMBRIDGE_LDAP__BIND_DN", srv.BindDN)
	t.Setenv("SCIMBRIDGE_USERS__BASE_DN", ns.People)
	t.Setenv("SCIMBRIDGE_GROUPS__BASE_DN", ns.Groups)
	return f
}

func runWithStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	old := os.Stdin
	r, w, _ := os.Pipe()
	_, _ = w.WriteString(stdin)
	_ = w.Close()
	os.Stdin = r
	defer func() { os.Stdin = old }()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestPreviewShowsLDIFAndWritesNothing(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	f := exampleFor(t, srv, ns, "")
	code, out, errs := runWithStdin(t, `{"userName":"prev@example.org","name":{"givenName":"Pre","familyName":"View"},
		"emails":[{"type":"work","value":"prev@example.org"}]}`, "preview", "--config", f, "--op", "create")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	for _, want := range []string{
		"dn: uid=prev@example.org," + ns.People, "changetype: add", "mail: prev@example.org",
		"cn: Pre View", "# SCIM answer: 201",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("preview lacks %q:\n%s", want, out)
		}
	}
	c := testenv.Conn(t, srv)
	res, err := c.Search(ldap.NewSearchRequest(ns.People, ldap.ScopeSingleLevel, 0, 0, 0, false, "(uid=prev@example.org)", nil, nil))
	if err != nil || len(res.Entries) != 0 {
		t.Errorf("preview wrote: %v %d", err, len(res.Entries))
	}
}

func TestAdoptDryRunTable(t *testing.T) {
	srv := testenv.OpenLDAP(t)
	ns := testenv.NewNamespace(t, srv)
	c := testenv.Conn(t, srv)
	for _, u := range [][2]string{{"jdoe", "jdoe@old"}, {"amb1", "shared@x"}, {"amb2", "shared@x"}} {
		req := ldap.NewAddRequest("uid="+u[0]+","+ns.People, nil)
		req.Attribute("objectClass", []string{"inetOrgPerson"})
		req.Attribute("cn", []string{u[0]})
		req.Attribute("sn", []string{u[0]})
		req.Attribute("mail", []string{u[1]})
		if err := c.Add(req); err != nil {
			t.Fatal(err)
		}
	}
	f := exampleFor(t, srv, ns, "  match:\n    - { ldap: uid, template: '{{ localpart .uid }}' }\n    - { ldap: mail, template: '{{ .mail }}' }\n")
	csvFile := filepath.Join(t.TempDir(), "users.csv")
	_ = os.WriteFile(csvFile, []byte("userName,\"emails[type eq \"\"work\"\"].value\"\njdoe@example.org,jdoe@example.org\nnew@example.org,\nzed@example.org,shared@x\n"), 0o600)
	code, out, errs := runWithStdin(t, "", "adopt", "--dry-run", "--config", f, "--users", csvFile)
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			lines[f[0]] = strings.Join(f[1:], " ")
		}
	}
	if l := lines["jdoe@example.org"]; !strings.HasPrefix(l, "adopt (users.match[0]) uid=jdoe,") {
		t.Errorf("jdoe: %q", l)
	}
	if l := lines["new@example.org"]; l != "new" {
		t.Errorf("new: %q", l)
	}
	if l := lines["zed@example.org"]; !strings.HasPrefix(l, "ambiguous (users.match[1]) uid=amb1,") {
		t.Errorf("zed: %q", l)
	}
	for _, want := range []string{"1 to adopt, 1 ambiguous (POST will answer 409), 1 new, 0 errors"} {
		if !strings.Contains(out, want) {
			t.Errorf("adopt output lacks %q:\n%s", want, out)
		}
	}
}
