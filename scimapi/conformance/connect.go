package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
)

// testConnection is Entra's "Test connection": a filter on userName for a
// random GUID, URL-encoded with + for spaces, and the answer must be 200 with
// an empty ListResponse; a 404 there quarantines the job (docs/entra-wire-reference.md §2,
// [MS-QUAR]). If the endpoint cannot even answer this, nothing else can pass.
func (c *checker) testConnection(ctx context.Context) (string, error) {
	detail, why, err := c.probe(ctx, "")
	if why != "" {
		c.abort = why
	}
	return detail, err
}

// testConnectionFlag is the same probe with the flag on the Tenant URL, as
// admins paste it (https://host/scim/v2?aadOptscim062020, §3.2).
func (c *checker) testConnectionFlag(ctx context.Context) (string, error) {
	detail, _, err := c.probe(ctx, "aadOptscim062020&")
	return detail, err
}

// probe sends the Test connection query. abort, when not empty, says why no
// other step can work (no answer, the token refused, not a SCIM endpoint).
func (c *checker) probe(ctx context.Context, flag string) (detail, abort string, err error) {
	path := "/Users?" + flag + filterQuery(`userName eq `+quote(guid()))
	r, err := c.send(ctx, http.MethodGet, path, "", c.o.Token)
	if err != nil {
		return "", "no answer from " + c.shown, err
	}
	switch r.status {
	case http.StatusOK:
	case http.StatusUnauthorized, http.StatusForbidden:
		return "", fmt.Sprintf("the server refused the token (%d)", r.status),
			fmt.Errorf("%s: the token was refused, check --token (Entra says \"You appear to have "+
				"entered invalid credentials\")", r.describe())
	case http.StatusNotFound:
		return "", `"test connection" got 404`, fmt.Errorf("%s: wrong Tenant URL, or the server answers an "+
			"unknown user with 404 (Entra quarantines the job; it wants 200 with an empty ListResponse)", r.describe())
	default:
		return "", `"test connection" failed`, fmt.Errorf("%s", r.describeWant("200 with an empty ListResponse"))
	}
	if r.notJSON != nil {
		return "", "", fmt.Errorf("200 but the body is not a JSON object: %v", r.notJSON)
	}
	res, err := list(r)
	if err != nil {
		return "", "", fmt.Errorf("200 but %w", err)
	}
	total, _ := number(r.body["totalResults"])
	if total != 0 || len(res) != 0 {
		return "", "", fmt.Errorf("a random GUID found %d user(s)", max(total, int64(len(res))))
	}
	if !isSCIMJSON(r.header) {
		return "", "", fmt.Errorf("200 but Content-Type %q, want %s", r.header.Get("Content-Type"), contentType)
	}
	return "200, empty ListResponse (totalResults 0, Resources [])", "", nil
}

// wrongToken: a token the server never issued must get 401 with a SCIM error
// body (RFC 7644 §3.12), not 200 and not an HTML page.
func (c *checker) wrongToken(ctx context.Context) (string, error) {
	path := "/Users?" + filterQuery(`userName eq `+quote(guid()))
	r, err := c.send(ctx, http.MethodGet, path, "", "scimbridge-check-wrong-"+randomHex(16))
	if err != nil {
		return "", err
	}
	if r.status != http.StatusUnauthorized {
		return "", fmt.Errorf("%s: the endpoint does not check the token", r.describeWant("401"))
	}
	if !slices.Contains(strs(r.body["schemas"]), schemaError) {
		return "", fmt.Errorf("401 but not a SCIM error body (schemas %v)", r.body["schemas"])
	}
	return "401 " + schemaError, nil
}
