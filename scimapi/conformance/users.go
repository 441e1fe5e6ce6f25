package conformance

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// The request bodies below are Entra's, quoted from docs/entra-wire-reference.md with only the
// names and values made unique to the run.

// createUserBody is "Create User", §1.1 (meta.resourceType and the empty roles
// included: Entra sends both).
func createUserBody(u testUser) string {
	return fmt.Sprintf(`{
    "schemas": [
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
    "externalId": %s,
    "userName": %s,
    "active": true,
    "emails": [{
        "primary": true,
        "type": "work",
        "value": %s
    }],
    "meta": {
        "resourceType": "User"
    },
    "name": {
        "formatted": "givenName familyName",
        "familyName": "familyName",
        "givenName": "givenName"
    },
    "roles": []
}`, jsonString(u.externalID), jsonString(u.userName), jsonString(u.email))
}

// update holds the values one "Replace multiple attributes" request sets.
type update struct {
	displayName, givenName, familyName, email, externalID, employeeNumber string
}

// defaultUpdateBody is "Replace multiple attributes — without flag", §3.3: one
// op per attribute, PascalCase ops, employeeNumber as a full URN path.
func defaultUpdateBody(v update) string {
	return fmt.Sprintf(`{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {"op": "Replace", "path": "displayName", "value": %s},
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": %s},
        {"op": "Replace", "path": "name.givenName", "value": %s},
        {"op": "Replace", "path": "name.familyName", "value": %s},
        {"op": "Replace", "path": "externalId", "value": %s},
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "value": %s}
    ]
}`, jsonString(v.displayName), jsonString(v.email), jsonString(v.givenName), jsonString(v.familyName),
		jsonString(v.externalID), jsonString(v.employeeNumber))
}

// flagUpdateBody is the same "with flag" (aadOptscim062020): the filtered
// email keeps its path, the rest is one path-less replace with dotted and URN
// keys.
func flagUpdateBody(v update) string {
	return fmt.Sprintf(`{
    "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
    ],
    "Operations": [
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": %s},
        {"op": "replace", "value": {
            "displayName": %s,
            "name.givenName": %s,
            "name.familyName": %s,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": %s
        }}
    ]
}`, jsonString(v.email), jsonString(v.displayName), jsonString(v.givenName), jsonString(v.familyName),
		jsonString(v.employeeNumber))
}

// patchBody wraps operations in a PatchOp message.
func patchBody(ops string) string {
	return `{"schemas": ["` + schemaPatch + `"], "Operations": [` + ops + `]}`
}

// The disable/enable bodies of §3.3: the default dialect sends the string
// "False", the flag dialect a JSON boolean.
var (
	disableDefault = patchBody(`{"op": "Replace", "path": "active", "value": "False"}`)
	enableFlag     = patchBody(`{"op": "replace", "path": "active", "value": true}`)
)

func (c *checker) needUser() string {
	if c.user.id == "" {
		return `needs the user from "create user"`
	}
	return ""
}

func (c *checker) userSteps() []step {
	return []step{
		{name: "create user", run: c.createUser},
		{name: "find user by userName, other case", needs: c.needUser, run: c.findByUserName},
		{name: "find user by work email", needs: c.needUser, run: c.findByEmail},
		{name: "duplicate create is refused", needs: c.needUser, run: c.duplicate},
		{name: "update, default dialect", needs: c.needUser, run: c.updateDefault},
		{name: "update, aadOptscim062020 dialect", needs: c.needUser, run: c.updateFlag},
		{name: `disable ("False"), still found`, needs: c.needUser, run: c.disable},
		{name: "re-enable (true)", needs: c.needUser, run: c.enable},
		{name: "set manager", needs: c.needUser, skip: SkipManager, run: c.setManager},
		{name: "remove manager", needs: c.needManager, skip: SkipManager, run: c.removeManager},
	}
}

// newUser names a user of this run: prefix, run id, sequence number.
func (c *checker) newUser() testUser {
	c.seq++
	name := fmt.Sprintf("%s%s-%d", c.o.Prefix, c.run, c.seq)
	return testUser{userName: name + "@example.com", email: name + ".mail@example.com", externalID: guid()}
}

