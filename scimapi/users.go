package scimapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/patch"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
	"github.com/scimbridge/scimbridge/scimapi/scimreq"
)

// SchemaListResponse is the schema of list bodies (RFC 7644 §3.4.2).
const SchemaListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

// endpoint is one resource type's routes: /Users or /Groups.
type endpoint struct {
	name      string
	store     ResourceStore
	normalize func(Resource) error
}

func (s *Server) route(g *echo.Group, ep *endpoint) {
	serve(g, "/"+ep.name, map[string]echo.HandlerFunc{
		http.MethodGet:  func(c echo.Context) error { return s.list(c, ep) },
		http.MethodPost: func(c echo.Context) error { return s.create(c, ep) },
	})
	serve(g, "/"+ep.name+"/:id", map[string]echo.HandlerFunc{
		http.MethodGet:    func(c echo.Context) error { return s.get(c, ep) },
		http.MethodPut:    func(c echo.Context) error { return s.replace(c, ep) },
		http.MethodPatch:  func(c echo.Context) error { return s.patch(c, ep) },
		http.MethodDelete: func(c echo.Context) error { return s.delete(c, ep) },
	})
}

// groupsDisabled answers /Groups when groups.enabled is false. 501 says "this
// service does not do that" (RFC 7644 §3.12); the detail tells the admin what
// to change in Entra.
func groupsDisabled(echo.Context) error {
	return scimerr.New(scimerr.NotImplemented, "group provisioning is disabled on this bridge (groups.enabled: false); "+
		"in Entra, set 'Provision Microsoft Entra ID Groups' to No in the provisioning mappings")
}

func (s *Server) create(c echo.Context, ep *endpoint) error {
	res, err := readResource(c)
	if err != nil {
		return err
	}
	if err := ep.normalize(res); err != nil {
		return err
	}
	out, err := ep.store.Create(c.Request().Context(), res)
	if err != nil {
		return err
	}
	s.setMeta(c, ep.name, out)
	c.Response().Header().Set(echo.HeaderLocation, location(out))
	return s.writeResource(c, http.StatusCreated, out)
}

func (s *Server) get(c echo.Context, ep *endpoint) error {
	attrs, excl, err := projectionParams(c)
	if err != nil {
		return err
	}
	out, err := ep.store.Get(c.Request().Context(), c.Param("id"), Fields{Attributes: attrs, Excluded: excl})
	if err != nil {
		return err
	}
	s.setMeta(c, ep.name, out)
	return s.writeResource(c, http.StatusOK, out)
}

func (s *Server) list(c echo.Context, ep *endpoint) error {
	q, err := s.listQuery(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	held, err := s.lists.reserve(ctx, q.count)
	if err != nil {
		return err
	}
	total, list, err := ep.store.List(ctx, q.filter, q.startIndex, q.count,
		Fields{Attributes: q.attributes, Excluded: q.excluded})
	if err != nil {
		s.lists.release(held)
		return err
	}
	resources := make([]any, 0, len(list))
	for i, r := range list {
		s.setMeta(c, ep.name, r)
		resources = append(resources, project(r, q.attributes, q.excluded))
		list[i] = nil
	}
	return s.writeList(c, total, q.startIndex, resources, held)
}

func (s *Server) replace(c echo.Context, ep *endpoint) error {
	res, err := readResource(c)
	if err != nil {
		return err
	}
	if err := ep.normalize(res); err != nil {
		return err
	}
	out, err := ep.store.Replace(c.Request().Context(), c.Param("id"), res, ifMatch(c.Request()))
	if err != nil {
		return err
	}
	s.setMeta(c, ep.name, out)
	return s.writeResource(c, http.StatusOK, out)
}

func (s *Server) patch(c echo.Context, ep *endpoint) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	ops, err := patch.Parse(body)
	if err != nil {
		return err
	}
	out, err := ep.store.Patch(c.Request().Context(), c.Param("id"), ops, ifMatch(c.Request()))
	if err != nil {
		return err
	}
	if out == nil {
		return c.NoContent(http.StatusNoContent)
	}
	s.setMeta(c, ep.name, out)
	return s.writeResource(c, http.StatusOK, out)
}

