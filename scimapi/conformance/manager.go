package conformance

import (
	"context"
	"fmt"
	"net/http"
)

const managerPath = schemaEnterprise + ":manager"

func (c *checker) needManager() string {
	if why := c.needUser(); why != "" {
		return why
	}
	if !c.managerSet {
		return `needs "set manager" to have passed`
	}
	return ""
}

// setManager creates a second user and makes it the manager of the first, as
// Entra does today: the full enterprise URN as path and the manager's id as a
// bare string (docs/entra-wire-reference.md §1.1 "Manager", §7.5). GET must return it as the
// complex {"value": id}, or Entra re-sends the PATCH every cycle.
func (c *checker) setManager(ctx context.Context) (string, error) {
	if c.manager.id == "" {
		m := c.newUser()
		if _, err := c.postUser(ctx, &m); err != nil {
			return "", fmt.Errorf("creating the manager user: %w", err)
		}
		c.manager = m
	}
	body := patchBody(`{"op": "Add", "path": "` + managerPath + `", "value": ` + jsonString(c.manager.id) + `}`)
	r, err := c.send(ctx, http.MethodPatch, "/Users/"+c.user.id, body, c.o.Token)
	if err != nil {
		return "", err
	}
	switch r.status {
	case http.StatusOK, http.StatusNoContent:
	case http.StatusBadRequest:
		return "", fmt.Errorf("PATCH manager: %s (is enterprise manager in the attribute map? "+
			"--skip manager skips this step)", r.describe())
	default:
		return "", fmt.Errorf("PATCH manager: %s", r.describeWant("200 or 204"))
	}
	u, err := c.getUser(ctx, c.user.id)
	if err != nil {
		return "", err
	}
	switch m := get(u, schemaEnterprise, "manager").(type) {
	case map[string]any:
		if str(m["value"]) != c.manager.id {
			return "", fmt.Errorf("%d, but GET shows manager.value %q, want %s", r.status, str(m["value"]), c.manager.id)
		}
	case nil:
		return "", fmt.Errorf("%d, but GET shows no manager (the map may not hold it: --skip manager)", r.status)
	default:
		return "", fmt.Errorf("%d, but GET shows manager as %T, Entra expects {\"value\": id}", r.status, m)
	}
	c.managerSet = true
	return fmt.Sprintf("%d; GET manager.value is the second user", r.status), nil
}

// removeManager is the removal captured from Entra (thomaspoignant/scim-patch
// #453): a remove with a value filter on manager.
func (c *checker) removeManager(ctx context.Context) (string, error) {
	body := patchBody(`{"op": "remove", "path": ` + jsonString("manager[value eq "+quote(c.manager.id)+"]") + `}`)
	status, err := c.patch(ctx, "/Users/"+c.user.id, body)
	if err != nil {
		return "", err
	}
	u, err := c.getUser(ctx, c.user.id)
	if err != nil {
		return "", err
	}
	if m := get(u, schemaEnterprise, "manager"); m != nil && str(get(m, "value")) != "" {
		return "", fmt.Errorf("%d, but GET still shows manager %v", status, m)
	}
	return fmt.Sprintf("%d; GET shows no manager", status), nil
}

// deleteSteps remove what the cycle created, as Entra's hard delete does.
func (c *checker) deleteSteps() []step {
	steps := []step{{name: "delete user", needs: c.needUser, run: c.deleteUsers}}
	if c.o.Groups {
		steps = append(steps, step{name: "delete group", needs: c.needGroup, run: c.deleteGroup})
	}
	return steps
}

// deleteUsers: DELETE is 204; the user is then 404 by id and absent from the
// userName filter (RFC 7644 §3.6, docs/entra-wire-reference.md §1.1 "Delete User"). A server
// that keeps deleted users as inactive (scimbridge's users.delete.mode disable
// or anonymize) passes too: Entra forgets the id after a DELETE, and finds the
// inactive user by userName if it provisions that name again.
func (c *checker) deleteUsers(ctx context.Context) (string, error) {
	kept := 0
	for _, u := range []testUser{c.user, c.manager} {
		if u.id == "" {
			continue
		}
		path := "/Users/" + u.id
		if _, err := c.expect(ctx, http.MethodDelete, path, "", http.StatusNoContent); err != nil {
			return "", err
		}
		c.untrack(path)
		r, err := c.expect(ctx, http.MethodGet, path, "", http.StatusNotFound, http.StatusOK)
		if err != nil {
			return "", fmt.Errorf("after DELETE: %w", err)
		}
		if r.status == http.StatusOK {
			if r.body["active"] != false {
				return "", fmt.Errorf("after DELETE: GET %s is 200 with active %#v, want 404", c.short(path), r.body["active"])
			}
			kept++
		}
	}
	r, err := c.expect(ctx, http.MethodGet, "/Users?"+filterQuery("userName eq "+quote(c.user.userName)), "", http.StatusOK)
	if err != nil {
		return "", err
	}
	res, err := list(r)
	if err != nil {
		return "", fmt.Errorf("after DELETE: %w", err)
	}
	for _, x := range res {
		if kept == 0 || x["active"] != false {
			return "", fmt.Errorf("after DELETE the userName filter still finds %d user(s)", len(res))
		}
	}
	if kept > 0 {
		return fmt.Sprintf("204; the server keeps %d deleted user(s) as inactive (soft delete): "+
			"remove them from the directory by hand", kept), nil
	}
	return "204; then GET 404 and the userName filter finds nothing", nil
}