func (c *checker) newValues() update {
	c.seq++
	n := fmt.Sprintf("%s%d", c.run, c.seq)
	return update{
		displayName: "Check " + n, givenName: "Given" + n, familyName: "Family" + n,
		email: fmt.Sprintf("%s%s.updated@example.com", c.o.Prefix, n), externalID: guid(), employeeNumber: n,
	}
}

// postUser creates u and tracks it for the clean-up.
func (c *checker) postUser(ctx context.Context, u *testUser) (*response, error) {
	r, err := c.expect(ctx, http.MethodPost, "/Users", createUserBody(*u), http.StatusCreated)
	if err == nil && str(r.body["id"]) == "" {
		err = fmt.Errorf("POST /Users: 201 without an id")
	}
	if err != nil {
		// Only a 4xx promises nothing was written (RFC 7644 §3.12); otherwise
		// the clean-up looks the name up.
		if r == nil || r.status < 400 || r.status >= 500 {
			c.tried = append(c.tried, tried{kind: users, name: u.userName})
		}
		return r, err
	}
	u.id = str(r.body["id"])
	c.track(users, u.id, u.userName)
	return r, nil
}

// createUser: 201 with id, userName, active true, a Location header and the
// SCIM media type (RFC 7644 §3.3, docs/entra-wire-reference.md §1).
func (c *checker) createUser(ctx context.Context) (string, error) {
	u := c.newUser()
	r, err := c.postUser(ctx, &u)
	if err != nil {
		return "", err
	}
	c.user = u
	var bad []string
	if got := str(r.body["userName"]); got != u.userName {
		bad = append(bad, fmt.Sprintf("userName %q, want %q", got, u.userName))
	}
	if r.body["active"] != true {
		bad = append(bad, fmt.Sprintf("active %#v, want true", r.body["active"]))
	}
	if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/Users/"+u.id) {
		bad = append(bad, fmt.Sprintf("Location header %q, want …/Users/%s", loc, u.id))
	}
	if !isSCIMJSON(r.header) {
		bad = append(bad, fmt.Sprintf("Content-Type %q, want %s", r.header.Get("Content-Type"), contentType))
	}
	if len(bad) > 0 {
		return "", fmt.Errorf("201 but %s", strings.Join(bad, "; "))
	}
	return "201, id " + u.id, nil
}

// findUser runs a filter that must return exactly the test user.
func (c *checker) findUser(ctx context.Context, filter string) error {
	r, err := c.expect(ctx, http.MethodGet, "/Users?"+filterQuery(filter), "", http.StatusOK)
	if err != nil {
		return err
	}
	res, err := list(r)
	if err != nil {
		return fmt.Errorf("%s: %w", filter, err)
	}
	var ids []string
	for _, x := range res {
		ids = append(ids, str(x["id"]))
	}
	if len(ids) != 1 || ids[0] != c.user.id {
		return fmt.Errorf("%s: found %d user(s) %v, want exactly %s", filter, len(ids), ids, c.user.id)
	}
	return nil
}

// findByUserName: Entra matches on userName, and userName is caseExact=false
// (RFC 7643 §4.1.1): a case change in Entra must not create a duplicate.
func (c *checker) findByUserName(ctx context.Context) (string, error) {
	f := "userName eq " + quote(strings.ToUpper(c.user.userName))
	if err := c.findUser(ctx, f); err != nil {
		return "", err
	}
	return "upper-cased userName finds the user", nil
}

// findByEmail: the other matcher Entra documents (docs/entra-wire-reference.md §1, §4.2).
func (c *checker) findByEmail(ctx context.Context) (string, error) {
	if err := c.findUser(ctx, `emails[type eq "work"].value eq `+quote(c.user.email)); err != nil {
		return "", err
	}
	return `emails[type eq "work"].value finds the user`, nil
}

