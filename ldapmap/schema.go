package ldapmap

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/scimbridge/scimbridge/config"
)

// This file reads a directory's subschema (RFC 4512 §4.2: the attributeTypes,
// objectClasses and dITContentRules values of the entry named by the rootDSE's
// subschemaSubentry), so that `scimbridge validate` can tell an admin that
// "mial" is not an attribute before the first SCIM create fails. go-ldap has
// no schema parser. Like the rest of ldapmap this is pure: internal/daemon/online.go
// fetches the strings.

// ClassKind is the kind of an object class (RFC 4512 §2.4.1–2.4.3).
type ClassKind int

// Object class kinds; STRUCTURAL is the default when a description names none.
const (
	Structural ClassKind = iota
	Auxiliary
	Abstract
)

// ObjectClass is an RFC 4512 §4.1.1 ObjectClassDescription.
type ObjectClass struct {
	OID   string
	Names []string
	Sup   []string
	Kind  ClassKind
	Must  []string
	May   []string
}

// Name is the first NAME, or the OID when there is none.
func (c *ObjectClass) Name() string { return firstName(c.Names, c.OID) }

// AttributeType is an RFC 4512 §4.1.2 AttributeTypeDescription, reduced to
// what the configuration checks need.
type AttributeType struct {
	OID         string
	Names       []string
	Sup         string
	Syntax      string // numeric OID without the {length} bound
	SingleValue bool
	// NoUserModification marks attributes only the server writes (entryUUID).
	NoUserModification bool
	// Usage is userApplications (the default, "") or an operational usage.
	Usage string
}

// Name is the first NAME, or the OID when there is none.
func (a *AttributeType) Name() string { return firstName(a.Names, a.OID) }

// ContentRule is an RFC 4512 §4.1.6 DITContentRuleDescription. It governs the
// entries whose structural object class has the rule's OID: the auxiliary
// classes they may belong to, and attributes they must, may and must not hold
// beyond those of their object classes. Active Directory publishes one for
// every class with auxiliary classes (systemAuxiliaryClass and
// auxiliaryClass: user has securityPrincipal, which brings sAMAccountName),
// with the MUST and MAY of those auxiliary classes folded in. Its entries do
// not list those classes in objectClass, so without the rule the object
// classes alone would forbid sAMAccountName on a user.
type ContentRule struct {
	OID   string // the structural object class's OID
	Names []string
	Aux   []string
	Must  []string
	May   []string
	Not   []string
}

// Name is the first NAME, or the OID when there is none.
func (r *ContentRule) Name() string { return firstName(r.Names, r.OID) }

// Operational tells whether the attribute is operational (RFC 4512 §3.4):
// object classes do not govern it, so entryUUID or pwdAccountLockedTime may be
// on any entry.
func (a *AttributeType) Operational() bool {
	return a.Usage != "" && !strings.EqualFold(a.Usage, "userApplications")
}

func firstName(names []string, oid string) string {
	if len(names) > 0 {
		return names[0]
	}
	return oid
}

// flagKeywords take no value; every other keyword takes one value or a
// parenthesized list.
var flagKeywords = map[string]bool{
	"OBSOLETE": true, "SINGLE-VALUE": true, "COLLECTIVE": true, "NO-USER-MODIFICATION": true,
	"STRUCTURAL": true, "AUXILIARY": true, "ABSTRACT": true,
}

type tokKind int

const (
	tokWord tokKind = iota
	tokQuoted
	tokOpen
	tokClose
	tokDollar
)

type token struct {
	kind tokKind
	text string
}

