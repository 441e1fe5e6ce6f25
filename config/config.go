// Package config loads and validates scimbridge's configuration: a YAML file, with
// ${VAR} references expanded from the environment, then SCIMBRIDGE_SECTION__KEY
// environment overrides, then command-line flags.
//
// A complete example (examples/openldap.yaml):
//
//	server:
//	  listen: 127.0.0.1:8080
//	  base_path: /scim/v2
//	auth:
//	  bearer_tokens:
//	    - name: entra
//	      sha256: "<64 hex chars>"
//	ldap:
//	  url: ldap://127.0.0.1:3890
//	  bind_dn: cn=admin,dc=example,dc=org
//	  bind_password: ${LDAP_BIND_PASSWORD}
//	  flavor: openldap
//	users:
//	  base_dn: ou=people,dc=example,dc=org
//	  rdn: uid
//	  object_classes: [top, person, organizationalPerson, inetOrgPerson]
//	  id_attribute: entryUUID
//	  attributes:
//	    - { scim: userName, ldap: uid }
//	  disable: { method: ppolicy }
//	  delete: { mode: delete }
//
// Every key is documented in docs/configuration.md.
package config

import (
	"time"
)

// Config is the whole file.
type Config struct {
	Server ServerConfig `koanf:"server"`
	Auth   AuthConfig   `koanf:"auth"`
	LDAP   LDAPConfig   `koanf:"ldap"`
	Users  UsersConfig  `koanf:"users"`
	Groups GroupsConfig `koanf:"groups"`
	Log    LogConfig    `koanf:"log"`

	// found are warnings about files the configuration names, from whoever
	// read them (AddWarning).
	found []string
}

// ServerConfig is the SCIM HTTP listener.
type ServerConfig struct {
	Listen   string `koanf:"listen"`
	BasePath string `koanf:"base_path"`
	// MaxBodyBytes bounds a request body; Entra's largest request (a group PATCH
	// with many members) is far below the 1 MiB default.
	MaxBodyBytes int64         `koanf:"max_body_bytes"`
	ReadTimeout  time.Duration `koanf:"read_timeout"`
	WriteTimeout time.Duration `koanf:"write_timeout"`
	// PublicURL is the externally visible base URL used in meta.location when the
	// bridge sits behind a proxy; empty means derive it from the request.
	PublicURL string `koanf:"public_url"`
	// TLS serves HTTPS; Entra only talks to https:// Tenant URLs, so without
	// it put a TLS-terminating proxy in front.
	TLS ServerTLSConfig `koanf:"tls"`
	// AllowedCIDRs, when set, limits who may connect (e.g. Entra's
	// AzureActiveDirectory service tag ranges); others get 403.
	AllowedCIDRs []string `koanf:"allowed_cidrs"`
	// AllowedServiceTags adds the address ranges of Azure service tags
	// (AzureActiveDirectory: Entra's provisioning service) to AllowedCIDRs,
	// read from Microsoft's weekly file instead of copied by hand.
	AllowedServiceTags ServiceTagsConfig `koanf:"allowed_service_tags"`
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed: the client address in logs, the audit trail and
	// allowed_cidrs is then the one the proxy saw. Empty: the TCP peer.
	TrustedProxies []string `koanf:"trusted_proxies"`
	// RateLimit bounds requests per bearer token; over it a client gets 429
	// with Retry-After. Entra needs at least 25 requests/s per tenant.
	RateLimit RateLimitConfig `koanf:"rate_limit"`
	// AuthFailures bounds failed authentications per client address, so
	// that a client without a token cannot flood the log; over it the
	// client gets 429 with Retry-After.
	AuthFailures AuthFailuresConfig `koanf:"auth_failures"`
	// MetricsListen serves /metrics, /healthz and /readyz without
	// authentication; keep it off the public network. Empty: off.
	MetricsListen string `koanf:"metrics_listen"`
	// PprofListen serves Go's profiler (/debug/pprof/) for performance work.
	// Loopback only: a profile shows request data in memory. Empty: off.
	PprofListen string `koanf:"pprof_listen"`
	// AuditLog is a file for the audit trail (one line per SCIM write);
	// empty: audit lines go to the main log.
	AuditLog string `koanf:"audit_log"`
	// DryRun serves every request but performs no LDAP write: each write is
	// logged as LDIF instead (for a first trial against production).
	DryRun bool `koanf:"dry_run"`
	// ShutdownTimeout bounds the wait for in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration `koanf:"shutdown_timeout"`
}