// duplicate: another user (another externalId) with the same userName is 409
// uniqueness (RFC 7644 §3.3), which Entra logs as EntryConflict. The same
// externalId would be Entra retrying a lost answer, which a server may
// answer with the existing user instead.
func (c *checker) duplicate(ctx context.Context) (string, error) {
	other := c.newUser()
	other.userName = c.user.userName
	r, err := c.send(ctx, http.MethodPost, "/Users", createUserBody(other), c.o.Token)
	if err != nil {
		return "", err
	}
	if r.status == http.StatusCreated {
		id := str(r.body["id"])
		if id == c.user.id {
			return "", fmt.Errorf("201 with the existing user's id although the externalId differs, want 409")
		}
		if id != "" {
			c.track(users, id, c.user.userName+" (duplicate)")
		}
		return "", fmt.Errorf("201: a second user with the same userName was accepted, want 409")
	}
	if r.status != http.StatusConflict {
		return "", fmt.Errorf("POST /Users again: %s", r.describeWant("409 uniqueness"))
	}
	if !slices.Contains(strs(r.body["schemas"]), schemaError) || str(r.body["scimType"]) != "uniqueness" {
		return "", fmt.Errorf("409 but scimType %q, schemas %v; want uniqueness in a SCIM error",
			str(r.body["scimType"]), r.body["schemas"])
	}
	return "409 uniqueness", nil
}

// getUser reads the test user (or another).
func (c *checker) getUser(ctx context.Context, id string) (map[string]any, error) {
	r, err := c.expect(ctx, http.MethodGet, "/Users/"+id, "", http.StatusOK)
	if err != nil {
		return nil, err
	}
	return r.body, nil
}

// patch sends a PATCH and accepts 200 (with the resource) or 204 (§1.4).
func (c *checker) patch(ctx context.Context, path, body string) (int, error) {
	r, err := c.expect(ctx, http.MethodPatch, path, body, http.StatusOK, http.StatusNoContent)
	if err != nil {
		return 0, err
	}
	return r.status, nil
}

func (c *checker) updateDefault(ctx context.Context) (string, error) {
	return c.updateWith(ctx, defaultUpdateBody)
}

func (c *checker) updateFlag(ctx context.Context) (string, error) {
	return c.updateWith(ctx, flagUpdateBody)
}

func (c *checker) updateWith(ctx context.Context, body func(update) string) (string, error) {
	v := c.newValues()
	status, err := c.patch(ctx, "/Users/"+c.user.id, body(v))
	if err != nil {
		return "", err
	}
	u, err := c.getUser(ctx, c.user.id)
	if err != nil {
		return "", err
	}
	var diffs []string
	for _, d := range []struct{ name, got, want string }{
		{"displayName", str(u["displayName"]), v.displayName},
		{"name.givenName", str(get(u, "name", "givenName")), v.givenName},
		{"name.familyName", str(get(u, "name", "familyName")), v.familyName},
		{`emails[type eq "work"].value`, workEmail(u), v.email},
	} {
		if d.got != d.want {
			diffs = append(diffs, fmt.Sprintf("%s %q, want %q", d.name, d.got, d.want))
		}
	}
	if len(diffs) > 0 {
		return "", fmt.Errorf("%d, but GET shows %s", status, strings.Join(diffs, "; "))
	}
	c.user.email = v.email
	return fmt.Sprintf("%d; GET shows displayName, name.givenName, name.familyName, work email", status), nil
}

func workEmail(u map[string]any) string {
	emails, _ := u["emails"].([]any)
	for _, e := range emails {
		if str(get(e, "type")) == "work" {
			return str(get(e, "value"))
		}
	}
	return ""
}

// disable is the soft delete (§3.3, default dialect): active must read back as
// the boolean false, and the user must stay findable: Entra forgets only
// hard-deleted users ([MS-SCIM]).
func (c *checker) disable(ctx context.Context) (string, error) {
	status, err := c.patch(ctx, "/Users/"+c.user.id, disableDefault)
	if err != nil {
		return "", err
	}
	u, err := c.getUser(ctx, c.user.id)
	if err != nil {
		return "", err
	}
	if u["active"] != false {
		return "", fmt.Errorf("%d, but GET shows active %#v, want false", status, u["active"])
	}
	if err := c.findUser(ctx, "userName eq "+quote(c.user.userName)); err != nil {
		return "", fmt.Errorf("disabled user not found by userName: %w", err)
	}
	return fmt.Sprintf("%d; GET active false; still found by userName", status), nil
}

func (c *checker) enable(ctx context.Context) (string, error) {
	status, err := c.patch(ctx, "/Users/"+c.user.id, enableFlag)
	if err != nil {
		return "", err
	}
	u, err := c.getUser(ctx, c.user.id)
	if err != nil {
		return "", err
	}
	if u["active"] != true {
		return "", fmt.Errorf("%d, but GET shows active %#v, want true", status, u["active"])
	}
	return fmt.Sprintf("%d; GET active true", status), nil
}