func (s *Server) delete(c echo.Context, ep *endpoint) error {
	if err := ep.store.Delete(c.Request().Context(), c.Param("id"), ifMatch(c.Request())); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ifMatch is the If-Match value handed to a store: the field value as sent,
// "*" or a comma-separated list of entity-tags (RFC 9110 §13.1.1). Several
// If-Match fields are joined with ", ", which HTTP defines as the same
// request (RFC 9110 §5.3); reading only the first would drop tags. The store
// tests it with ETagMatches, so this package, not each store, knows the syntax.
func ifMatch(r *http.Request) string {
	return strings.Join(r.Header.Values("If-Match"), ", ")
}

// ETagMatches reports whether a resource at version satisfies ifMatch
// (scimreq.ETagMatches).
func ETagMatches(ifMatch, version string) bool { return scimreq.ETagMatches(ifMatch, version) }

// writeResource answers with one resource, honouring attributes and
// excludedAttributes (RFC 7644 §3.9) and sending its version as ETag (§3.14).
func (s *Server) writeResource(c echo.Context, status int, res Resource) error {
	if meta, ok := res["meta"].(map[string]any); ok {
		if v, ok := meta["version"].(string); ok {
			c.Response().Header().Set("ETag", v)
		}
	}
	attrs, excl, err := projectionParams(c)
	if err != nil {
		return err
	}
	return writeJSON(c, status, project(res, attrs, excl))
}

// setMeta completes meta with what only the HTTP side knows: the location.
func (s *Server) setMeta(c echo.Context, endpoint string, res Resource) {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	id, _ := res["id"].(string)
	base := s.baseURL(c)
	meta["location"] = base + "/" + endpoint + "/" + id
	// References carry their URI (RFC 7643 §2.3.7): members point at Users,
	// a user's groups at Groups.
	if ext, ok := res[SchemaEnterpriseUser].(map[string]any); ok {
		if m, ok := ext["manager"].(map[string]any); ok {
			if v, ok := m["value"].(string); ok {
				m["$ref"] = base + "/Users/" + v
			}
		}
	}
	for key, target := range map[string]string{"members": "/Users/", "groups": "/Groups/"} {
		list, _ := res[key].([]any)
		for _, el := range list {
			if m, ok := el.(map[string]any); ok {
				if v, ok := m["value"].(string); ok {
					m["$ref"] = base + target + v
				}
			}
		}
	}
}

func location(res Resource) string {
	meta, _ := res["meta"].(map[string]any)
	loc, _ := meta["location"].(string)
	return loc
}

func (s *Server) baseURL(c echo.Context) string {
	if s.opts.PublicURL != "" {
		return strings.TrimSuffix(s.opts.PublicURL, "/") + s.opts.BasePath
	}
	return c.Scheme() + "://" + c.Request().Host + s.opts.BasePath
}

type listQuery struct {
	filter               filter.Expr
	startIndex, count    int
	attributes, excluded []string
}

// listQuery reads filter, startIndex and count (RFC 7644 §3.4.2). Out-of-range
// numbers are clamped as §3.4.2.4 says (startIndex < 1 means 1, count < 0 means 0).
func (s *Server) listQuery(c echo.Context) (listQuery, error) {
	q := listQuery{startIndex: 1, count: s.opts.DefaultCount}
	if f := c.QueryParam("filter"); strings.TrimSpace(f) != "" {
		expr, err := filter.Parse(f)
		if err != nil {
			return q, scimerr.Wrap(scimerr.InvalidFilter, err, "%v", err)
		}
		q.filter = expr
	}
	var err error
	if q.startIndex, err = intParam(c, "startIndex", 1); err != nil {
		return q, err
	}
	q.startIndex = max(q.startIndex, 1)
	if q.count, err = intParam(c, "count", s.opts.DefaultCount); err != nil {
		return q, err
	}
	q.count = min(max(q.count, 0), s.opts.MaxCount)
	q.attributes, q.excluded, err = projectionParams(c)
	return q, err
}

func intParam(c echo.Context, name string, def int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, scimerr.New(scimerr.InvalidValue, "%s must be an integer", name)
	}
	return n, nil
}

// readResource decodes a JSON object body; numbers stay json.Number. Keys
// that differ only in case ("UserName" and "userName") at one level are
// refused (scimjson.Decode), since which one a lookup finds would depend on
// map order.
func readResource(c echo.Context) (Resource, error) {
	dec := json.NewDecoder(c.Request().Body)
	dec.UseNumber()
	v, err := scimjson.Decode(dec)
	if err != nil {
		var mbe *http.MaxBytesError
		var se *scimerr.Error
		if errorsAs(err, &mbe) || errorsAs(err, &se) {
			return nil, err
		}
		return nil, scimerr.Wrap(scimerr.InvalidSyntax, err, "request body is not valid JSON")
	}
	if dec.More() {
		return nil, scimerr.New(scimerr.InvalidSyntax, "request body has data after the JSON object")
	}
	res, ok := v.(map[string]any)
	if !ok {
		return nil, scimerr.New(scimerr.InvalidSyntax, "request body must be a JSON object")
	}
	return res, nil
}

func writeJSON(c echo.Context, status int, body any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "R&D" stays readable; this is not HTML
	if err := enc.Encode(body); err != nil {
		return err
	}
	return c.Blob(status, ContentType, b.Bytes())
}
