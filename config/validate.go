package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-ldap/ldap/v3"
)

// Problem is one thing wrong with the configuration, at a YAML path.
type Problem struct {
	Path string
	Msg  string
	// Line is the problem's line in the file, 0 when unknown (set by Load
	// and WithLines).
	Line int
	// Origin is the environment variable or flag that set the value when the
	// file did not (SCIMBRIDGE_LDAP__URLL). Such a problem has no line: the
	// file is not where to look.
	Origin string
	// Covers is a path whose problems only repeat this one: for a misspelt
	// key, the key it stands for when that is not set (users.attributes for
	// users.atributes; "users.attributes is required" would follow), for a
	// value of the wrong type its own path (the field stayed empty).
	// DropFollowOns removes those problems.
	Covers string
}

func (p Problem) Error() string {
	s := p.Path
	if p.Origin != "" {
		s += " (from " + p.Origin + ")"
	}
	s += ": " + p.Msg
	if p.Line > 0 {
		return "line " + strconv.Itoa(p.Line) + ": " + s
	}
	return s
}

// Problems collects every problem found, so an admin fixes them in one go.
type Problems []Problem

// Add records a problem at path.
func (ps *Problems) Add(path, format string, args ...any) {
	*ps = append(*ps, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Err returns nil or one error joining all problems, one per line.
func (ps Problems) Err() error {
	if len(ps) == 0 {
		return nil
	}
	errs := make([]error, len(ps))
	for i, p := range ps {
		errs[i] = p
	}
	return errors.Join(errs...)
}

// Flavors known to the presets.
const (
	FlavorOpenLDAP = "openldap"
	FlavorAD       = "ad"
)

// ApplyDefaults fills what the admin left out. Explicit keys always win. The
// order matters: the flavor's preset runs before the generic user and group
// defaults (it fills the same keys with its own conventions), and groups come
// after users because they inherit users' id_attribute and max_results.
func (c *Config) ApplyDefaults() {
	c.defaultServer()
	c.defaultLDAP()
	c.defaultUsers()
	c.defaultGroups()
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "json")
}

// def sets *p to v when the admin left it out (the zero value).
func def[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// defList sets *p to v when the list is empty.
func defList(p *[]string, v ...string) {
	if len(*p) == 0 {
		*p = v
	}
}

func (c *Config) defaultServer() {
	s := &c.Server
	def(&s.Listen, "127.0.0.1:8080")
	def(&s.BasePath, "/scim/v2")
	s.BasePath = "/" + strings.Trim(s.BasePath, "/")
	def(&s.MaxBodyBytes, 1<<20)
	def(&s.ReadTimeout, 30*time.Second)
	def(&s.WriteTimeout, 60*time.Second)
	def(&s.TLS.MinVersion, "1.2")
	def(&s.TLS.ACME.DirectoryURL, "https://acme-v02.api.letsencrypt.org/directory")
	def(&s.ShutdownTimeout, 20*time.Second)
	if s.RateLimit.RequestsPerSecond > 0 {
		def(&s.RateLimit.Burst, int(s.RateLimit.RequestsPerSecond*2)+1)
	}
	def(&s.AuthFailures.PerMinute, 30)
	def(&s.AuthFailures.Burst, 10)
}

func (c *Config) defaultLDAP() {
	l := &c.LDAP
	def(&l.Flavor, FlavorOpenLDAP)
	if l.Flavor == FlavorAD {
		c.applyADPreset()
	}
	def(&l.PoolSize, 4)
	def(&l.DialTimeout, 5*time.Second)
	def(&l.Timeout, 10*time.Second)
	def(&l.PageSize, 500)
	def(&l.Failover.ProbeInterval, 5*time.Second)
	def(&l.Failover.Hold, 30*time.Second)
	def(&l.Failover.NotFoundWindow, 30*time.Second)
}

func (c *Config) defaultUsers() {
	u := &c.Users
	def(&u.RDN, "uid")
	defList(&u.ObjectClasses, "top", "person", "organizationalPerson", "inetOrgPerson")
	def(&u.IDAttribute, "entryUUID")
	def(&u.Filter, classFilter(u.ObjectClasses))
	def(&u.Disable.Method, "ppolicy")
	def(&u.Delete.Mode, "delete")
	def(&u.Delete.Placeholder, "deleted-{{.id}}")
	def(&u.MaxResults, 1000)
	defaultNumbers(&u.UIDNumber)
	c.defaultDerives()
}

func (c *Config) defaultGroups() {
	g := &c.Groups
	def(&g.RDN, "cn")
	defList(&g.ObjectClasses, "top", "groupOfNames")
	def(&g.IDAttribute, c.Users.IDAttribute)
	def(&g.MemberAttribute, memberAttributeFor(g.ObjectClasses))
	def(&g.Filter, classFilter(g.ObjectClasses))
	if len(g.Attributes) == 0 {
		g.Attributes = []AttributeMapping{{SCIM: "displayName", LDAP: g.RDN}}
	}
	def(&g.MaxResults, c.Users.MaxResults)
	defaultNumbers(&g.GIDNumber)
}

// defaultNumbers gives the single counter of users.uid_number or
// groups.gid_number its start. Ranges have one start each: a default at the
// top would read as one the admin set, beside them.
func defaultNumbers(n *GIDNumberConfig) {
	if len(n.Ranges) == 0 {
		def(&n.Start, 10000)
	}
}

// classFilter finds entries by their most specific object class, the last one
// listed.
func classFilter(classes []string) string {
	if len(classes) == 0 {
		return ""
	}
	return "(objectClass=" + ldap.EscapeFilter(classes[len(classes)-1]) + ")"
}

// memberAttributeFor is the attribute that holds members in a group of these
// object classes: memberUid (RFC 2307 posixGroup), uniqueMember
// (groupOfUniqueNames), else member (groupOfNames, AD's group).
func memberAttributeFor(classes []string) string {
	switch {
	case containsFold(classes, "posixGroup"):
		return "memberUid"
	case containsFold(classes, "groupOfUniqueNames"):
		return "uniqueMember"
	}
	return "member"
}

// defaultDerives adds templates for the MUST attributes of person (cn, sn) when the
// admin neither mapped nor derived them, so a SCIM user with only userName can still
// be added instead of failing with an LDAP object class violation.
func (c *Config) defaultDerives() {
	u := &c.Users
	// AD's person class needs no sn, and its preset derives cn itself.
	if !containsFold(u.ObjectClasses, "person") || c.LDAP.Flavor == FlavorAD {
		return
	}
	has := func(attr string) bool {
		for _, d := range u.Derive {
			if strings.EqualFold(d.LDAP, attr) {
				return true
			}
		}
		return false
	}
	rdn := u.RDN
	if !has("cn") {
		u.Derive = append(u.Derive, DeriveConfig{
			LDAP:     "cn",
			Template: fmt.Sprintf(`{{ coalesce .displayName (join " " .givenName .sn) .%s }}`, rdn),
		})
	}
	if !has("sn") {
		u.Derive = append(u.Derive, DeriveConfig{
			LDAP:     "sn",
			Template: fmt.Sprintf(`{{ coalesce .sn .displayName .%s }}`, rdn),
		})
	}
}

// Validate checks the structure of the configuration without any I/O and returns
// every problem with its YAML path. The attribute map itself (SCIM paths,
// templates) is checked by ldapmap.New, which reports in the same form.
func (c *Config) Validate() error { return c.problems().Err() }

func (c *Config) problems() Problems {
	var ps Problems
	if c.Server.Listen == "" {
		ps.Add("server.listen", "is required")
	}
	if c.Server.MaxBodyBytes < 1024 {
		ps.Add("server.max_body_bytes", "must be at least 1024, got %d", c.Server.MaxBodyBytes)
	}
	if c.Server.PublicURL != "" {
		if u, err := url.Parse(c.Server.PublicURL); err != nil || u.Scheme == "" || u.Host == "" {
			ps.Add("server.public_url", "must be an absolute URL like https://scim.example.org")
		}
	}
	c.validateServer(&ps)
	if c.Server.WriteTimeout > 0 && c.LDAP.Timeout > 0 && c.RequestBudget() < time.Second {
		ps.Add("server.write_timeout", "must leave at least 1s for a request besides one LDAP operation (ldap.timeout %v) "+
			"and the answer; got %v", c.LDAP.Timeout, c.Server.WriteTimeout)
	}
	c.validateAuth(&ps)
	c.validateLDAP(&ps)
	c.validateUsers(&ps)
	c.validateRoles(&ps)
	if c.GroupsEnabled() {
		c.validateGroups(&ps)
	}
	switch c.Log.Format {
	case "json", "console":
	default:
		ps.Add("log.format", "must be json or console, got %q", c.Log.Format)
	}
	return ps
}

func (c *Config) validateServer(ps *Problems) {
	validateServerTLS(ps, c.Server.TLS)
	validateServiceTags(ps, c.Server.AllowedServiceTags)
	for key, list := range map[string][]string{"allowed_cidrs": c.Server.AllowedCIDRs, "trusted_proxies": c.Server.TrustedProxies} {
		for i, cidr := range list {
			if _, _, err := net.ParseCIDR(cidr); err != nil {
				ps.Add(fmt.Sprintf("server.%s[%d]", key, i), "%q is not a CIDR like 20.190.128.0/18", cidr)
			}
		}
	}
	c.validateServerLimits(ps)
	if c.Server.MetricsListen != "" && c.Server.MetricsListen == c.Server.Listen && !strings.HasSuffix(c.Server.Listen, ":0") {
		ps.Add("server.metrics_listen", "must differ from server.listen (metrics and health are unauthenticated)")
	}
	if addr := c.Server.PprofListen; addr != "" && !loopbackAddr(addr) {
		ps.Add("server.pprof_listen", "%q must be a loopback address such as 127.0.0.1:6060 "+
			"(profiles show request data held in memory)", addr)
	}
}

// loopbackAddr tells whether host:port names this machine only.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// validateServerTLS checks server.tls: a certificate from files or from ACME,
// not both, and a TLS version we support.
func validateServerTLS(ps *Problems, t ServerTLSConfig) {
	if (t.CertFile == "") != (t.KeyFile == "") {
		ps.Add("server.tls", "cert_file and key_file go together: set both or neither")
	}
	if len(t.ACME.Domains) > 0 {
		if t.CertFile != "" {
			ps.Add("server.tls.acme", "use either acme or cert_file/key_file, not both")
		}
		if t.ACME.CacheDir == "" {
			ps.Add("server.tls.acme.cache_dir", "is required with acme (certificates and the account key are kept there)")
		}
		if u, err := url.Parse(t.ACME.DirectoryURL); err != nil || u.Scheme != "https" {
			ps.Add("server.tls.acme.directory_url", "must be an https:// URL, got %q", t.ACME.DirectoryURL)
		}
	}
	if t.MinVersion != "1.2" && t.MinVersion != "1.3" {
		ps.Add("server.tls.min_version", "must be 1.2 or 1.3, got %q", t.MinVersion)
	}
}

// validateServerLimits checks server.rate_limit and server.auth_failures.
func (c *Config) validateServerLimits(ps *Problems) {
	rl := c.Server.RateLimit
	if rl.RequestsPerSecond < 0 || rl.Burst < 0 {
		ps.Add("server.rate_limit", "must not be negative")
	} else if rl.RequestsPerSecond > 0 && rl.RequestsPerSecond < 25 {
		ps.Add("server.rate_limit.requests_per_second", "%v is below the 25 requests/s Entra needs per tenant; "+
			"a lower limit sends the job into quarantine", rl.RequestsPerSecond)
	}
	if af := c.Server.AuthFailures; af.PerMinute < 0 || af.Burst < 0 {
		ps.Add("server.auth_failures", "must not be negative")
	}
}

func (c *Config) validateAuth(ps *Problems) {
	if len(c.Auth.BearerTokens) == 0 {
		ps.Add("auth.bearer_tokens", "at least one token is required (create one with `scimbridge token new --name entra`)")
	}
	seen := map[string]bool{}
	for i, t := range c.Auth.BearerTokens {
		p := fmt.Sprintf("auth.bearer_tokens[%d]", i)
		if t.Name == "" {
			ps.Add(p+".name", "is required (it names the token in logs and metrics)")
		} else if seen[t.Name] {
			ps.Add(p+".name", "duplicate token name %q", t.Name)
		}
		seen[t.Name] = true
		if b, err := hex.DecodeString(t.SHA256); err != nil || len(b) != 32 {
			ps.Add(p+".sha256", "must be 64 hex characters (the SHA-256 of the token, as printed by `scimbridge token new`)")
		}
	}
}

func (c *Config) validateLDAP(ps *Problems) {
	l := c.LDAP
	validateLDAPURLs(ps, l)
	if l.BindDN != "" {
		checkBindName(ps, l.BindDN, l.Flavor == FlavorAD)
	}
	switch l.Flavor {
	case FlavorOpenLDAP, FlavorAD:
	default:
		ps.Add("ldap.flavor", "must be openldap or ad, got %q", l.Flavor)
	}
	if l.PoolSize < 1 || l.PoolSize > 256 {
		ps.Add("ldap.pool_size", "must be between 1 and 256, got %d", l.PoolSize)
	}
	if l.Timeout < 0 {
		ps.Add("ldap.timeout", "must not be negative")
	}
	if l.DialTimeout < 0 {
		ps.Add("ldap.dial_timeout", "must not be negative")
	}
	if l.PageSize < 1 {
		ps.Add("ldap.page_size", "must be positive")
	}
	validateFailover(ps, l)
}

// validateFailover checks ldap.failover.
func validateFailover(ps *Problems, l LDAPConfig) {
	f := l.Failover
	if f.ProbeInterval < 100*time.Millisecond {
		ps.Add("ldap.failover.probe_interval", "must be at least 100ms, got %v", f.ProbeInterval)
	}
	if f.Hold < 0 {
		ps.Add("ldap.failover.hold", "must not be negative")
	}
	if f.NotFoundWindow < 0 {
		ps.Add("ldap.failover.not_found_window", "must not be negative")
	}
	if len(f.ServerIDs) == 0 {
		return
	}
	if n := 1 + len(l.FailoverURLs); len(f.ServerIDs) != n {
		ps.Add("ldap.failover.server_ids", "must name one serverID per server (ldap.url and %d failover_urls): %d, got %d",
			len(l.FailoverURLs), n, len(f.ServerIDs))
	}
	seen := map[int]bool{}
	for i, id := range f.ServerIDs {
		// slapd's serverID is 1..4095; 0 means "not replicating".
		if id < 1 || id > 4095 {
			ps.Add(fmt.Sprintf("ldap.failover.server_ids[%d]", i), "must be an OpenLDAP serverID between 1 and 4095, got %d", id)
		} else if seen[id] {
			ps.Add(fmt.Sprintf("ldap.failover.server_ids[%d]", i), "duplicate serverID %d", id)
		}
		seen[id] = true
	}
	if l.Flavor == FlavorAD {
		ps.Add("ldap.failover.server_ids", "is for OpenLDAP providers; AD domain controllers fail back after ldap.failover.hold")
	}
}

// validateLDAPURLs checks ldap.url and ldap.failover_urls, and that StartTLS
// is not asked for on a connection that is TLS already.
func validateLDAPURLs(ps *Problems, l LDAPConfig) {
	if l.URL == "" {
		ps.Add("ldap.url", "is required")
	} else if !isLDAPURL(l.URL) {
		ps.Add("ldap.url", "must look like ldap://host:389 or ldaps://host:636, got %q", l.URL)
	}
	for i, f := range l.FailoverURLs {
		if !isLDAPURL(f) {
			ps.Add(fmt.Sprintf("ldap.failover_urls[%d]", i), "must look like ldap://host:389 or ldaps://host:636, got %q", f)
		}
	}
	if !l.StartTLS {
		return
	}
	for _, raw := range append([]string{l.URL}, l.FailoverURLs...) {
		if u, err := url.Parse(raw); err == nil && u.Scheme == "ldaps" {
			ps.Add("ldap.start_tls", "cannot be used with an ldaps:// URL (%s is already TLS)", raw)
			break
		}
	}
}

// isLDAPURL tells whether raw is an ldap:// or ldaps:// URL with a host.
func isLDAPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "ldap" || u.Scheme == "ldaps") && u.Host != ""
}

