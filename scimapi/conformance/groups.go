package conformance

import (
	"context"
	"fmt"
	"net/http"
)

// createGroupBody is "Create Group", docs/entra-wire-reference.md §1.2, with Microsoft's
// second schema URI, which a server must accept.
func createGroupBody(externalID, name string) string {
	return fmt.Sprintf(`{
    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
    "externalId": %s,
    "displayName": %s,
    "meta": {
        "resourceType": "Group"
    }
}`, jsonString(externalID), jsonString(name))
}

// addMemberBody is "Update Group [Add Members]" (§1.2): PascalCase op, "$ref": null.
func addMemberBody(id string) string {
	return patchBody(`{"op": "Add", "path": "members", "value": [{"$ref": null, "value": ` + jsonString(id) + `}]}`)
}

// removeMemberDefault is "Update Group [Remove Members]" (§1.2, default
// dialect): the member in a value array, which a naive server reads as
// "remove all members".
func removeMemberDefault(id string) string {
	return patchBody(`{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": ` + jsonString(id) + `}]}`)
}

// removeMemberFlag is the aadOptscim062020 removal (§3.3): a value filter in
// the path, no value.
func removeMemberFlag(id string) string {
	return patchBody(`{"op": "remove", "path": ` + jsonString("members[value eq "+quote(id)+"]") + `}`)
}

func (c *checker) needGroup() string {
	if c.group.id == "" {
		return `needs the group from "create group"`
	}
	return ""
}

func (c *checker) needGroupAndUser() string {
	if why := c.needGroup(); why != "" {
		return why
	}
	return c.needUser()
}

func (c *checker) groupSteps() []step {
	return []step{
		{name: "create group", run: c.createGroup},
		{name: "find group by displayName", needs: c.needGroup, run: c.findGroup},
		{name: "add member", needs: c.needGroupAndUser, run: c.addMember},
		{name: "add member again (idempotent)", needs: c.needGroupAndUser, run: c.addMemberAgain},
		{name: "remove member, aadOptscim062020 path", needs: c.needGroupAndUser, run: c.removeMemberFlag},
		{name: "remove member, default value array", needs: c.needGroupAndUser, run: c.removeMemberDefault},
		{name: "rename group", needs: c.needGroup, run: c.renameGroup},
	}
}

func (c *checker) createGroup(ctx context.Context) (string, error) {
	name := fmt.Sprintf("%s%s-group", c.o.Prefix, c.run)
	r, err := c.expect(ctx, http.MethodPost, "/Groups", createGroupBody(guid(), name), http.StatusCreated)
	if err == nil && str(r.body["id"]) == "" {
		err = fmt.Errorf("POST /Groups: 201 without an id")
	}
	if err != nil {
		if r == nil || r.status < 400 || r.status >= 500 {
			c.tried = append(c.tried, tried{kind: groups, name: name})
		}
		return "", err
	}
	c.group = testGroup{id: str(r.body["id"]), name: name}
	c.track(groups, c.group.id, name)
	if got := str(r.body["displayName"]); got != name {
		return "", fmt.Errorf("201 but displayName %q, want %q", got, name)
	}
	return "201, id " + c.group.id, nil
}

// findGroup is how Entra matches groups: by displayName, without members
// (docs/entra-wire-reference.md §1.2 "Get Group by displayName").
func (c *checker) findGroup(ctx context.Context) (string, error) {
	q := "excludedAttributes=members&" + filterQuery("displayName eq "+quote(c.group.name))
	r, err := c.expect(ctx, http.MethodGet, "/Groups?"+q, "", http.StatusOK)
	if err != nil {
		return "", err
	}
	res, err := list(r)
	if err != nil {
		return "", err
	}
	if len(res) != 1 || str(res[0]["id"]) != c.group.id {
		return "", fmt.Errorf("found %d group(s), want exactly %s", len(res), c.group.id)
	}
	if _, has := res[0]["members"]; has {
		return "", fmt.Errorf("1 result, but it has members despite excludedAttributes=members")
	}
	return "1 result, no members key", nil
}

