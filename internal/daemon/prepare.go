package daemon

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi"
)

// Prepared is one configuration made ready to serve, as far as that goes
// without the network: the configuration, its compiled user and group
// mappings, the parsed tokens and CIDRs, and an LDAP pool that has dialed
// nothing yet. `validate`, `serve` and Reload all start from Prepare, so they
// refuse the same files with the same messages, and serve runs the online
// checks through the very pool it then serves with.
type Prepared struct {
	Config *config.Config
	Users  *ldapmap.Map
	// Groups is nil when /Groups is off.
	Groups *ldapmap.GroupMap
	// Tokens are the accepted bearer tokens; `preview` puts its own here.
	Tokens []scimapi.Token
	// AllowedCIDRs are server.allowed_cidrs and the prefixes of
	// server.allowed_service_tags together.
	AllowedCIDRs, TrustedProxies []*net.IPNet
	// Pool has dialed nothing when Prepare returns. An App made from the
	// Prepared value takes it over; otherwise whoever prepared closes it.
	// Nil when none was asked for or the configuration has problems (see
	// PoolKind).
	Pool *bridge.Pool
	// Log is what PrepareOptions.Log made of the log settings.
	Log zerolog.Logger

	lines *config.LineFinder
	kind  PoolKind
	// serviceTags is what server.allowed_service_tags.file gave; nil when
	// not configured.
	serviceTags *serviceTagList
}

// PoolKind says which LDAP pool Prepare builds.
type PoolKind int

const (
	// ServePool is the pool the daemon serves with (ldap.pool_size
	// connections), built only for a configuration without problems.
	ServePool PoolKind = iota
	// CheckPool is a single connection for the online checks alone, built
	// even when the offline checks found problems, so that `validate` names
	// every mistake in one run. Settings the offline checks refuse (a
	// negative pool size or timeout) must not break it, so it uses its own.
	CheckPool
	// NoPool is for `validate --offline`, which never dials.
	NoPool
)

// PrepareOptions adjust Prepare.
type PrepareOptions struct {
	// Log makes the logger of the pool, and of an App made from the result,
	// out of the log settings just loaded. Nil: nothing is logged.
	Log func(config.LogConfig) zerolog.Logger
	// Pool is the pool to build.
	Pool PoolKind
}

// Prepare reads the configuration once, loads and validates it, compiles the
// user and group mappings, parses the tokens and CIDRs and builds an unstarted
// LDAP pool. The error joins every problem, each a config.Problem with its
// line in the file where it has one, once, without the problems that only
// repeat another (config.DropFollowOns). The Prepared value is returned
// whenever the configuration could be decoded, problems or not, so that the
// online checks can still run on it (CheckPool); it is nil when the file
// cannot be read or parsed.
func Prepare(src config.Source, o PrepareOptions) (*Prepared, error) {
	if src.Data == nil {
		data, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		// Lines are looked up in the very bytes Load decodes: a file
		// replaced in between must not shift them.
		src.Data = data
	}
	lines := config.NewLineFinder(src.Data)
	cfg, err := config.Load(src)
	if cfg == nil {
		return nil, err
	}
	p := &Prepared{Config: cfg, Log: zerolog.Nop(), lines: lines, kind: o.Pool}
	if o.Log != nil {
		p.Log = o.Log(cfg.Log)
	}
	errs := append([]error{err}, p.compileMaps(config.Covered(err))...)
	errs = append(errs, p.readServiceTags(time.Now()))
	err = once(config.WithLines(config.DropFollowOns(errors.Join(errs...)), lines))
	switch {
	case err == nil:
		err = p.finish()
	case o.Pool == CheckPool:
		err = errors.Join(err, p.newPool())
	}
	return p, err
}

// prepareLoaded is Prepare for a configuration already loaded and valid
// (NewApp's callers: tests and tools that build one in code).
func prepareLoaded(cfg *config.Config, log zerolog.Logger) (*Prepared, error) {
	p := &Prepared{Config: cfg, Log: log}
	if err := errors.Join(append(p.compileMaps(nil), p.readServiceTags(time.Now()))...); err != nil {
		return nil, err
	}
	return p, p.finish()
}