// Active Directory takes more than a DN as the name of a simple bind
// ([MS-ADTS] 5.1.1.1.1): also a user principal name (svc-scim@example.org) and
// a down-level logon name (EXAMPLE\svc-scim), which is what AD admins are used
// to writing. Other directories take a DN only.
var (
	// upnName is prefix@suffix; the suffix is the domain's DNS name or an
	// alternative UPN suffix, both made of DNS labels.
	upnName = regexp.MustCompile(`^[^@\s\\/"<>;,:()\[\]]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*$`)
	// downLevelName is NETBIOS\sAMAccountName: a NetBIOS domain name has at
	// most 15 characters, and neither part holds the characters Windows
	// forbids in it.
	downLevelName = regexp.MustCompile(`^[^\\/:*?"<>|\s.][^\\/:*?"<>|\s]{0,14}\\[^\\/"\[\]:;|=,+*?<>]+$`)
)

// checkBindName checks ldap.bind_dn: a DN, or with ad also a UPN or a
// down-level logon name.
func checkBindName(ps *Problems, name string, ad bool) {
	if i := strings.IndexFunc(name, isEscaped); i >= 0 {
		// No bind name holds a control character, but a down-level name in
		// YAML double quotes does: "EXAMPLE\nsvc" is EXAMPLE, newline, svc.
		r, _ := utf8.DecodeRuneInString(name[i:])
		ps.Add("ldap.bind_dn", "contains %U, which no bind name holds: in a double-quoted YAML string a backslash starts an "+
			"escape (\"EXAMPLE\\nsvc\" holds a newline); write a down-level name such as EXAMPLE\\svc in single quotes or "+
			"without quotes", r)
		return
	}
	_, err := ldap.ParseDN(name)
	if err == nil {
		return
	}
	// A leading or trailing space (inside quotes) is a typo, which AD would
	// refuse with "invalid credentials": say so here instead.
	adName := strings.TrimSpace(name) == name && (upnName.MatchString(name) || downLevelName.MatchString(name))
	switch {
	case ad && adName:
	case ad:
		ps.Add("ldap.bind_dn", "is neither a DN (%v) nor a UPN such as svc@example.org nor a down-level name "+
			"such as EXAMPLE\\svc", err)
	default:
		ps.Add("ldap.bind_dn", "is not a valid DN: %v (a UPN such as svc@example.org or a down-level name such as "+
			"EXAMPLE\\svc is accepted only with ldap.flavor: ad)", err)
	}
}

