package testenv_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/testenv"
)

// localAD skips tests that depend on how testenv configures its own Samba (plain port 389, the
// password policy) when SCIMBRIDGE_TEST_AD_URL names another DC.
func localAD(t *testing.T) *testenv.ADServer {
	t.Helper()
	s := testenv.ActiveDirectory(t)
	if os.Getenv(testenv.EnvADURL) != "" {
		t.Skip("checks testenv's own Samba; skipped against an external DC, which CI never sets")
	}
	return s
}

func TestADBindOverVerifiedLDAPS(t *testing.T) {
	t.Parallel()
	s := testenv.ActiveDirectory(t)
	if !strings.HasPrefix(s.URL, "ldaps://") || s.CAFile == "" && os.Getenv(testenv.EnvADURL) == "" {
		t.Fatalf("want an ldaps URL and a CA file, got %+v", s)
	}
	c := testenv.ADConn(t, s)
	res, err := c.Search(ldap.NewSearchRequest("", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=*)", []string{"defaultNamingContext"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Entries[0].GetAttributeValue("defaultNamingContext"); !strings.EqualFold(got, s.BaseDN) {
		t.Errorf("defaultNamingContext = %q, want %q", got, s.BaseDN)
	}
	// Also the UPN form that AD accepts for a simple bind.
	if err := bindAD(s, s.URL, "Administrator@"+s.Domain, s.BindPassword); err != nil {
		t.Errorf("bind as Administrator@%s: %v", s.Domain, err)
	}
}

// The certificate is really verified: without our CA the handshake fails, and the SANs cover
// the names a client may use.
func TestADCertificateVerification(t *testing.T) {
	t.Parallel()
	s := localAD(t)
	noCA := *s
	noCA.CAFile = ""
	if c, err := noCA.Dial(); err == nil {
		c.Close()
		t.Fatal("LDAPS without the test CA succeeded: the certificate is not verified")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("without the CA: %v, want a certificate error", err)
	}
	for _, host := range []string{"127.0.0.1", "localhost", "[::1]"} {
		other := *s
		other.URL = "ldaps://" + host + ":636"
		c, err := other.Dial()
		if err != nil {
			t.Errorf("%s: %v", other.URL, err)
			continue
		}
		c.Close()
	}
	// StartTLS on 389 verifies too (ServerName comes from TLSConfig).
	cfg, err := s.TLSConfig()
	if err != nil {
		t.Fatal(err)
	}
	c, err := ldap.DialURL("ldap://127.0.0.1:389")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.StartTLS(cfg); err != nil {
		t.Fatalf("StartTLS: %v", err)
	}
	if err := c.Bind(s.BindDN, s.BindPassword); err != nil {
		t.Fatalf("bind after StartTLS: %v", err)
	}
}

func TestADPlainSimpleBindRefused(t *testing.T) {
	t.Parallel()
	s := localAD(t)
	err := bindAD(s, "ldap://127.0.0.1:389", s.BindDN, s.BindPassword)
	if !ldap.IsErrorWithCode(err, ldap.LDAPResultStrongAuthRequired) {
		t.Fatalf("simple bind on plain 389: %v, want Strong(er) authentication required (8)", err)
	}
}

func TestADUserPasswordAndEnable(t *testing.T) {
	t.Parallel()
	s := testenv.ActiveDirectory(t)
	ns := testenv.NewADNamespace(t, s)
	c := testenv.ADConn(t, s)

	// sAMAccountName and userPrincipalName are unique domain-wide, not per OU.
	sam := "u" + randHex(4)
	upn := sam + "@" + s.Domain
	dn := "CN=" + sam + "," + ns.People
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"user"})
	add.Attribute("sAMAccountName", []string{sam})
	add.Attribute("userPrincipalName", []string{upn})
	add.Attribute("givenName", []string{"Alice"})
	add.Attribute("sn", []string{"Test"})
	if err := c.Add(add); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	e := testenv.Entry(t, c, dn, "objectGUID", "userAccountControl", "pwdLastSet")
	if e == nil {
		t.Fatalf("%s not found after add", dn)
	}
	if g := e.GetRawAttributeValue("objectGUID"); len(g) != 16 {
		t.Errorf("objectGUID = %x (%d bytes), want 16 bytes", g, len(g))
	}
	if got := e.GetAttributeValue("userAccountControl"); got != "546" {
		t.Errorf("userAccountControl = %s, want 546 (NORMAL_ACCOUNT|PASSWD_NOTREQD|ACCOUNTDISABLE)", got)
	}
	if err := bindAD(s, s.URL, upn, "Passw0rd!x1"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("bind before a password is set: %v, want invalid credentials", err)
	}

	// Password and enable in one modify, over LDAPS (AD refuses unicodePwd otherwise).
	const pw = "Passw0rd!x1"
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace("unicodePwd", []string{testenv.UnicodePwd(pw)})
	mod.Replace("userAccountControl", []string{"512"})
	if err := c.Modify(mod); err != nil {
		t.Fatalf("set unicodePwd + userAccountControl 512: %v", err)
	}
	e = testenv.Entry(t, c, dn, "userAccountControl", "pwdLastSet")
	if got := e.GetAttributeValue("userAccountControl"); got != "512" {
		t.Errorf("userAccountControl after enable = %s, want 512", got)
	}
	for _, who := range []string{upn, dn, "LAB\\" + sam} {
		if os.Getenv(testenv.EnvADURL) != "" && strings.HasPrefix(who, "LAB\\") {
			continue // the NetBIOS name is testenv's own
		}
		if err := bindAD(s, s.URL, who, pw); err != nil {
			t.Errorf("bind as %s: %v", who, err)
		}
	}
	if err := bindAD(s, s.URL, upn, "Wrong!pass1"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("bind with a wrong password: %v, want invalid credentials", err)
	}
}

