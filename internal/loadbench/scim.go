package loadbench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// scimClient sends Entra's requests to the bridge, over keep-alive
// connections as Entra's provisioning service does.
type scimClient struct {
	http  *http.Client
	base  string // http://127.0.0.1:port/scim/v2
	token string
}

// do sends one request and returns the body if the status is one of want.
func (s *scimClient) do(ctx context.Context, method, path string, body []byte, want ...int) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body) // drained, or the connection is not reused
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if !slices.Contains(want, resp.StatusCode) {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b, nil
}

// scimReply holds the fields of an answer the tool checks.
type scimReply struct {
	ID           string `json:"id"`
	TotalResults *int   `json:"totalResults"`
}

// findByUserName is Entra's matching query: GET /Users?filter=userName eq "x"
// (Entra encodes the spaces as +), which must find want users (0 or 1).
func (s *scimClient) findByUserName(ctx context.Context, userName string, want int) error {
	path := "/Users?filter=" + url.QueryEscape(`userName eq "`+userName+`"`)
	b, err := s.do(ctx, http.MethodGet, path, nil, http.StatusOK)
	if err != nil {
		return err
	}
	var r scimReply
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if r.TotalResults == nil || *r.TotalResults != want {
		return fmt.Errorf("GET %s: totalResults %v, want %d: %s", path, r.TotalResults, want, b)
	}
	return nil
}

// create is Entra's create cycle: the matching query finds nothing, then the
// POST. It returns the new user's id.
func (s *scimClient) create(ctx context.Context, u user) (string, error) {
	if err := s.findByUserName(ctx, u.name, 0); err != nil {
		return "", err
	}
	b, err := s.do(ctx, http.MethodPost, "/Users", createBody(u), http.StatusCreated)
	if err != nil {
		return "", err
	}
	var r scimReply
	if err := json.Unmarshal(b, &r); err != nil || r.ID == "" {
		return "", fmt.Errorf("POST /Users: no id (%v): %s", err, b)
	}
	return r.ID, nil
}

func (s *scimClient) patch(ctx context.Context, id string, u user) error {
	_, err := s.do(ctx, http.MethodPatch, "/Users/"+url.PathEscape(id), patchBody(u), http.StatusOK, http.StatusNoContent)
	return err
}

func (s *scimClient) delete(ctx context.Context, id string) error {
	_, err := s.do(ctx, http.MethodDelete, "/Users/"+url.PathEscape(id), nil, http.StatusNoContent)
	return err
}

// user is one benchmark user; the bridge and the direct side get the same
// shape of values (same lengths), under different names.
type user struct {
	name, externalID, given, family string
	// displayName and title are what the patch phase writes.
	displayName, title string
}

// newUser makes the values of user i of run run on side side ("bridge",
// "direct", "floor", "list"). A side shorter than six letters is padded
// with zeros ("floor0", "list00"), so that every side's names have the same
// length and the index costs match.
func newUser(side string, run, i int) user {
	tag := side + strings.Repeat("0", max(0, 6-len(side)))
	return user{
		name:        fmt.Sprintf("%s%d.%06d@contoso.com", tag, run, i),
		externalID:  fmt.Sprintf("0a21f0f2-%04d-4f8e-bf98-%s%06d", run, tag, i),
		given:       fmt.Sprintf("Given%06d", i),
		family:      fmt.Sprintf("Family%06d", i),
		displayName: fmt.Sprintf("Display Name %06d", i),
		title:       fmt.Sprintf("Title %06d", i),
	}
}

// createBody is Entra's POST /Users, shaped as the "create user" exchange of
// scimapi/testdata/entra/create-user.json (enterprise URN in schemas,
// meta.resourceType and an empty roles list sent by the client), with this
// user's values. TestCreateBodyIsEntras keeps the two in step.
func createBody(u user) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas": []string{
			"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		},
		"externalId": u.externalID,
		"userName":   u.name,
		"active":     true,
		"emails":     []map[string]any{{"primary": true, "type": "work", "value": u.name}},
		"meta":       map[string]any{"resourceType": "User"},
		"name": map[string]any{
			"formatted":  u.given + " " + u.family,
			"familyName": u.family,
			"givenName":  u.given,
		},
		"roles": []any{},
	})
	return b
}

// patchBody replaces two attributes in Entra's default dialect (capitalised
// op names, one operation per attribute), as in
// scimapi/testdata/entra/patch-default-dialect.json.
func patchBody(u user) []byte {
	b, _ := json.Marshal(map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []map[string]any{
			{"op": "Replace", "path": "displayName", "value": u.displayName},
			{"op": "Replace", "path": "title", "value": u.title},
		},
	})
	return b
}