// isEscaped tells whether r is what a YAML escape (\n, \t, \a, \N, \_, \L,
// \P, ...) yields: a control character or an invisible break or space.
func isEscaped(r rune) bool {
	return unicode.IsControl(r) || r == '\u00a0' || r == '\u2028' || r == '\u2029'
}

func (c *Config) validateUsers(ps *Problems) {
	u := c.Users
	validateEntries(ps, "users", u.BaseDN, "is required", u.Filter, u.ScopeFilter, u.ObjectClasses, u.IDAttribute, u.RDN)
	if len(u.Attributes) == 0 {
		ps.Add("users.attributes", "at least the mapping of userName is required")
	}
	validateMappings(ps, "users.attributes", u.Attributes)
	for i, d := range u.Derive {
		validateTemplate(ps, fmt.Sprintf("users.derive[%d]", i), d.LDAP, d.Template)
	}
	*ps = append(*ps, u.Disable.Problems()...)
	validateDelete(ps, u.Delete, u.Disable)
	if u.MaxResults < 1 {
		ps.Add("users.max_results", "must be positive")
	}
	if u.Password.Attribute != "" && !c.LDAP.Encrypted() {
		ps.Add("users.password.attribute", "%s is written only over an encrypted connection: use an ldaps:// ldap.url "+
			"(and failover_urls) or ldap.start_tls: true", u.Password.Attribute)
	}
	for i, m := range u.Match {
		validateTemplate(ps, fmt.Sprintf("users.match[%d]", i), m.LDAP, m.Template)
	}
	c.validateNumbers(ps, "users.uid_number", u.UIDNumber)
	if u.Delete.MoveTo != "" {
		ps.DN("users.delete.move_to", u.Delete.MoveTo)
	}
}