// ServerTLSConfig is the HTTPS side of the SCIM listener.
type ServerTLSConfig struct {
	// CertFile and KeyFile are PEM files, re-read when they change (a
	// certbot renewal needs no restart).
	CertFile string `koanf:"cert_file"`
	KeyFile  string `koanf:"key_file"`
	// MinVersion is 1.2 or 1.3.
	MinVersion string `koanf:"min_version"`
	// ACME gets and renews the certificate automatically (Let's Encrypt by
	// default), for sites without a PKI. Instead of cert_file/key_file.
	ACME ACMEConfig `koanf:"acme"`
}

// ACMEConfig is automatic certificate management (RFC 8555) with the
// TLS-ALPN-01 challenge, answered on server.listen itself (which must then be
// reachable on port 443 by the ACME server).
type ACMEConfig struct {
	Domains []string `koanf:"domains"`
	// DirectoryURL defaults to Let's Encrypt's production directory.
	DirectoryURL string `koanf:"directory_url"`
	Email        string `koanf:"email"`
	// CacheDir keeps the account key and certificates across restarts.
	CacheDir string `koanf:"cache_dir"`
	// CAFile verifies a private ACME server (e.g. step-ca); empty: system roots.
	CAFile string `koanf:"ca_file"`
}

// RateLimitConfig is a token bucket per bearer token.
type RateLimitConfig struct {
	// RequestsPerSecond 0 turns the limit off.
	RequestsPerSecond float64 `koanf:"requests_per_second"`
	Burst             int     `koanf:"burst"`
}

// AuthFailuresConfig is a token bucket of failed authentications per client
// address (IPv6: per /64). Requests with a valid token do not count and are
// never held back.
type AuthFailuresConfig struct {
	// PerMinute is the sustained rate; 0 means the default, 30.
	PerMinute int `koanf:"per_minute"`
	// Burst is how many failures may come at once; 0 means the default, 10.
	Burst int `koanf:"burst"`
}

// AuthConfig holds the accepted bearer tokens. Only SHA-256 hashes are stored.
type AuthConfig struct {
	BearerTokens []TokenConfig `koanf:"bearer_tokens"`
}

// TokenConfig is one accepted token. Several may be valid at once, which is how a
// token is rotated without downtime.
type TokenConfig struct {
	Name    string    `koanf:"name"`
	SHA256  string    `koanf:"sha256"`
	Expires time.Time `koanf:"expires"`
}

// LDAPConfig is the directory connection.
type LDAPConfig struct {
	URL string `koanf:"url"`
	// FailoverURLs are tried in order when URL cannot be reached (replicas of
	// the same directory).
	FailoverURLs []string `koanf:"failover_urls"`
	BindDN       string   `koanf:"bind_dn"`
	BindPassword string   `koanf:"bind_password"`
	// Flavor selects directory presets: openldap or ad.
	Flavor      string        `koanf:"flavor"`
	StartTLS    bool          `koanf:"start_tls"`
	TLS         TLSConfig     `koanf:"tls"`
	PoolSize    int           `koanf:"pool_size"`
	DialTimeout time.Duration `koanf:"dial_timeout"`
	// Timeout bounds one LDAP operation, so a hung directory turns into a 503
	// instead of a request that never ends.
	Timeout time.Duration `koanf:"timeout"`
	// PageSize is used for searches that may return many entries (AD caps a plain
	// search at 1000 results).
	PageSize int `koanf:"page_size"`
	// Failover moves every bridge that has the same ordered server list
	// between those servers together (docs/high-availability.md).
	Failover FailoverConfig `koanf:"failover"`
}

