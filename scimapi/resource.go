package scimapi

import (
	"errors"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// SchemaEnterpriseUser is the enterprise User extension (RFC 7643 §4.3).
const SchemaEnterpriseUser = scimjson.SchemaEnterpriseUser

// normalizeUser brings a POST/PUT body into the one shape the store expects:
//   - readOnly attributes (id, meta, groups) are dropped, RFC 7643 §2.2 says
//     the service provider ignores them on input;
//   - null values are dropped (Entra's old POST sends "title": null);
//   - active given as "True"/"False" becomes a boolean (docs/entra-wire-reference.md §7.1);
//   - enterprise attributes sent at the top level or as URN-qualified keys
//     move into the extension object;
//   - userName is required (RFC 7643 §4.1.1).
func normalizeUser(res Resource) error {
	for _, k := range []string{"id", "meta", "groups"} {
		delete(res, scimjson.KeyOf(res, k))
	}
	dropNulls(res)
	if err := normalizeActive(res); err != nil {
		return err
	}
	if err := moveEnterprise(res); err != nil {
		return err
	}
	if v, _ := scimjson.Lookup(res, "userName"); v == nil || v == "" {
		return scimerr.New(scimerr.InvalidValue, "userName is required")
	} else if _, ok := v.(string); !ok {
		return scimerr.New(scimerr.InvalidValue, "userName must be a string")
	}
	return nil
}

// normalizeActive makes "active" a boolean under its canonical key.
func normalizeActive(res Resource) error {
	v, ok := scimjson.Lookup(res, "active")
	if !ok {
		return nil
	}
	b, ok := scimjson.ParseBool(v)
	if !ok {
		return scimerr.New(scimerr.InvalidValue, `"active" must be a boolean`)
	}
	delete(res, scimjson.KeyOf(res, "active"))
	res["active"] = b
	return nil
}

// moveEnterprise moves enterprise attributes sent as URN-qualified keys or at
// the top level into the extension object.
func moveEnterprise(res Resource) error {
	ext, _ := scimjson.Lookup(res, SchemaEnterpriseUser)
	extObj, _ := ext.(map[string]any)
	if ext != nil && extObj == nil {
		return scimerr.New(scimerr.InvalidSyntax, "%s must be an object", SchemaEnterpriseUser)
	}
	for key, val := range res {
		if strings.HasPrefix(strings.ToLower(key), "urn:") && !strings.EqualFold(key, SchemaEnterpriseUser) {
			p, err := filter.ParsePath(key)
			if err == nil && strings.EqualFold(p.URN, SchemaEnterpriseUser) && p.SubAttr == "" && p.Filter == nil {
				extObj = ensure(res, extObj)
				extObj[p.Attr] = val
				delete(res, key)
			}
			continue
		}
		// An old Microsoft sample sends them at the top level (docs/entra-wire-reference.md §1.1).
		if scimjson.IsEnterpriseAttr(key) {
			extObj = ensure(res, extObj)
			if _, dup := scimjson.Lookup(extObj, key); !dup {
				extObj[key] = val
			}
			delete(res, key)
		}
	}
	return nil
}

func ensure(res Resource, ext map[string]any) map[string]any {
	if ext == nil {
		ext = map[string]any{}
		res[SchemaEnterpriseUser] = ext
	}
	return ext
}

func dropNulls(m map[string]any) {
	for k, v := range m {
		switch t := v.(type) {
		case nil:
			delete(m, k)
		case map[string]any:
			dropNulls(t)
		case []any:
			for _, el := range t {
				if em, ok := el.(map[string]any); ok {
					dropNulls(em)
				}
			}
		}
	}
}

// projectionParams reads attributes and excludedAttributes (RFC 7644 §3.9).
func projectionParams(c echo.Context) (attrs, excl []string, err error) {
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	attrs, excl = split(c.QueryParam("attributes")), split(c.QueryParam("excludedAttributes"))
	for _, a := range append(append([]string(nil), attrs...), excl...) {
		if _, err := filter.ParsePath(a); err != nil {
			return nil, nil, scimerr.Wrap(scimerr.InvalidPath, err, "invalid attribute %q", a)
		}
	}
	return attrs, excl, nil
}

// project returns res restricted to attrs (when given) minus excl. id and schemas
// are "returned: always" (RFC 7643 §7) and survive both.
func project(res Resource, attrs, excl []string) Resource {
	if len(attrs) == 0 && len(excl) == 0 {
		return res
	}
	out := selectAttrs(res, attrs)
	for _, a := range excl {
		exclude(out, a)
	}
	return out
}

// selectAttrs is a shallow copy of res restricted to attrs, all of res when
// attrs is empty.
func selectAttrs(res Resource, attrs []string) Resource {
	out := Resource{}
	if len(attrs) == 0 {
		for k, v := range res {
			out[k] = v
		}
		return out
	}
	for _, a := range attrs {
		copyPath(res, out, a)
	}
	for _, k := range []string{"id", "schemas"} {
		if v, ok := res[k]; ok {
			out[k] = v
		}
	}
	return out
}

// exclude removes the attribute path a from out, copying a complex attribute
// before removing one of its sub-attributes (out shares values with the
// stored resource).
func exclude(out Resource, a string) {
	p, _ := filter.ParsePath(a)
	if strings.EqualFold(p.Attr, "id") || strings.EqualFold(p.Attr, "schemas") {
		return
	}
	c := out
	if p.URN != "" && !scimjson.IsCoreSchema(p.URN) {
		c, _ = out[scimjson.KeyOf(out, p.URN)].(map[string]any)
		if c == nil {
			return
		}
	}
	if p.SubAttr == "" {
		delete(c, scimjson.KeyOf(c, p.Attr))
		return
	}
	if sub, ok := c[scimjson.KeyOf(c, p.Attr)].(map[string]any); ok {
		cp := copyMap(sub)
		delete(cp, scimjson.KeyOf(cp, p.SubAttr))
		c[scimjson.KeyOf(c, p.Attr)] = cp
	}
}

func copyPath(src, dst Resource, a string) {
	p, err := filter.ParsePath(a)
	if err != nil {
		return
	}
	s, d := src, dst
	if p.URN != "" && !scimjson.IsCoreSchema(p.URN) {
		ext, _ := src[scimjson.KeyOf(src, p.URN)].(map[string]any)
		if ext == nil {
			return
		}
		s = ext
		dext, _ := dst[scimjson.KeyOf(src, p.URN)].(map[string]any)
		if dext == nil {
			dext = map[string]any{}
			dst[scimjson.KeyOf(src, p.URN)] = dext
		}
		d = dext
	}
	v, ok := scimjson.Lookup(s, p.Attr)
	if !ok {
		return
	}
	key := scimjson.KeyOf(s, p.Attr)
	if p.SubAttr == "" {
		d[key] = v
		return
	}
	sub, ok := v.(map[string]any)
	if !ok {
		d[key] = v // multi-valued: keep whole elements
		return
	}
	sv, ok := scimjson.Lookup(sub, p.SubAttr)
	if !ok {
		return
	}
	dm, _ := d[key].(map[string]any)
	if dm == nil {
		dm = map[string]any{}
		d[key] = dm
	}
	dm[scimjson.KeyOf(sub, p.SubAttr)] = sv
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }

// normalizeGroup prepares a POST/PUT group body: readOnly attributes and nulls
// are dropped; displayName is required (RFC 7643 §4.2). Entra's extra schema URI
// http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group
// (docs/entra-wire-reference.md §1.2) is accepted like any schemas value.
func normalizeGroup(res Resource) error {
	for _, k := range []string{"id", "meta"} {
		delete(res, scimjson.KeyOf(res, k))
	}
	dropNulls(res)
	v, _ := scimjson.Lookup(res, "displayName")
	if s, ok := v.(string); !ok || strings.TrimSpace(s) == "" {
		return scimerr.New(scimerr.InvalidValue, "displayName is required")
	}
	return nil
}