// validateMappings checks users.attributes or groups.attributes (prefix):
// each names a SCIM path and an LDAP attribute. The SCIM paths themselves are
// ldapmap.New's to check.
func validateMappings(ps *Problems, prefix string, list []AttributeMapping) {
	for i, a := range list {
		p := fmt.Sprintf("%s[%d]", prefix, i)
		if a.SCIM == "" {
			ps.Add(p+".scim", "is required")
		}
		if !IsAttrName(a.LDAP) {
			ps.Add(p+".ldap", "%q is not a valid LDAP attribute name", a.LDAP)
		}
	}
}

// validateTemplate checks one element (at p) of users.derive or users.match:
// an LDAP attribute and a template for its value.
func validateTemplate(ps *Problems, p, attr, template string) {
	if !IsAttrName(attr) {
		ps.Add(p+".ldap", "%q is not a valid LDAP attribute name", attr)
	}
	if template == "" {
		ps.Add(p+".template", "is required")
	}
}

// validateDelete checks users.delete: a known mode, and for a soft delete a
// way to disable the entry.
func validateDelete(ps *Problems, d DeleteConfig, disable DisableConfig) {
	switch d.Mode {
	case "delete", "disable", "anonymize":
	default:
		ps.Add("users.delete.mode", "must be delete, disable or anonymize, got %q", d.Mode)
	}
	if d.Mode != "delete" && disable.Method == DisableNone {
		ps.Add("users.delete.mode", "%q needs a disable method, but users.disable.method is none", d.Mode)
	}
}