// FailoverConfig governs ldap.url then ldap.failover_urls as a priority
// order: every bridge uses the first healthy server, and comes back to a
// higher one only once it has been healthy for Hold and has caught up, so
// that bridges with the same list write to one server without talking to
// each other.
type FailoverConfig struct {
	// ProbeInterval is how often the servers are probed in the background
	// (the one in use too: an idle bridge must see its outage).
	ProbeInterval time.Duration `koanf:"probe_interval"`
	// Hold is how long a higher-priority server must have answered every
	// probe before the bridge goes back to it.
	Hold time.Duration `koanf:"hold"`
	// NotFoundWindow: for this long after a failover, "not found" answers
	// 503 with Retry-After, not 404: the failed server's last writes may
	// not have reached this one yet, and Entra retries a 503 but acts on a
	// 404.
	NotFoundWindow time.Duration `koanf:"not_found_window"`
	// ServerIDs are the OpenLDAP serverIDs (olcServerID) of ldap.url and
	// each failover_urls entry, in that order. With them, fail-back also
	// waits until the server has every change the one in use has (its
	// contextCSN); without them only Hold counts.
	ServerIDs []int `koanf:"server_ids"`
}

// TLSConfig is the client side TLS of the LDAP connection.
type TLSConfig struct {
	CAFile             string `koanf:"ca_file"`
	InsecureSkipVerify bool   `koanf:"insecure_skip_verify"`
	ServerName         string `koanf:"server_name"`
}

// UsersConfig maps SCIM Users onto LDAP entries.
type UsersConfig struct {
	BaseDN string `koanf:"base_dn"`
	// RDN is the naming attribute of new entries: the DN is RDN=<value>,BaseDN.
	RDN           string   `koanf:"rdn"`
	ObjectClasses []string `koanf:"object_classes"`
	// IDAttribute is the stable identifier used as SCIM id (entryUUID on OpenLDAP):
	// a rename changes the DN but never the id.
	IDAttribute string `koanf:"id_attribute"`
	// Filter is an extra LDAP filter that managed entries must match, e.g.
	// (objectClass=inetOrgPerson). Default: the last object class.
	Filter string `koanf:"filter"`
	// ScopeFilter narrows what SCIM may see and change under BaseDN to the
	// entries Entra owns, e.g. (businessCategory=entra), set on new entries by
	// a constant derive; hand-made entries beside them stay out of reach.
	ScopeFilter string             `koanf:"scope_filter"`
	Attributes  []AttributeMapping `koanf:"attributes"`
	// Derive fills LDAP attributes that SCIM did not set (e.g. the MUST attributes
	// cn and sn of inetOrgPerson) from a Go template over the entry's attributes.
	Derive  []DeriveConfig `koanf:"derive"`
	Disable DisableConfig  `koanf:"disable"`
	Delete  DeleteConfig   `koanf:"delete"`
	// Password is where SCIM's password goes (write-only: never read back,
	// never logged). Empty: SCIM passwords are ignored.
	Password PasswordConfig `koanf:"password"`
	// MaxResults caps one list response (SCIM count); larger requests are cut to it.
	MaxResults int `koanf:"max_results"`
	// DefaultGroups are group DNs every new user joins (a site's "default role").
	DefaultGroups []string `koanf:"default_groups"`
	// Match adopts existing entries on create instead of adding a duplicate:
	// the first rule that finds exactly one entry wins. Off when empty.
	Match []MatchConfig `koanf:"match"`
	// UIDNumber allocates posixAccount uidNumbers from a counter entry, like
	// groups.gid_number: unique even with several bridges.
	UIDNumber GIDNumberConfig `koanf:"uid_number"`
	// Roles is where Entra's app role assignments (SCIM roles) go.
	Roles RolesConfig `koanf:"roles"`
}