// tokenize splits a description into parentheses, dollars, 'quoted strings'
// (with the \27 and \5C escapes of RFC 4512 §4.1 undone) and bare words.
// Whitespace is optional around parentheses, as some servers omit it.
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(':
			toks = append(toks, token{kind: tokOpen, text: "("})
			i++
		case c == ')':
			toks = append(toks, token{kind: tokClose, text: ")"})
			i++
		case c == '$':
			toks = append(toks, token{kind: tokDollar, text: "$"})
			i++
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted string at offset %d", i)
			}
			v := s[i+1 : i+1+end]
			v = strings.NewReplacer(`\27`, "'", `\5C`, `\`, `\5c`, `\`).Replace(v)
			toks = append(toks, token{kind: tokQuoted, text: v})
			i += end + 2
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()$'", rune(s[j])) {
				j++
			}
			toks = append(toks, token{kind: tokWord, text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// description is one parsed description: the OID and each keyword's values
// (nil for a flag such as SINGLE-VALUE).
type description struct {
	oid    string
	fields map[string][]string
}

// parseDescription parses the generic shape shared by every RFC 4512 §4.1
// description: ( oid KEYWORD value KEYWORD ( v1 $ v2 ) FLAG ... ).
func parseDescription(s string) (description, error) {
	toks, err := tokenize(s)
	if err != nil {
		return description{}, err
	}
	if len(toks) < 3 || toks[0].kind != tokOpen || toks[len(toks)-1].kind != tokClose {
		return description{}, errors.New("a description is ( OID ... ) in parentheses")
	}
	body := toks[1 : len(toks)-1]
	if (body[0].kind != tokWord && body[0].kind != tokQuoted) || !config.IsOID(body[0].text) {
		return description{}, errors.New("the description does not start with an OID")
	}
	d := description{oid: body[0].text, fields: map[string][]string{}}
	for i := 1; i < len(body); {
		if body[i].kind != tokWord {
			return description{}, fmt.Errorf("expected a keyword, got %q", body[i].text)
		}
		kw := strings.ToUpper(body[i].text)
		if _, dup := d.fields[kw]; dup {
			return description{}, fmt.Errorf("%s appears twice", kw)
		}
		i++
		if flagKeywords[kw] {
			d.fields[kw] = nil
			continue
		}
		vals, next, err := parseValues(body, i, kw)
		if err != nil {
			return description{}, err
		}
		d.fields[kw] = vals
		i = next
	}
	return d, nil
}

// parseValues parses the value of keyword kw that starts at body[i]: one word
// or quoted string, or a parenthesized list of them (separated by $, which is
// skipped). next is the index after the value.
func parseValues(body []token, i int, kw string) (vals []string, next int, err error) {
	if i == len(body) {
		return nil, 0, fmt.Errorf("%s has no value", kw)
	}
	switch body[i].kind {
	case tokWord, tokQuoted:
		return []string{body[i].text}, i + 1, nil
	case tokOpen:
		return parseList(body, i+1, kw)
	}
	return nil, 0, fmt.Errorf("%s is followed by %q", kw, body[i].text)
}

// parseList parses the rest of a parenthesized list of values from body[i]
// to its closing parenthesis.
func parseList(body []token, i int, kw string) (vals []string, next int, err error) {
	vals = []string{}
	for ; i < len(body) && body[i].kind != tokClose; i++ {
		switch body[i].kind {
		case tokWord, tokQuoted:
			vals = append(vals, body[i].text)
		case tokOpen:
			return nil, 0, fmt.Errorf("nested parentheses in %s", kw)
		}
	}
	if i == len(body) {
		return nil, 0, fmt.Errorf("the list of %s is not closed", kw)
	}
	return vals, i + 1, nil
}

// oids returns the values of kw, each of which must be a name or numeric OID.
func (d description) oids(kw string) ([]string, error) {
	for _, v := range d.fields[kw] {
		if !config.IsOID(v) {
			return nil, fmt.Errorf("%s: %q is neither a name nor a numeric OID", kw, v)
		}
	}
	return d.fields[kw], nil
}

// names returns NAME, whose values must be descrs.
func (d description) names() ([]string, error) {
	names, err := d.oids("NAME")
	for _, n := range names {
		if n[0] >= '0' && n[0] <= '9' {
			return nil, fmt.Errorf("NAME %q is not a name", n)
		}
	}
	return names, err
}

// ParseObjectClass parses one objectClasses value.
func ParseObjectClass(s string) (*ObjectClass, error) {
	d, err := parseDescription(s)
	if err != nil {
		return nil, fmt.Errorf("object class: %w", err)
	}
	oc := &ObjectClass{OID: d.oid}
	var errs []error
	add := func(dst *[]string, kw string) {
		v, err := d.oids(kw)
		*dst = v
		errs = append(errs, err)
	}
	oc.Names, err = d.names()
	errs = append(errs, err)
	add(&oc.Sup, "SUP")
	add(&oc.Must, "MUST")
	add(&oc.May, "MAY")
	kinds := 0
	for kw, k := range map[string]ClassKind{"STRUCTURAL": Structural, "AUXILIARY": Auxiliary, "ABSTRACT": Abstract} {
		if _, ok := d.fields[kw]; ok {
			oc.Kind = k
			kinds++
		}
	}
	if kinds > 1 {
		errs = append(errs, errors.New("more than one of STRUCTURAL, AUXILIARY, ABSTRACT"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("object class %s: %w", d.oid, err)
	}
	return oc, nil
}

// ParseContentRule parses one dITContentRules value.
func ParseContentRule(s string) (*ContentRule, error) {
	d, err := parseDescription(s)
	if err != nil {
		return nil, fmt.Errorf("DIT content rule: %w", err)
	}
	r := &ContentRule{OID: d.oid}
	var errs []error
	add := func(dst *[]string, kw string) {
		v, err := d.oids(kw)
		*dst = v
		errs = append(errs, err)
	}
	r.Names, err = d.names()
	errs = append(errs, err)
	add(&r.Aux, "AUX")
	add(&r.Must, "MUST")
	add(&r.May, "MAY")
	add(&r.Not, "NOT")
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("DIT content rule %s: %w", d.oid, err)
	}
	return r, nil
}

// ParseAttributeType parses one attributeTypes value.
func ParseAttributeType(s string) (*AttributeType, error) {
	d, err := parseDescription(s)
	if err != nil {
		return nil, fmt.Errorf("attribute type: %w", err)
	}
	at := &AttributeType{OID: d.oid}
	var errs []error
	at.Names, err = d.names()
	errs = append(errs, err)
	single := func(kw string) string {
		v := d.fields[kw]
		if len(v) > 1 {
			errs = append(errs, fmt.Errorf("%s takes one value, got %d", kw, len(v)))
		}
		if len(v) == 0 {
			return ""
		}
		return v[0]
	}
	if at.Sup = single("SUP"); at.Sup != "" && !config.IsOID(at.Sup) {
		errs = append(errs, fmt.Errorf("SUP: %q is neither a name nor a numeric OID", at.Sup))
	}
	at.Syntax, _, _ = strings.Cut(single("SYNTAX"), "{")
	at.Usage = single("USAGE")
	_, at.SingleValue = d.fields["SINGLE-VALUE"]
	_, at.NoUserModification = d.fields["NO-USER-MODIFICATION"]
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("attribute type %s: %w", d.oid, err)
	}
	return at, nil
}

// Schema indexes a directory's attribute types and object classes by
// lower-cased name and OID: LDAP names are case-insensitive (RFC 4512 §2.5).
type Schema struct {
	attrs      map[string]*AttributeType
	classes    map[string]*ObjectClass
	rules      map[string]*ContentRule // by the lower-cased OID of the structural class
	attrNames  []string
	classNames []string
}

// NewSchema indexes the subschema's values. A description that does not parse
// is skipped and reported in the error, so that one odd vendor extension does
// not hide the rest of the schema.
func NewSchema(attributeTypes, objectClasses, contentRules []string) (*Schema, error) {
	s := &Schema{attrs: map[string]*AttributeType{}, classes: map[string]*ObjectClass{}, rules: map[string]*ContentRule{}}
	var errs []error
	for _, v := range attributeTypes {
		at, err := ParseAttributeType(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.attrs[strings.ToLower(at.OID)] = at
		for _, n := range at.Names {
			s.attrs[strings.ToLower(n)] = at
			s.attrNames = append(s.attrNames, n)
		}
	}
	for _, v := range objectClasses {
		oc, err := ParseObjectClass(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.classes[strings.ToLower(oc.OID)] = oc
		for _, n := range oc.Names {
			s.classes[strings.ToLower(n)] = oc
			s.classNames = append(s.classNames, n)
		}
	}
	for _, v := range contentRules {
		r, err := ParseContentRule(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// Samba 4.17 publishes the rule of group twice, identically; the
		// last one wins, as for the other descriptions.
		s.rules[strings.ToLower(r.OID)] = r
	}
	// Sorted so that a "did you mean" between equally close names is stable.
	sort.Strings(s.attrNames)
	sort.Strings(s.classNames)
	return s, errors.Join(errs...)
}

// Attribute looks an attribute type up by name or OID; attribute options
// (mail;lang-de) are ignored. Nil when unknown.
func (s *Schema) Attribute(name string) *AttributeType {
	name, _, _ = strings.Cut(name, ";")
	return s.attrs[strings.ToLower(name)]
}

// Class looks an object class up by name or OID; nil when unknown.
func (s *Schema) Class(name string) *ObjectClass { return s.classes[strings.ToLower(name)] }

// ContentRule is the DIT content rule of a structural class; nil when the
// directory publishes none for it.
func (s *Schema) ContentRule(oc *ObjectClass) *ContentRule {
	if oc == nil {
		return nil
	}
	return s.rules[strings.ToLower(oc.OID)]
}

// SuggestAttribute is "; did you mean \"mail\"?" for a near miss, else "".
func (s *Schema) SuggestAttribute(name string) string { return suggest(name, s.attrNames) }

// SuggestClass is "; did you mean \"inetOrgPerson\"?" for a near miss, else "".
func (s *Schema) SuggestClass(name string) string { return suggest(name, s.classNames) }

// extensibleObjectOID allows every user attribute (RFC 4512 §4.3).
const extensibleObjectOID = "1.3.6.1.4.1.1466.101.120.111"

// Closure returns the classes with their SUP chains, each once.
func (s *Schema) Closure(classes []*ObjectClass) []*ObjectClass {
	var out []*ObjectClass
	seen := map[*ObjectClass]bool{}
	var walk func(*ObjectClass)
	walk = func(oc *ObjectClass) {
		if oc == nil || seen[oc] {
			return
		}
		seen[oc] = true
		out = append(out, oc)
		for _, sup := range oc.Sup {
			walk(s.Class(sup))
		}
	}
	for _, oc := range classes {
		walk(oc)
	}
	return out
}

// Allows tells whether an entry of these classes (and their superclasses) may
// hold at: it is in one's MUST or MAY, a class is extensibleObject, or the DIT
// content rule of a structural class among them names it in its MUST or MAY;
// and the entry's rule does not preclude it (NOT).
//
// The MUST and MAY of a rule's AUX classes do not count: RFC 4512 §4.1.6 only
// permits the entry to belong to them, and an entry that does lists them in
// objectClass, so they are among classes already. Active Directory
// applies systemAuxiliaryClass without listing it, and so folds the
// auxiliary classes' MUST and MAY into the rule's (Samba: user's rule has
// MUST ( sAMAccountName $ objectSid $ cn ) from securityPrincipal and
// mailRecipient).
func (s *Schema) Allows(classes []*ObjectClass, at *AttributeType) bool {
	if at == nil || s.PrecludedBy(classes, at) != "" {
		return false
	}
	closure := s.Closure(classes)
	for _, oc := range closure {
		if oc.OID == extensibleObjectOID || s.listed(oc.Must, at) || s.listed(oc.May, at) {
			return true
		}
	}
	for _, r := range s.rulesOf(closure) {
		if s.listed(r.Must, at) || s.listed(r.May, at) {
			return true
		}
	}
	return false
}

// PrecludedBy names the DIT content rule that forbids at (its NOT list) on an
// entry of these classes, or is "".
func (s *Schema) PrecludedBy(classes []*ObjectClass, at *AttributeType) string {
	if at == nil {
		return ""
	}
	for _, r := range s.entryRules(s.Closure(classes)) {
		if s.listed(r.Not, at) {
			return r.Name()
		}
	}
	return ""
}

// listed tells whether one of names (names or OIDs) is at.
func (s *Schema) listed(names []string, at *AttributeType) bool {
	for _, n := range names {
		if s.Attribute(n) == at {
			return true
		}
	}
	return false
}

// rulesOf returns the DIT content rules of every structural class in the
// closure, for what they permit. RFC 4512 applies only the rule of the entry's
// own structural class, but Active Directory lets a subclass inherit its
// superclasses' auxiliary classes (Samba's rule for computer, a subclass of
// user, lacks securityPrincipal, yet computers have a sAMAccountName). What
// they require or preclude is the entry's own rule alone (entryRules), so
// taking the superclasses' rules too can only silence a "not allowed", never
// invent a MUST.
func (s *Schema) rulesOf(closure []*ObjectClass) []*ContentRule {
	var out []*ContentRule
	for _, oc := range closure {
		if r := s.ContentRule(oc); r != nil && oc.Kind == Structural {
			out = append(out, r)
		}
	}
	return out
}

// entryRules returns the DIT content rule of the entry's structural class: the
// structural class of the closure that the others are superclasses of (user,
// not person). A configuration that names unrelated structural classes, which
// the directory would refuse anyway, gets the rule of each.
func (s *Schema) entryRules(closure []*ObjectClass) []*ContentRule {
	var out []*ContentRule
	for _, oc := range closure {
		if oc.Kind != Structural {
			continue
		}
		leaf := true
		for _, other := range closure {
			if other != oc && other.Kind == Structural && slices.Contains(s.Closure([]*ObjectClass{other}), oc) {
				leaf = false
				break
			}
		}
		if r := s.ContentRule(oc); leaf && r != nil {
			out = append(out, r)
		}
	}
	return out
}

// AllowedBy names up to three classes of the schema that allow at, sorted, as
// a hint for an admin whose object classes do not.
func (s *Schema) AllowedBy(at *AttributeType) []string {
	var out []string
	if at == nil {
		return nil
	}
	for key, oc := range s.classes {
		if key != strings.ToLower(oc.Name()) || oc.OID == extensibleObjectOID {
			continue // each class once, under its first name
		}
		if s.listed(oc.Must, at) || s.listed(oc.May, at) {
			out = append(out, oc.Name())
		}
	}
	sort.Strings(out)
	return out[:min(len(out), 3)]
}

// Required is one MUST attribute and the class that requires it.
type Required struct {
	Attr  string
	Type  *AttributeType // nil when the schema does not define Attr
	Class string
	// Rule: Class names a DIT content rule (whose MUST this is) rather than
	// an object class.
	Rule bool
}

// Requires lists the MUST attributes of the classes and their superclasses,
// then those of the DIT content rule of the entry's structural class (RFC 4512
// §4.1.6), each once, except objectClass, which every add carries anyway.
// Some of them the directory fills in itself (NO-USER-MODIFICATION ones such
// as AD's objectSid); telling those apart is the caller's business.
func (s *Schema) Requires(classes []*ObjectClass) []Required {
	var out []Required
	seen := map[string]bool{"objectclass": true, "2.5.4.0": true}
	add := func(names []string, from string, rule bool) {
		for _, n := range names {
			at := s.Attribute(n)
			key := strings.ToLower(n)
			if at != nil {
				key = at.OID
			}
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Required{Attr: n, Type: at, Class: from, Rule: rule})
		}
	}
	closure := s.Closure(classes)
	for _, oc := range closure {
		add(oc.Must, oc.Name(), false)
	}
	for _, r := range s.entryRules(closure) {
		add(r.Must, r.Name(), true)
	}
	return out
}