func (c *Config) validateGroups(ps *Problems) {
	g := c.Groups
	validateEntries(ps, "groups", g.BaseDN, "is required when groups are enabled (or set groups.enabled: false)",
		g.Filter, g.ScopeFilter, g.ObjectClasses, g.IDAttribute, g.RDN)
	if !IsAttrName(g.MemberAttribute) {
		ps.Add("groups.member_attribute", "%q is not a valid attribute name", g.MemberAttribute)
	}
	validateMappings(ps, "groups.attributes", g.Attributes)
	for i, k := range g.Constants {
		if !IsAttrName(k.LDAP) {
			ps.Add(fmt.Sprintf("groups.constants[%d].ldap", i), "%q is not a valid LDAP attribute name", k.LDAP)
		}
	}
	if g.EmptyMember != "" {
		ps.DN("groups.empty_member", g.EmptyMember)
	} else if containsFold(g.ObjectClasses, "groupOfNames") || containsFold(g.ObjectClasses, "groupOfUniqueNames") {
		ps.Add("groups.empty_member", "is required with %s, which must have at least one member (e.g. cn=nobody,dc=example,dc=org)",
			g.ObjectClasses[len(g.ObjectClasses)-1])
	}
	c.validateNumbers(ps, "groups.gid_number", g.GIDNumber)
	if !g.GIDNumber.Enabled() && containsFold(g.ObjectClasses, "posixGroup") && !constantFor(g.Constants, "gidNumber") {
		ps.Add("groups.gid_number.counter_dn", "posixGroup requires gidNumber: set a counter entry DN to allocate them "+
			"(or ranges, one per directory server)")
	}
	for i, dn := range c.Users.DefaultGroups {
		ps.DN(fmt.Sprintf("users.default_groups[%d]", i), dn)
	}
	if g.MaxResults < 1 {
		ps.Add("groups.max_results", "must be positive")
	}
}