// The relaxed policy of testenv's Samba: an admin reset invalidates the old password at once,
// and the user may change the password again right away.
func TestADPasswordPolicyRelaxed(t *testing.T) {
	t.Parallel()
	s := localAD(t)
	ns := testenv.NewADNamespace(t, s)
	c := testenv.ADConn(t, s)
	sam := "u" + randHex(4)
	dn := "CN=" + sam + "," + ns.People
	add := ldap.NewAddRequest(dn, nil)
	add.Attribute("objectClass", []string{"user"})
	add.Attribute("sAMAccountName", []string{sam})
	add.Attribute("unicodePwd", []string{testenv.UnicodePwd("First!pw1")})
	add.Attribute("userAccountControl", []string{"512"})
	if err := c.Add(add); err != nil {
		t.Fatalf("add with password and 512: %v", err)
	}
	mod := ldap.NewModifyRequest(dn, nil)
	mod.Replace("unicodePwd", []string{testenv.UnicodePwd("Second!pw2")})
	if err := c.Modify(mod); err != nil {
		t.Fatal(err)
	}
	if err := bindAD(s, s.URL, dn, "First!pw1"); !ldap.IsErrorWithCode(err, ldap.LDAPResultInvalidCredentials) {
		t.Errorf("old password after an admin reset: %v, want invalid credentials (old password allowed period = 0)", err)
	}
	// The user changes their own password (delete old + add new): allowed at once with min age 0.
	uc, err := dialAD(s, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	if err := uc.Bind(dn, "Second!pw2"); err != nil {
		t.Fatal(err)
	}
	change := ldap.NewModifyRequest(dn, nil)
	change.Delete("unicodePwd", []string{testenv.UnicodePwd("Second!pw2")})
	change.Add("unicodePwd", []string{testenv.UnicodePwd("Third!pw3")})
	if err := uc.Modify(change); err != nil {
		t.Errorf("user changes own password right after a reset: %v (minPwdAge should be 0)", err)
	}
	// Complexity stays on, as in a default AD.
	weak := ldap.NewModifyRequest(dn, nil)
	weak.Replace("unicodePwd", []string{testenv.UnicodePwd("alllowercase")})
	if err := c.Modify(weak); !ldap.IsErrorWithCode(err, ldap.LDAPResultConstraintViolation) {
		t.Errorf("password without complexity: %v, want constraint violation", err)
	}
}

func TestADNamespaceCleanup(t *testing.T) {
	t.Parallel()
	s := testenv.ActiveDirectory(t)
	var ns testenv.ADNamespace
	t.Run("inner", func(t *testing.T) {
		ns = testenv.NewADNamespace(t, s)
		c := testenv.ADConn(t, s)
		for _, dn := range []string{ns.DN, ns.People, ns.Groups} {
			if testenv.Entry(t, c, dn, "objectGUID") == nil {
				t.Fatalf("%s missing", dn)
			}
		}
		// Non-empty, so that the cleanup has to delete children first.
		sam := "u" + randHex(4)
		add := ldap.NewAddRequest("CN="+sam+","+ns.People, nil)
		add.Attribute("objectClass", []string{"user"})
		add.Attribute("sAMAccountName", []string{sam})
		if err := c.Add(add); err != nil {
			t.Fatal(err)
		}
		g := ldap.NewAddRequest("CN=g"+sam+","+ns.Groups, nil)
		g.Attribute("objectClass", []string{"group"})
		g.Attribute("sAMAccountName", []string{"g" + sam})
		g.Attribute("member", []string{"CN=" + sam + "," + ns.People})
		if err := c.Add(g); err != nil {
			t.Fatal(err)
		}
	})
	if ns.DN == "" {
		t.FailNow()
	}
	c := testenv.ADConn(t, s)
	if e := testenv.Entry(t, c, ns.DN, "objectGUID"); e != nil {
		t.Fatalf("namespace %s still exists after its test's cleanup", ns.DN)
	}
}

// StartSamba refuses at once (before provisioning) while another Samba holds the ports.
func TestStartSambaPortsTaken(t *testing.T) {
	t.Parallel()
	localAD(t)
	began := time.Now()
	s, err := testenv.StartSamba(context.Background(), testenv.SambaOptions{Logf: t.Logf})
	if err == nil {
		s.Stop()
		t.Fatal("a second Samba started")
	}
	if !errors.Is(err, testenv.ErrSambaPortsTaken) {
		t.Fatalf("err = %v, want ErrSambaPortsTaken", err)
	}
	if d := time.Since(began); d > 2*time.Second {
		t.Errorf("took %v: the port check should come before provisioning", d)
	}
}

func TestUnicodePwd(t *testing.T) {
	if got := hex.EncodeToString([]byte(testenv.UnicodePwd("aé"))); got != "22006100e9002200" {
		t.Fatalf("UnicodePwd(aé) = %s", got)
	}
}

func dialAD(s *testenv.ADServer, url string) (*ldap.Conn, error) {
	cfg, err := s.TLSConfig()
	if err != nil {
		return nil, err
	}
	return ldap.DialURL(url, ldap.DialWithTLSConfig(cfg), ldap.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}))
}

func bindAD(s *testenv.ADServer, url, who, pw string) error {
	c, err := dialAD(s, url)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Bind(who, pw)
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
