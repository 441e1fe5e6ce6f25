package scimapi_test

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/scimapi"
	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// memMatch evaluates a SCIM filter (RFC 7644 §3.4.2.2) on a resource held as
// decoded JSON, for memStore. Strings compare ignoring case except for the
// caseExact attributes of RFC 7643 (id, externalId, references).
func memMatch(e filter.Expr, res scimapi.Resource) bool {
	switch t := e.(type) {
	case *filter.And:
		return memMatch(t.Left, res) && memMatch(t.Right, res)
	case *filter.Or:
		return memMatch(t.Left, res) || memMatch(t.Right, res)
	case *filter.Not:
		return !memMatch(t.X, res)
	case *filter.Has:
		return len(memValues(res, t.Path)) > 0
	case *filter.Compare:
		vals := memValues(res, t.Path)
		if t.Op == filter.Pr {
			for _, v := range vals {
				if v != nil && v != "" {
					return true
				}
			}
			return false
		}
		exact := memCaseExact(t.Path)
		if t.Op == filter.Ne {
			for _, v := range vals {
				if memCompare(filter.Eq, v, t.Value, exact) {
					return false
				}
			}
			return true
		}
		for _, v := range vals {
			if memCompare(t.Op, v, t.Value, exact) {
				return true
			}
		}
	}
	return false
}

// memValues are the values p names in res: the elements of a multi-valued
// attribute that its value filter keeps, then their sub-attribute. A complex
// value compared without a sub-attribute stands for its "value" (how
// emails co "x" and Entra's manager eq "id" read).
func memValues(res scimapi.Resource, p filter.Path) []any {
	c := res
	urn := p.URN
	if _, top := scimjson.Lookup(res, p.Attr); urn == "" && !top && scimjson.IsEnterpriseAttr(p.Attr) {
		// Entra names the manager without its URN (manager eq "id"), as
		// patch reads it too.
		urn = scimapi.SchemaEnterpriseUser
	}
	if urn != "" && !scimjson.IsCoreSchema(urn) {
		ext, _ := scimjson.Lookup(res, urn)
		if c, _ = ext.(map[string]any); c == nil {
			return nil
		}
	}
	v, ok := scimjson.Lookup(c, p.Attr)
	if !ok || v == nil {
		return nil
	}
	elems, isList := v.([]any)
	if !isList {
		elems = []any{v}
	}
	var out []any
	for _, el := range elems {
		m, isObj := el.(map[string]any)
		if p.Filter != nil && (!isObj || !patch.Match(p.Filter, m)) {
			continue
		}
		switch {
		case p.Filter != nil && p.SubAttr == "":
			out = append(out, el)
		case isObj:
			sub := p.SubAttr
			if sub == "" {
				sub = "value"
			}
			if x, ok := scimjson.Lookup(m, sub); ok {
				out = append(out, x)
			}
		case p.SubAttr == "":
			out = append(out, el)
		}
	}
	return out
}

func memCaseExact(p filter.Path) bool {
	switch strings.ToLower(p.Attr) {
	case "id", "externalid":
		return p.SubAttr == ""
	case "members", "groups", "manager":
		return p.SubAttr == "" || strings.EqualFold(p.SubAttr, "value")
	}
	return false
}

// memCompare applies one operator to a stored value and the filter's value.
func memCompare(op filter.Op, got, want any, exact bool) bool {
	switch w := want.(type) {
	case bool:
		g, ok := scimjson.ParseBool(got)
		return ok && op == filter.Eq && g == w
	case json.Number:
		g, err1 := strconv.ParseFloat(memText(got), 64)
		f, err2 := w.Float64()
		if err1 != nil || err2 != nil {
			return false
		}
		return memOrder(op, g < f, g == f, g > f)
	case string:
		g, ok := got.(string)
		if !ok {
			return false
		}
		if !exact {
			g, w = strings.ToLower(g), strings.ToLower(w)
		}
		switch op {
		case filter.Co:
			return strings.Contains(g, w)
		case filter.Sw:
			return strings.HasPrefix(g, w)
		case filter.Ew:
			return strings.HasSuffix(g, w)
		}
		return memOrder(op, g < w, g == w, g > w)
	}
	return false
}

func memOrder(op filter.Op, lt, eq, gt bool) bool {
	switch op {
	case filter.Eq:
		return eq
	case filter.Gt:
		return gt
	case filter.Ge:
		return gt || eq
	case filter.Lt:
		return lt
	case filter.Le:
		return lt || eq
	}
	return false
}

func memText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	}
	return ""
}