// validateNumbers checks users.uid_number or groups.gid_number (prefix):
// either one counter, or one range per directory server such that no number
// can be handed out by two servers, which is what ranges are for.
func (c *Config) validateNumbers(ps *Problems, prefix string, n GIDNumberConfig) {
	if n.CounterDN != "" {
		ps.DN(prefix+".counter_dn", n.CounterDN)
	}
	if len(n.Ranges) == 0 {
		return
	}
	if n.CounterDN != "" {
		ps.Add(prefix+".ranges", "cannot be used with counter_dn: set counter_dn and start for one directory server, "+
			"or ranges (each with its own counter_dn, start and end) for ldap.url and its failover_urls")
	}
	if n.Start != 0 {
		ps.Add(prefix+".start", "is not used with ranges: each range has its own start")
	}
	// The range of a server is found by its index, so a missing or extra
	// range would give a server another's numbers, or none.
	if servers := 1 + len(c.LDAP.FailoverURLs); len(n.Ranges) != servers {
		ps.Add(prefix+".ranges", "has %d ranges for %d directory servers (ldap.url and %d ldap.failover_urls): "+
			"give each server exactly one, in that order", len(n.Ranges), servers, len(c.LDAP.FailoverURLs))
	}
	dns := make([]*ldap.DN, len(n.Ranges))
	for i, r := range n.Ranges {
		p := fmt.Sprintf("%s.ranges[%d]", prefix, i)
		dns[i] = validateRange(ps, p, r)
		validateRangeApart(ps, p, prefix, i, n.Ranges, dns)
	}
}

