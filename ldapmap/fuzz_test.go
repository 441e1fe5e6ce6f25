package ldapmap_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/ldapmap"
	"github.com/scimbridge/scimbridge/scimapi/filter"
)

// FuzzSearchFilter: any SCIM filter the parser accepts either fails cleanly or
// becomes an LDAP filter that compiles, and no client value changes the
// filter's structure (the injection property of fuzz every builder).
func FuzzSearchFilter(f *testing.F) {
	for _, tc := range searchFilterCases {
		f.Add(tc.in)
	}
	f.Add(`userName eq "\\5c"`)
	f.Add(`userName sw "a*"`)
	f.Add(`title lt "w)" or emails[type gt "(" and value sw "*"]`)
	f.Add(`emails[not (type eq "w(rk")]`)
	f.Add(`not (emails[not (value eq "*)(") or type ne "work"]) and phoneNumbers[not (type eq "mobile")]`)
	f.Add(`addresses[not (locality co ")") and not (type eq "home")]`)
	m := exampleMap(f, nil)
	r := newResolver()
	f.Fuzz(func(t *testing.T, s string) { fuzzSearchFilter(t, m, r, s) })
}

// FuzzGroupSearchFilter is FuzzSearchFilter on the example's groups, whose
// members filters go through the resolver and the empty-group placeholder.
func FuzzGroupSearchFilter(f *testing.F) {
	for _, s := range []string{
		`members pr`, `not (members pr)`, `members.value pr and displayName eq "a)("`,
		`members eq "` + bossID + `" or members ne "*"`, `members[value eq "` + bossID + `" or value eq "x)"]`,
		`not (members pr) or externalId sw "*"`,
	} {
		f.Add(s)
	}
	g, err := ldapmap.NewGroups(exampleConfig(f).Groups)
	if err != nil {
		f.Fatal(err)
	}
	r := newResolver()
	f.Fuzz(func(t *testing.T, s string) { fuzzSearchFilter(t, g.Map, r, s) })
}

func fuzzSearchFilter(t *testing.T, m *ldapmap.Map, r ldapmap.Resolver, s string) {
	if len(s) > 4<<10 {
		// Long chains only measure go-ldap's CompileFilter, which is
		// quadratic (seconds per input at 64 KiB); the parser's own
		// fuzz target covers the length limit.
		return
	}
	e, err := filter.Parse(s)
	if err != nil {
		return
	}
	out, err := m.SearchFilter(context.Background(), e, r)
	// The twin has every special character of every value replaced by a
	// harmless one that sorts the same way against letters, so it takes
	// the same branches; only the escaping can tell the two apart.
	twin, twinErr := m.SearchFilter(context.Background(), mapValues(e, neutral), r)
	if (err == nil) != (twinErr == nil) {
		t.Fatalf("%q: error %v, but its neutral twin gives %v", s, err, twinErr)
	}
	if err != nil {
		return
	}
	p, err := ldap.CompileFilter(out)
	if err != nil {
		t.Fatalf("%q → %q does not compile: %v", s, out, err)
	}
	tp, err := ldap.CompileFilter(twin)
	if err != nil {
		t.Fatalf("twin of %q → %q does not compile: %v", s, twin, err)
	}
	if a, b := shape(p), shape(tp); a != b {
		t.Fatalf("%q: a value changed the filter structure\n out %s\ntwin %s\n%s\n%s", s, out, twin, a, b)
	}
	checkVerbatim(t, s, e, out, twin)
}

// checkVerbatim is the textual form of the escape check: a value holding
// * ( ) or \ never appears as written in the output. Only the unescaped runs
// of the output count (the a* of a\2a* is an escape's last digit and a
// wildcard), and a run the twin has too is structure, not the value (`*` in
// (mail=*)).
func checkVerbatim(t *testing.T, in string, e filter.Expr, out, twin string) {
	runs := escapeSeq.Split(out, -1)
	for _, v := range stringValues(e, nil) {
		if !strings.ContainsAny(v, `*()\`) || strings.Contains(twin, v) {
			continue
		}
		for _, run := range runs {
			if strings.Contains(run, v) {
				t.Fatalf("%q: value %q appears unescaped in %s", in, v, out)
			}
		}
	}
}

// escapeSeq is an RFC 4515 escaped byte.
var escapeSeq = regexp.MustCompile(`\\[0-9a-fA-F]{2}`)

func neutral(s string) string {
	return strings.NewReplacer("(", "'", ")", "'", "*", "'", `\`, "[").Replace(s)
}

// mapValues copies e with every string comparison value passed through fn.
func mapValues(e filter.Expr, fn func(string) string) filter.Expr {
	switch t := e.(type) {
	case *filter.And:
		return &filter.And{Left: mapValues(t.Left, fn), Right: mapValues(t.Right, fn)}
	case *filter.Or:
		return &filter.Or{Left: mapValues(t.Left, fn), Right: mapValues(t.Right, fn)}
	case *filter.Not:
		return &filter.Not{X: mapValues(t.X, fn)}
	case *filter.Has:
		return &filter.Has{Path: mapPath(t.Path, fn)}
	case *filter.Compare:
		c := &filter.Compare{Path: mapPath(t.Path, fn), Op: t.Op, Value: t.Value}
		if s, ok := t.Value.(string); ok {
			c.Value = fn(s)
		}
		return c
	}
	return e
}

func mapPath(p filter.Path, fn func(string) string) filter.Path {
	if p.Filter != nil {
		p.Filter = mapValues(p.Filter, fn)
	}
	return p
}

func stringValues(e filter.Expr, acc []string) []string {
	mapValues(e, func(s string) string {
		acc = append(acc, s)
		return s
	})
	return acc
}

// shape renders a compiled filter without its assertion values: operators,
// attribute names, and the layout of substring assertions (where an
// unescaped * would show as an extra part).
func shape(p *ber.Packet) string {
	var b strings.Builder
	writeShape(&b, p)
	return b.String()
}

func writeShape(b *strings.Builder, p *ber.Packet) {
	switch p.Tag {
	case ldap.FilterAnd, ldap.FilterOr, ldap.FilterNot:
		fmt.Fprintf(b, "(%s", ldap.FilterMap[uint64(p.Tag)])
		for _, c := range p.Children {
			writeShape(b, c)
		}
		b.WriteByte(')')
	case ldap.FilterPresent:
		fmt.Fprintf(b, "(%s=*)", p.Data.String())
	case ldap.FilterSubstrings:
		fmt.Fprintf(b, "(%s~", p.Children[0].Data.String())
		for _, c := range p.Children[1].Children {
			fmt.Fprintf(b, "%d", c.Tag)
		}
		b.WriteByte(')')
	default:
		fmt.Fprintf(b, "(%s %s)", p.Children[0].Data.String(), ldap.FilterMap[uint64(p.Tag)])
	}
}