// RolesConfig maps Entra's app role assignments (the SCIM roles attribute,
// from the SingleAppRoleAssignment or AppRoleAssignmentsComplex mapping) onto
// LDAP: role values in an attribute, and membership of existing groups.
//
//	roles:
//	  attribute: employeeType
//	  groups:
//	    Admin: cn=app-admins,ou=roles,dc=example,dc=org
//	    Reader: cn=app-readers,ou=roles,dc=example,dc=org
//	  default: Reader
type RolesConfig struct {
	// Attribute, when set, is a multi-valued LDAP attribute holding every role
	// value of the user (also roles that grant no group).
	Attribute string `koanf:"attribute"`
	// Groups maps a role value to the DN of an existing group the role grants
	// membership of. Role values match case-insensitively.
	Groups map[string]string `koanf:"groups"`
	// Default is the role of a user created without one.
	Default string `koanf:"default"`
}

// Enabled tells whether SCIM roles are mapped by users.roles.
func (r RolesConfig) Enabled() bool { return r.Attribute != "" || len(r.Groups) > 0 }

// GroupsConfig maps SCIM Groups onto LDAP groups.
type GroupsConfig struct {
	// Enabled turns /Groups on; default: on when base_dn is set. Off, /Groups
	// answers with a SCIM error that tells the admin to remove Entra's group
	// mapping.
	Enabled       *bool    `koanf:"enabled"`
	BaseDN        string   `koanf:"base_dn"`
	RDN           string   `koanf:"rdn"`
	ObjectClasses []string `koanf:"object_classes"`
	IDAttribute   string   `koanf:"id_attribute"`
	Filter        string   `koanf:"filter"`
	// ScopeFilter is users.scope_filter for groups; new groups get the
	// attribute it tests from Constants.
	ScopeFilter string `koanf:"scope_filter"`
	// MemberAttribute holds the members: member or uniqueMember (user DNs) or
	// memberUid (posixGroup: the users' uid values).
	MemberAttribute string             `koanf:"member_attribute"`
	Attributes      []AttributeMapping `koanf:"attributes"`
	// EmptyMember is the placeholder DN kept in a group with no members, for
	// object classes that require one (groupOfNames, groupOfUniqueNames).
	EmptyMember string `koanf:"empty_member"`
	// Constants are attribute values every new group gets (e.g. gidNumber
	// sources are site specific; see docs/configuration.md).
	Constants []ConstantConfig `koanf:"constants"`
	// GIDNumber allocates posixGroup gidNumbers.
	GIDNumber  GIDNumberConfig `koanf:"gid_number"`
	MaxResults int             `koanf:"max_results"`
}

// ConstantConfig is a fixed attribute value for new entries.
type ConstantConfig struct {
	LDAP  string `koanf:"ldap"`
	Value string `koanf:"value"`
}

// GIDNumberConfig allocates unique numbers from a counter entry in the
// directory, with an atomic compare-and-swap, so two bridges never hand out the
// same number. It serves users.uid_number (uidNumber) as well as
// groups.gid_number (gidNumber).
type GIDNumberConfig struct {
	// CounterDN is the entry holding the next free number in the allocated
	// attribute; created at Start when missing. Empty (and no Ranges)
	// disables allocation.
	CounterDN string `koanf:"counter_dn"`
	Start     int    `koanf:"start"`
	// Ranges replace CounterDN and Start when ldap.failover_urls lists
	// replicas: one range per directory server, in the order ldap.url, then
	// ldap.failover_urls. A server takes numbers from its own counter only,
	// so numbers it handed out but had not replicated when it failed cannot
	// be handed out again by the server that takes over (issue 14).
	Ranges []NumberRange `koanf:"ranges"`
}

// NumberRange is the counter and the numbers of one directory server.
type NumberRange struct {
	// CounterDN is this server's counter entry, created at Start when missing.
	CounterDN string `koanf:"counter_dn"`
	// Start and End are the first and the last number handed out, both
	// included.
	Start int `koanf:"start"`
	End   int `koanf:"end"`
}