// validateRange checks one range (at p) on its own, and returns its counter
// DN parsed, nil when it has none.
func validateRange(ps *Problems, p string, r NumberRange) *ldap.DN {
	var dn *ldap.DN
	if r.CounterDN == "" {
		ps.Add(p+".counter_dn", "is required")
	} else {
		dn = ps.DN(p+".counter_dn", r.CounterDN)
	}
	// 0 is root's number, and what a start left out decodes to.
	if r.Start < 1 {
		ps.Add(p+".start", "must be at least 1, got %d", r.Start)
	}
	switch {
	case r.End == 0:
		ps.Add(p+".end", "is required: the last number this server hands out")
	case r.End < r.Start:
		ps.Add(p+".end", "must not be below start (%d), got %d", r.Start, r.End)
	}
	return dn
}

// validateRangeApart checks range i (at p) against the ranges before it: a
// counter and numbers of its own.
func validateRangeApart(ps *Problems, p, prefix string, i int, ranges []NumberRange, dns []*ldap.DN) {
	for j := range i {
		if dns[i] != nil && dns[j] != nil && dns[j].EqualFold(dns[i]) {
			ps.Add(p+".counter_dn", "is the counter of %s.ranges[%d] as well: each server needs its own counter entry, "+
				"or the two would take turns on one", prefix, j)
			break
		}
	}
	r := ranges[i]
	if r.Start < 1 || r.End < r.Start {
		return // reported already; an overlap would only repeat it
	}
	for j, o := range ranges[:i] {
		if o.Start >= 1 && o.End >= o.Start && r.Start <= o.End && o.Start <= r.End {
			ps.Add(p, "%d-%d overlaps %s.ranges[%d] (%d-%d): two servers would hand out the same numbers",
				r.Start, r.End, prefix, j, o.Start, o.End)
		}
	}
}

// Warnings are what is valid but likely a mistake, as "path: message" like
// the warnings of the checks against the directory; they stop nothing. They
// include those found in the files the configuration names (AddWarning).
func (c *Config) Warnings() []string {
	var ws []string
	for _, n := range []struct {
		prefix string
		cfg    GIDNumberConfig
		on     bool
	}{
		{"users.uid_number", c.Users.UIDNumber, true},
		{"groups.gid_number", c.Groups.GIDNumber, c.GroupsEnabled()},
	} {
		// One counter on replicas is kept for configurations written before
		// ranges existed, but a failover can reuse numbers: the counter's
		// last updates may not have reached the replica that takes over.
		if n.on && n.cfg.CounterDN != "" && len(n.cfg.Ranges) == 0 && len(c.LDAP.FailoverURLs) > 0 {
			ws = append(ws, fmt.Sprintf("%s.counter_dn: one counter for %d directory servers (ldap.url and ldap.failover_urls): "+
				"after a failover, numbers the failed server handed out but had not yet replicated can be handed out twice; "+
				"give each server its own counter and range with %s.ranges (see docs/high-availability.md)",
				n.prefix, 1+len(c.LDAP.FailoverURLs), n.prefix))
		}
	}
	return append(ws, c.found...)
}

func constantFor(list []ConstantConfig, attr string) bool {
	for _, k := range list {
		if strings.EqualFold(k.LDAP, attr) {
			return true
		}
	}
	return false
}

// validateEntries checks what users and groups share: where entries live, how
// they are found and named.
func validateEntries(ps *Problems, prefix, baseDN, missing, filter, scope string, classes []string, idAttr, rdn string) {
	if baseDN == "" {
		ps.Add(prefix+".base_dn", "%s", missing)
	} else {
		ps.DN(prefix+".base_dn", baseDN)
	}
	if _, err := ldap.CompileFilter(filter); err != nil {
		ps.Add(prefix+".filter", "is not a valid LDAP filter: %v", err)
	}
	if _, err := ldap.CompileFilter(scope); scope != "" && err != nil {
		ps.Add(prefix+".scope_filter", "is not a valid LDAP filter: %v", err)
	}
	for i, oc := range classes {
		if !IsOID(oc) {
			ps.Add(fmt.Sprintf("%s.object_classes[%d]", prefix, i), "%q is not a valid object class name", oc)
		}
	}
	if !IsAttrName(idAttr) {
		ps.Add(prefix+".id_attribute", "%q is not a valid attribute name", idAttr)
	}
	if !IsAttrName(rdn) {
		ps.Add(prefix+".rdn", "%q is not a valid attribute name", rdn)
	}
}

func equalFold(a, b string) bool { return strings.EqualFold(a, b) }

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}
