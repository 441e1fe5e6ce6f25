package scimapi

import (
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/scimbridge/scimbridge/scimapi/scimerr"
)

// resourceNames are the endpoints under the base path as the routes spell
// them. Clients do not all spell them so: RFC 7644 §3.2 writes /Users, but
// nothing in HTTP makes a path case-insensitive, and clients built on other
// servers send /users. Each pair is (how a client may write it, how the
// routes spell it); a client's spelling is matched ignoring ASCII case.
var resourceNames = [...][2]string{
	{"Users", "Users"},
	{"Groups", "Groups"},
	{"Schemas", "Schemas"},
	{"ResourceTypes", "ResourceTypes"},
	{"ServiceProviderConfig", "ServiceProviderConfig"},
	// Microsoft's reference SCIM server, and clients written against it,
	// call the service provider configuration /ServiceConfiguration.
	{"ServiceConfiguration", "ServiceProviderConfig"},
}

// canonicalPath is a pre-routing middleware: it rewrites the first path
// segment after the base path to the spelling the routes use, so /users,
// /USERS/{id} and /serviceConfiguration reach the handlers of /Users,
// /Users/{id} and /ServiceProviderConfig. Only that segment changes: the
// base path is matched as configured and an id keeps its case, since ids are
// case-sensitive (RFC 7643 §3.1). Because the request itself is rewritten,
// everything after routing (request log, metrics, audit, meta.location) sees
// the canonical name. It runs after fixBaseQuery, which may first move the
// resource path out of the query string.
func (s *Server) canonicalPath(next echo.HandlerFunc) echo.HandlerFunc {
	prefix := strings.TrimSuffix(s.opts.BasePath, "/")
	return func(c echo.Context) error {
		u := c.Request().URL
		if p, ok := canonicalise(u.Path, prefix); ok {
			// echo routes on RawPath when it is set (an escaped character such
			// as %3A in /Schemas/{urn}); both must change or neither.
			if u.RawPath == "" {
				u.Path = p
			} else if rp, ok := canonicalise(u.RawPath, prefix); ok {
				u.Path, u.RawPath = p, rp
			}
		}
		return next(c)
	}
}

// canonicalise returns path with the segment after prefix spelled as in
// resourceNames; ok is false when there is nothing to change.
func canonicalise(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"/")
	if !ok {
		return "", false
	}
	end := strings.IndexByte(rest, '/')
	if end < 0 {
		end = len(rest)
	}
	seg := rest[:end]
	for _, n := range resourceNames {
		if asciiEqualFold(seg, n[0]) {
			if seg == n[1] {
				return "", false
			}
			return prefix + "/" + n[1] + rest[end:], true
		}
	}
	return "", false
}

// asciiEqualFold is strings.EqualFold for ASCII only: a path segment such as
// "Uſers" (U+017F folds to s) must not reach /Users.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// routedMethods are the methods echo's router dispatches on.
var routedMethods = []string{
	http.MethodConnect, http.MethodDelete, http.MethodGet, http.MethodHead, http.MethodOptions,
	http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodTrace, echo.PROPFIND, echo.REPORT,
}

// serve registers handlers (method to handler) for path on g and answers the
// other methods with 405 and an Allow header (RFC 9110 §15.5.6). Without
// this, the catch-all 404 route echo adds to a group with middleware would
// answer DELETE /Users with 404, as if the endpoint did not exist.
func serve(g *echo.Group, path string, handlers map[string]echo.HandlerFunc) {
	allowed := make([]string, 0, len(handlers))
	for m := range handlers {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	notAllowed := methodNotAllowed(strings.Join(allowed, ", "))
	for _, m := range routedMethods {
		if h, ok := handlers[m]; ok {
			g.Add(m, path, h)
		} else {
			g.Add(m, path, notAllowed)
		}
	}
}

// methodNotAllowed answers 405 with allow as the Allow header. It is a route
// in the group, so it runs after the bearer-token check: without a token
// the answer is 401, and the methods of an endpoint are not told.
func methodNotAllowed(allow string) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set(echo.HeaderAllow, allow)
		r := c.Request()
		return scimerr.New(scimerr.MethodNotAllowed, "method %s is not allowed on %s; allowed: %s",
			clip(r.Method), clip(r.URL.Path), allow)
	}
}
