package scimapi

import (
	"strings"

	"github.com/scimbridge/scimbridge/scimapi/filter"
)

// Fields are the attributes a client asked for with attributes and
// excludedAttributes (RFC 7644 §3.9), handed to stores so they can skip
// expensive ones: a group's member list above all.
type Fields struct {
	Attributes, Excluded []string
}

// Wants tells whether the top-level attribute name is to be returned.
func (f Fields) Wants(name string) bool {
	top := func(a string) string {
		p, err := filter.ParsePath(a)
		if err != nil {
			return a
		}
		return p.Attr
	}
	for _, a := range f.Excluded {
		if strings.EqualFold(top(a), name) {
			return false
		}
	}
	if len(f.Attributes) == 0 {
		return true
	}
	for _, a := range f.Attributes {
		if strings.EqualFold(top(a), name) {
			return true
		}
	}
	return false
}