// Enabled tells whether numbers are allocated: by one counter or by ranges.
func (g GIDNumberConfig) Enabled() bool { return g.CounterDN != "" || len(g.Ranges) > 0 }

// Counters are the ranges by directory server index: Ranges, or the one
// counter of the single form, whose End is 0 (no end) and which every server
// shares. Nil when nothing is allocated.
func (g GIDNumberConfig) Counters() []NumberRange {
	if len(g.Ranges) > 0 {
		return g.Ranges
	}
	if g.CounterDN == "" {
		return nil
	}
	return []NumberRange{{CounterDN: g.CounterDN, Start: g.Start}}
}

// RequestBudget is how long a request may work before it must answer: the
// server's write timeout less one LDAP operation and a margin, so that a
// write that starts within the budget can finish (writes are never cut short)
// and still be answered before the server would drop the connection. A
// request out of budget before its write answers 503 and writes nothing, so
// no client gets an empty reply for a committed write.
func (c *Config) RequestBudget() time.Duration {
	return c.Server.WriteTimeout - c.LDAP.Timeout - min(c.Server.WriteTimeout/10, time.Second)
}

// GroupsEnabled tells whether /Groups is served.
func (c *Config) GroupsEnabled() bool {
	if c.Groups.Enabled != nil {
		return *c.Groups.Enabled
	}
	return c.Groups.BaseDN != ""
}

// AttributeMapping maps one SCIM attribute path to one LDAP attribute.
type AttributeMapping struct {
	SCIM string `koanf:"scim"`
	LDAP string `koanf:"ldap"`
}

// MatchConfig finds an existing entry for a new SCIM user: the entry whose
// LDAP attribute equals the template's value, computed like users.derive over
// the new user's LDAP attributes, e.g. {ldap: uid, template: "{{ localpart .uid }}"}.
type MatchConfig struct {
	LDAP     string `koanf:"ldap"`
	Template string `koanf:"template"`
}

// DeriveConfig computes an LDAP attribute from a template when it has no value.
type DeriveConfig struct {
	LDAP     string `koanf:"ldap"`
	Template string `koanf:"template"`
}

// PasswordConfig maps SCIM's password attribute.
type PasswordConfig struct {
	// Attribute is unicodePwd on AD (the preset), userPassword elsewhere.
	Attribute string `koanf:"attribute"`
	// RandomWhenMissing gives new users a random strong password when SCIM
	// sends none: Windows AD refuses to enable an account without one.
	RandomWhenMissing *bool `koanf:"random_when_missing"`
}

// DisableConfig says how active=false is written.
type DisableConfig struct {
	// Method: ppolicy (pwdAccountLockedTime), attribute (set/clear Attribute),
	// uac (AD userAccountControl bit 0x2, the other bits untouched), none.
	Method string `koanf:"method"`
	// Attribute and DisabledValue are used by method "attribute": the entry is
	// disabled when Attribute holds DisabledValue. EnabledValue is written on
	// enable; empty means the attribute is removed.
	Attribute     string `koanf:"attribute"`
	DisabledValue string `koanf:"disabled_value"`
	EnabledValue  string `koanf:"enabled_value"`
}

// DeleteConfig says what a SCIM DELETE does.
type DeleteConfig struct {
	// Mode: delete (remove the entry), disable (only disable), anonymize (disable
	// and replace personal attributes with placeholders).
	Mode string `koanf:"mode"`
	// Placeholder is the template for anonymized values and the anonymized RDN;
	// {{.id}} is the SCIM id.
	Placeholder string `koanf:"placeholder"`
	// MoveTo, with mode disable or anonymize, moves the entry under this DN
	// (e.g. OU=Disabled Users) after disabling it.
	MoveTo string `koanf:"move_to"`
}

// LogConfig controls logging.
type LogConfig struct {
	Level  string `koanf:"level"`
	Format string `koanf:"format"` // json or console
}