// members reads the group's member ids.
func (c *checker) members(ctx context.Context) ([]string, error) {
	r, err := c.expect(ctx, http.MethodGet, "/Groups/"+c.group.id, "", http.StatusOK)
	if err != nil {
		return nil, err
	}
	ms, _ := r.body["members"].([]any)
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		ids = append(ids, str(get(m, "value")))
	}
	return ids, nil
}

// patchGroup accepts 204, which Microsoft recommends, and 200 (§1.2).
func (c *checker) patchGroup(ctx context.Context, body string) (int, error) {
	return c.patch(ctx, "/Groups/"+c.group.id, body)
}

// addAndCheck adds the test user and checks GET lists it once.
func (c *checker) addAndCheck(ctx context.Context) (int, error) {
	status, err := c.patchGroup(ctx, addMemberBody(c.user.id))
	if err != nil {
		return 0, err
	}
	ids, err := c.members(ctx)
	if err != nil {
		return 0, err
	}
	switch n := count(ids, c.user.id); {
	case n == 0:
		return 0, fmt.Errorf("%d, but GET members %v lacks the user", status, ids)
	case n > 1:
		return 0, fmt.Errorf("%d, but GET lists the user %d times", status, n)
	}
	return status, nil
}

func (c *checker) addMember(ctx context.Context) (string, error) {
	status, err := c.addAndCheck(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d; GET members has the user", status), nil
}

// addMemberAgain: Entra re-sends adds for existing members after any removal
// (bitwarden PatchGroupCommand.cs), so this must not fail (docs/entra-wire-reference.md §7.14).
func (c *checker) addMemberAgain(ctx context.Context) (string, error) {
	status, err := c.addAndCheck(ctx)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d; the user is listed once", status), nil
}

func (c *checker) removeMemberFlag(ctx context.Context) (string, error) {
	return c.removeWith(ctx, removeMemberFlag(c.user.id))
}

// removeMemberDefault adds the user back first, so the removal has something
// to remove.
func (c *checker) removeMemberDefault(ctx context.Context) (string, error) {
	if _, err := c.addAndCheck(ctx); err != nil {
		return "", fmt.Errorf("adding the user back: %w", err)
	}
	return c.removeWith(ctx, removeMemberDefault(c.user.id))
}

func (c *checker) removeWith(ctx context.Context, body string) (string, error) {
	status, err := c.patchGroup(ctx, body)
	if err != nil {
		return "", err
	}
	ids, err := c.members(ctx)
	if err != nil {
		return "", err
	}
	if len(ids) != 0 {
		return "", fmt.Errorf("%d, but GET still shows members %v", status, ids)
	}
	return fmt.Sprintf("%d; GET shows no members", status), nil
}

// renameGroup is "Update Group [Non-member attributes]" (§1.2).
func (c *checker) renameGroup(ctx context.Context) (string, error) {
	name := c.group.name + "-renamed"
	body := patchBody(`{"op": "Replace", "path": "displayName", "value": ` + jsonString(name) + `}`)
	status, err := c.patchGroup(ctx, body)
	if err != nil {
		return "", err
	}
	c.group.name = name
	r, err := c.expect(ctx, http.MethodGet, "/Groups/"+c.group.id+"?excludedAttributes=members", "", http.StatusOK)
	if err != nil {
		return "", err
	}
	if got := str(r.body["displayName"]); got != name {
		return "", fmt.Errorf("%d, but GET shows displayName %q, want %q", status, got, name)
	}
	return fmt.Sprintf("%d; GET shows the new displayName", status), nil
}

func (c *checker) deleteGroup(ctx context.Context) (string, error) {
	path := "/Groups/" + c.group.id
	if _, err := c.expect(ctx, http.MethodDelete, path, "", http.StatusNoContent); err != nil {
		return "", err
	}
	c.untrack(path)
	if _, err := c.expect(ctx, http.MethodGet, path, "", http.StatusNotFound); err != nil {
		return "", fmt.Errorf("after DELETE: %w", err)
	}
	return "204; then GET 404", nil
}

func count(xs []string, x string) int {
	n := 0
	for _, y := range xs {
		if y == x {
			n++
		}
	}
	return n
}