// readServiceTags reads server.allowed_service_tags.file, when configured:
// its problems come back with the configuration's, and its age warning joins
// the configuration's own warnings (config.AddWarning), which `validate`
// prints, also --offline, and serve and Reload log with the online checks'.
// It reads the file even when the configuration has other problems, so that
// `validate` names them all in one run.
func (p *Prepared) readServiceTags(now time.Time) error {
	sc := p.Config.Server.AllowedServiceTags
	if sc.File == "" || len(sc.Tags) == 0 {
		return nil // not configured, or Load reported the missing half
	}
	list, ps := readServiceTags(sc)
	if len(ps) > 0 {
		return ps.Err()
	}
	p.serviceTags = list
	if w := list.staleWarning(now); w != "" {
		p.Config.AddWarning(w)
	}
	p.Log.Info().Str("file", list.file).Str("cloud", list.cloud).Int64("change_number", list.changeNumber).
		Strs("tags", sc.Tags).Int("prefixes", len(list.prefixes)).Time("date", list.date).Str("date_from", list.dateFrom).
		Msg("service tags read")
	return nil
}

// compileMaps compiles the user and, when enabled, the group mapping. A
// mapping whose attributes key is covered (misspelt, or of the wrong type) is
// skipped: each problem it would find ("userName must be mapped", the RDN not
// mapped) only repeats that one.
func (p *Prepared) compileMaps(covered []string) []error {
	var errs []error
	var err error
	if !slices.Contains(covered, "users.attributes") {
		p.Users, err = ldapmap.New(p.Config.Users)
		errs = append(errs, err)
	}
	if p.Config.GroupsEnabled() && !slices.Contains(covered, "groups.attributes") {
		p.Groups, err = ldapmap.NewGroups(p.Config.Groups)
		errs = append(errs, err)
	}
	return errs
}

// finish builds what only a configuration without problems gets: tokens,
// CIDRs and the pool.
func (p *Prepared) finish() error {
	cfg := p.Config
	p.Tokens = make([]scimapi.Token, 0, len(cfg.Auth.BearerTokens))
	for _, t := range cfg.Auth.BearerTokens {
		h, err := scimapi.ParseTokenHash(t.SHA256)
		if err != nil {
			return fmt.Errorf("auth.bearer_tokens %s: %w", t.Name, err)
		}
		p.Tokens = append(p.Tokens, scimapi.Token{Name: t.Name, SHA256: h, Expires: t.Expires})
	}
	p.AllowedCIDRs, p.TrustedProxies = mergeCIDRs(parseCIDRs(cfg.Server.AllowedCIDRs), p.serviceTags), parseCIDRs(cfg.Server.TrustedProxies)
	if cfg.Server.AllowedServiceTags.File != "" && len(p.AllowedCIDRs) == 0 {
		// An empty allow list lets everyone in: never the result of
		// configuring one. readServiceTags refuses a tag without prefixes.
		return errors.New("server.allowed_service_tags: no address prefixes read")
	}
	return p.newPool()
}

// newPool builds the pool PoolKind asks for; NewPool dials nothing.
func (p *Prepared) newPool() error {
	lc := p.Config.LDAP
	switch p.kind {
	case NoPool:
		return nil
	case CheckPool:
		lc.PoolSize = 1
		if lc.Timeout <= 0 || lc.DialTimeout <= 0 {
			lc.Timeout, lc.DialTimeout = 10*time.Second, 5*time.Second
		}
	}
	pool, err := bridge.NewPool(lc, p.Log)
	if err != nil {
		return err
	}
	p.Pool = pool
	return nil
}

// parseCIDRs parses validated CIDRs.
func parseCIDRs(list []string) []*net.IPNet {
	var out []*net.IPNet
	for _, cidr := range list {
		if _, n, err := net.ParseCIDR(cidr); err == nil {
			out = append(out, n)
		}
	}
	return out
}

// once drops repeated lines from a joined error: Load and the mapping
// compile both apply some rules of config (DisableConfig.Problems), and an
// admin should read each problem once.
func once(err error) error {
	var out []error
	seen := map[string]bool{}
	for _, e := range joined(err) {
		if s := e.Error(); !seen[s] {
			seen[s] = true
			out = append(out, e)
		}
	}
	return errors.Join(out...)
}

// joined lists the errors joined in err, depth first, or err alone.
func joined(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, joined(e)...)
	}
	return out
}

// CheckOnline runs the checks against the directory (CheckOnline) through
// p.Pool, which then holds the connection they opened; the problems carry
// their lines in the file.
func (p *Prepared) CheckOnline(ctx context.Context) (problems config.Problems, warnings []string, err error) {
	if p.Pool == nil {
		return nil, nil, errors.New("daemon: the configuration was prepared without a pool")
	}
	problems, warnings, err = CheckOnline(ctx, p.Config, p.Pool)
	for i := range problems {
		problems[i] = p.lines.Place(problems[i])
	}
	return problems, warnings, err
}
