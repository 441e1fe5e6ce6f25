package scimapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// Schemas of the discovery resources (RFC 7643 §5, §6, §7).
const (
	SchemaServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"

	schemaCoreUser  = "urn:ietf:params:scim:schemas:core:2.0:User"
	schemaCoreGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// discovery holds what the discovery endpoints (RFC 7644 §4) serve, built once
// from the mapping in Options. Only meta.location is added per request, since
// it depends on the request's host. Nothing here reaches a ResourceStore.
type discovery struct {
	maxResults int
	types      []resourceType   // User, then Group when groups are enabled
	schemas    []schemaResource // in the order /Schemas lists them
}

// resourceType is an RFC 7643 §6 ResourceType resource.
type resourceType struct {
	Schemas          []string          `json:"schemas"`
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Endpoint         string            `json:"endpoint"`
	Description      string            `json:"description"`
	Schema           string            `json:"schema"`
	SchemaExtensions []schemaExtension `json:"schemaExtensions,omitempty"`
	Meta             discoveryMeta     `json:"meta"`
}

type schemaExtension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

// schemaResource is an RFC 7643 §7 Schema resource.
type schemaResource struct {
	Schemas     []string      `json:"schemas"`
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Attributes  []schemaAttr  `json:"attributes"`
	Meta        discoveryMeta `json:"meta"`
}

type discoveryMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

// newDiscovery describes the schemas in use: an attribute is listed only when
// it is mapped or always served by the bridge (userName, active, groups;
// displayName, members). The paths were validated with the configuration
// (package ldapmap), so one that does not parse or names no known attribute is
// skipped here rather than failing the server.
func newDiscovery(opts Options, groups bool) *discovery {
	d := &discovery{maxResults: opts.MaxCount}
	exts := &extensions{byURN: map[string]*schemaResource{}}

	core, ent := newSelection(userAttrs), newSelection(enterpriseAttrDefs)
	core.pick("userName")
	core.pick("active")
	if groups {
		core.pick("groups", "*")
	}
	var userExts []string
	for _, p := range parsePaths(opts.UserAttributes) {
		switch {
		case p.URN == "" || strings.EqualFold(p.URN, schemaCoreUser):
			core.pickPath(p)
		case strings.EqualFold(p.URN, SchemaEnterpriseUser):
			ent.pickPath(p)
		default:
			userExts = appendFold(userExts, exts.add(p.URN, p.Attr))
		}
	}
	user := resourceType{ID: "User", Name: "User", Endpoint: "/Users", Description: "User Account", Schema: schemaCoreUser}
	d.schemas = append(d.schemas, schemaResource{
		ID: schemaCoreUser, Name: "User", Description: "User Account", Attributes: core.attributes(),
	})
	// The enterprise extension is listed only when something of it is mapped;
	// it is never required (RFC 7643 §4.3).
	if attrs := ent.attributes(); len(attrs) > 0 {
		d.schemas = append(d.schemas, schemaResource{
			ID: SchemaEnterpriseUser, Name: "EnterpriseUser", Description: "Enterprise User", Attributes: attrs,
		})
		user.SchemaExtensions = append(user.SchemaExtensions, schemaExtension{Schema: SchemaEnterpriseUser})
	}
	user.SchemaExtensions = append(user.SchemaExtensions, exts.refs(userExts)...)
	d.types = append(d.types, user)

	if groups {
		gsel := newSelection(groupAttrs)
		gsel.pick("displayName")
		gsel.pick("members", "*")
		var groupExts []string
		for _, p := range parsePaths(opts.GroupAttributes) {
			if p.URN == "" || strings.EqualFold(p.URN, schemaCoreGroup) {
				gsel.pickPath(p)
				continue
			}
			groupExts = appendFold(groupExts, exts.add(p.URN, p.Attr))
		}
		d.schemas = append(d.schemas, schemaResource{
			ID: schemaCoreGroup, Name: "Group", Description: "Group", Attributes: gsel.attributes(),
		})
		d.types = append(d.types, resourceType{
			ID: "Group", Name: "Group", Endpoint: "/Groups",
			Description: "Group", Schema: schemaCoreGroup, SchemaExtensions: exts.refs(groupExts),
		})
	}
	for _, key := range exts.order {
		d.schemas = append(d.schemas, *exts.byURN[key])
	}
	for i := range d.schemas {
		d.schemas[i].Schemas = []string{SchemaSchema}
	}
	for i := range d.types {
		d.types[i].Schemas = []string{SchemaResourceType}
	}
	return d
}

func parsePaths(in []string) []filter.Path {
	out := make([]filter.Path, 0, len(in))
	for _, s := range in {
		if p, err := filter.ParsePath(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// isCommonAttr tells whether name is one of the attributes every resource has
// (RFC 7643 §3.1); §8.7.1 leaves them out of the schemas' attribute lists.
func isCommonAttr(name string) bool {
	for _, c := range []string{"id", "externalId", "meta", "schemas"} {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}

// selection collects the attributes of one schema that are in use and, for
// complex ones, which sub-attributes ("*": all of them).
type selection struct {
	defs   []schemaAttr
	picked map[string]map[string]bool // lower-cased names
}

func newSelection(defs []schemaAttr) *selection {
	return &selection{defs: defs, picked: map[string]map[string]bool{}}
}

// pick marks attribute name, with subs of a complex attribute. Unknown names
// and sub-attributes are ignored; a complex attribute with no known sub is not
// marked, so no complex attribute is listed without sub-attributes.
func (s *selection) pick(name string, subs ...string) {
	d, ok := findAttr(s.defs, name)
	if !ok {
		return
	}
	var known []string
	for _, sub := range subs {
		if _, ok := findAttr(d.SubAttributes, sub); ok || sub == "*" {
			known = append(known, strings.ToLower(sub))
		}
	}
	if len(d.SubAttributes) > 0 && len(known) == 0 {
		return
	}
	key := strings.ToLower(d.Name)
	if s.picked[key] == nil {
		s.picked[key] = map[string]bool{}
	}
	for _, k := range known {
		s.picked[key][k] = true
	}
}

// pickPath marks what a mapped path uses: emails[type eq "work"].value uses
// emails with value and the type it selects by; name.givenName uses name with
// givenName; the enterprise manager reference is value plus $ref.
func (s *selection) pickPath(p filter.Path) {
	if isCommonAttr(p.Attr) {
		return
	}
	switch {
	case strings.EqualFold(p.Attr, "manager"):
		s.pick(p.Attr, "value", "$ref")
	case p.SubAttr == "":
		s.pick(p.Attr, "value")
	default:
		s.pick(p.Attr, p.SubAttr)
	}
	if p.Filter != nil {
		s.pick(p.Attr, "type")
	}
}

// attributes lists the picked attributes in the order of the definitions, each
// complex one cut down to its picked sub-attributes.
func (s *selection) attributes() []schemaAttr {
	out := []schemaAttr{}
	for _, d := range s.defs {
		subs, ok := s.picked[strings.ToLower(d.Name)]
		if !ok {
			continue
		}
		if len(d.SubAttributes) > 0 && !subs["*"] {
			kept := []schemaAttr{}
			for _, sa := range d.SubAttributes {
				if subs[strings.ToLower(sa.Name)] {
					kept = append(kept, sa)
				}
			}
			d.SubAttributes = kept
		}
		out = append(out, d)
	}
	return out
}

// extensions collects custom extension schemas, e.g.
// urn:ietf:params:scim:schemas:extension:acme:2.0:User:badge. Each attribute is
// a single-valued string: for non-gallery apps Entra's custom attributes cannot
// be reference, multi-valued or complex (docs/entra-wire-reference.md §4.4). A URN used by
// both users and groups is one schema resource.
type extensions struct {
	order []string // lower-cased URNs, first use first
	byURN map[string]*schemaResource
}

// add records attr under urn and returns the URN as first written.
func (x *extensions) add(urn, attr string) string {
	key := strings.ToLower(urn)
	s := x.byURN[key]
	if s == nil {
		s = &schemaResource{
			ID: urn, Name: extensionName(urn),
			Description: "Custom extension attributes", Attributes: []schemaAttr{},
		}
		x.byURN[key] = s
		x.order = append(x.order, key)
	}
	if _, dup := findAttr(s.Attributes, attr); !dup {
		s.Attributes = append(s.Attributes, str(attr, "Custom extension attribute "+attr+"."))
	}
	return s.ID
}

// refs lists urns as optional extensions of a resource type.
func (x *extensions) refs(urns []string) []schemaExtension {
	var out []schemaExtension
	for _, u := range urns {
		out = append(out, schemaExtension{Schema: u})
	}
	return out
}

// extensionName makes "acme User" of urn:ietf:params:scim:schemas:extension:acme:2.0:User.
func extensionName(urn string) string {
	const prefix = "urn:ietf:params:scim:schemas:extension:"
	if len(urn) <= len(prefix) || !strings.EqualFold(urn[:len(prefix)], prefix) {
		return urn
	}
	parts := strings.Split(urn[len(prefix):], ":")
	if len(parts) == 1 {
		return parts[0]
	}
	return parts[0] + " " + parts[len(parts)-1]
}

func appendFold(list []string, s string) []string {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return list
		}
	}
	return append(list, s)
}

// routeDiscovery registers the discovery endpoints of RFC 7644 §4 on g, which
// carries the bearer-token check like every other route. They are read-only:
// other methods get 405. /ServiceConfiguration reaches /ServiceProviderConfig
// through canonicalPath.
func (s *Server) routeDiscovery(g *echo.Group, groups bool) {
	d := newDiscovery(s.opts, groups)
	get := func(path string, h func(echo.Context, *discovery) error) {
		serve(g, path, map[string]echo.HandlerFunc{http.MethodGet: func(c echo.Context) error { return h(c, d) }})
	}
	get("/ServiceProviderConfig", s.serviceProviderConfig)
	get("/ResourceTypes", s.resourceTypes)
	get("/ResourceTypes/:name", s.resourceType)
	get("/Schemas", s.schemas)
	get("/Schemas/:urn", s.schema)
}

// serviceProviderConfig answers GET /ServiceProviderConfig (RFC 7643 §5).
// A filter is refused with 403, as RFC 7644 §4 says, so that no client takes
// it for a match.
func (s *Server) serviceProviderConfig(c echo.Context, d *discovery) error {
	if c.QueryParam("filter") != "" {
		s.writeError(c, http.StatusForbidden, "", "filter is not supported on /ServiceProviderConfig (RFC 7644 §4)")
		return nil
	}
	supported := func(b bool) map[string]any { return map[string]any{"supported": b} }
	return writeJSON(c, http.StatusOK, map[string]any{
		"schemas": []string{SchemaServiceProviderConfig},
		"patch":   supported(true),
		"bulk":    map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":  map[string]any{"supported": true, "maxResults": d.maxResults},
		// password is not a mappable attribute (ldapmap userSchema).
		"changePassword": supported(false),
		"sort":           supported(false),
		// Weak ETags from meta.version; If-Match is honoured with 412 (RFC 7644 §3.14).
		"etag": supported(true),
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "Authentication scheme using the OAuth Bearer Token Standard",
			"specUri":     "https://www.rfc-editor.org/info/rfc6750",
			"primary":     true,
		}},
		"meta": discoveryMeta{ResourceType: "ServiceProviderConfig", Location: s.baseURL(c) + "/ServiceProviderConfig"},
	})
}

func (s *Server) resourceTypes(c echo.Context, d *discovery) error {
	items := make([]any, 0, len(d.types))
	for _, rt := range d.types {
		items = append(items, s.withTypeMeta(c, rt))
	}
	return writeJSON(c, http.StatusOK, listOf(items))
}

func (s *Server) resourceType(c echo.Context, d *discovery) error {
	name := pathParam(c, "name")
	for _, rt := range d.types {
		if strings.EqualFold(rt.ID, name) {
			return writeJSON(c, http.StatusOK, s.withTypeMeta(c, rt))
		}
	}
	return scimerr.New(scimerr.NotFound, "no resource type %q", name)
}

func (s *Server) schemas(c echo.Context, d *discovery) error {
	items := make([]any, 0, len(d.schemas))
	for _, sr := range d.schemas {
		items = append(items, s.withSchemaMeta(c, sr))
	}
	return writeJSON(c, http.StatusOK, listOf(items))
}

func (s *Server) schema(c echo.Context, d *discovery) error {
	urn := pathParam(c, "urn")
	for _, sr := range d.schemas {
		if strings.EqualFold(sr.ID, urn) {
			return writeJSON(c, http.StatusOK, s.withSchemaMeta(c, sr))
		}
	}
	return scimerr.New(scimerr.NotFound, "no schema %q", urn)
}

// withTypeMeta and withSchemaMeta return copies with meta filled in; the shared
// values are never written to, so concurrent requests do not race.
func (s *Server) withTypeMeta(c echo.Context, rt resourceType) resourceType {
	rt.Meta = discoveryMeta{ResourceType: "ResourceType", Location: s.baseURL(c) + "/ResourceTypes/" + rt.ID}
	return rt
}

func (s *Server) withSchemaMeta(c echo.Context, sr schemaResource) schemaResource {
	sr.Meta = discoveryMeta{ResourceType: "Schema", Location: s.baseURL(c) + "/Schemas/" + sr.ID}
	return sr
}

// listOf is a ListResponse of all items in one page. Microsoft's /Schemas
// sample carries totalResults, startIndex and itemsPerPage (docs/entra-wire-reference.md §1.3).
func listOf(items []any) map[string]any {
	return map[string]any{
		"schemas":      []string{SchemaListResponse},
		"totalResults": len(items),
		"startIndex":   1,
		"itemsPerPage": len(items),
		"Resources":    items,
	}
}

// pathParam returns an unescaped path parameter: a client may send the URN in
// /Schemas/{urn} with its colons percent-encoded.
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}
