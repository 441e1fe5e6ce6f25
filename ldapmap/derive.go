package ldapmap

import (
	"strings"
	"text/template"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// derive computes an LDAP attribute from the entry's other attributes with a Go
// template, e.g. cn from displayName or "givenName sn" (users.derive).
type derive struct {
	attr string
	tmpl *template.Template
	// src is the template as written: PlanBlind reads which attributes it
	// mentions.
	src string
}

// templateFuncs are the functions admins may use in templates.
var templateFuncs = template.FuncMap{
	// coalesce returns the first argument that is not blank.
	"coalesce": func(vals ...string) string {
		for _, v := range vals {
			if strings.TrimSpace(v) != "" {
				return v
			}
		}
		return ""
	},
	// join joins the non-blank values with sep, so a missing givenName does
	// not leave a leading space.
	"join": func(sep string, vals ...string) string {
		var parts []string
		for _, v := range vals {
			if strings.TrimSpace(v) != "" {
				parts = append(parts, v)
			}
		}
		return strings.Join(parts, sep)
	},
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
	"trim":  strings.TrimSpace,
	// localpart returns the part of an e-mail address or UPN before the last @.
	"localpart": func(s string) string {
		if i := strings.LastIndexByte(s, '@'); i >= 0 {
			return s[:i]
		}
		return s
	},
	// samaccountname makes an AD logon name: the part before @, illegal
	// characters replaced, at most 20 characters.
	"samaccountname": SAMAccountName,
	"default": func(def, v string) string {
		if strings.TrimSpace(v) == "" {
			return def
		}
		return v
	},
}

func newDerive(d config.DeriveConfig) (*derive, error) {
	// A map[string]string renders an absent attribute as "" with
	// missingkey=zero, so templates need no guards for empty attributes.
	t, err := template.New(d.LDAP).Funcs(templateFuncs).Option("missingkey=zero").Parse(d.Template)
	if err != nil {
		return nil, err
	}
	return &derive{attr: d.LDAP, tmpl: t, src: d.Template}, nil
}

func (d *derive) eval(v values) (string, error) {
	data := map[string]string{}
	for k, x := range v {
		if len(x.vals) > 0 {
			data[x.name] = x.vals[0]
			data[k] = x.vals[0]
		}
	}
	var b strings.Builder
	if err := d.tmpl.Execute(&b, data); err != nil {
		return "", scimerr.Wrap(scimerr.Internal, err, "derive %s", d.attr)
	}
	return strings.TrimSpace(b.String()), nil
}
