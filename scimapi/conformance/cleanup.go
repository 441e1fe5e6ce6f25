package conformance

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// kind is a SCIM resource type as the clean-up sees it: where it lives and the
// attribute that carries the check's prefix.
type kind struct {
	path, attr, label string
	// query is added to the searches (groups: no members, as Entra asks).
	query string
}

var (
	users  = kind{path: "/Users", attr: "userName", label: "user", query: "attributes=userName"}
	groups = kind{path: "/Groups", attr: "displayName", label: "group", query: "excludedAttributes=members"}
)

// maxSweeps bounds the leftover search: each round deletes one page.
const maxSweeps = 50

// track records something created, so the clean-up deletes it whatever
// happens next.
func (c *checker) track(k kind, id, name string) *created {
	m := &created{path: k.path + "/" + id, label: k.label + " " + name}
	c.made = append(c.made, m)
	return m
}

// untrack marks path deleted by a step.
func (c *checker) untrack(path string) {
	for _, m := range c.made {
		if m.path == path {
			m.gone = true
		}
	}
}

type found struct{ id, name string }

// find returns the resources of kind k matching `attr op "value"` whose name
// really starts with the prefix (and equals value for eq): a server that
// ignores filters must not get real users deleted.
func (c *checker) find(ctx context.Context, k kind, op, value string) ([]found, error) {
	q := k.query + "&" + filterQuery(k.attr+" "+op+" "+quote(value))
	r, err := c.expect(ctx, http.MethodGet, k.path+"?"+q, "", http.StatusOK)
	if err != nil {
		return nil, err
	}
	res, err := list(r)
	if err != nil {
		return nil, fmt.Errorf("GET %s?filter=%s %s %q: %w", k.path, k.attr, op, value, err)
	}
	var out []found
	for _, x := range res {
		name, id := str(x[k.attr]), str(x["id"])
		ok := strings.HasPrefix(strings.ToLower(name), strings.ToLower(c.o.Prefix))
		if op == "eq" {
			ok = ok && strings.EqualFold(name, value)
		}
		if ok && id != "" {
			out = append(out, found{id: id, name: name})
		}
	}
	return out, nil
}

// remove deletes path; 404 means it is gone already.
func (c *checker) remove(ctx context.Context, path string) error {
	_, err := c.expect(ctx, http.MethodDelete, path, "", http.StatusNoContent, http.StatusOK, http.StatusNotFound)
	return err
}

// leftovers deletes what an interrupted earlier run left behind, found by
// `userName sw "<prefix>"` and `displayName sw "<prefix>"`, before this run
// creates names that could collide with it.
func (c *checker) leftovers(ctx context.Context) (string, error) {
	kinds := []kind{users}
	if c.o.Groups {
		kinds = []kind{groups, users}
	}
	var deleted []string
	for _, k := range kinds {
		n, err := c.sweep(ctx, k)
		if err != nil {
			return "", err
		}
		if n > 0 {
			deleted = append(deleted, fmt.Sprintf("%d %s(s)", n, k.label))
		}
	}
	if len(deleted) == 0 {
		return fmt.Sprintf("none with prefix %q", c.o.Prefix), nil
	}
	return fmt.Sprintf("deleted %s with prefix %q", strings.Join(deleted, " and "), c.o.Prefix), nil
}

func (c *checker) sweep(ctx context.Context, k kind) (int, error) {
	n := 0
	seen := map[string]bool{}
	for range maxSweeps {
		fs, err := c.find(ctx, k, "sw", c.o.Prefix)
		if err != nil {
			return n, err
		}
		progress := false
		for _, f := range fs {
			if seen[f.id] {
				continue // deleted, yet listed again: do not loop on it
			}
			seen[f.id] = true
			if err := c.remove(ctx, k.path+"/"+f.id); err != nil {
				return n, fmt.Errorf("leftover %s %q: %w", k.label, f.name, err)
			}
			n++
			progress = true
		}
		if !progress {
			return n, nil
		}
	}
	return n, fmt.Errorf("still finding %ss with prefix %q after %d rounds", k.label, c.o.Prefix, maxSweeps)
}

// cleanup deletes everything this run created and did not delete itself, and
// anything it tried to create without learning its id.
func (c *checker) cleanup(ctx context.Context) (string, error) {
	var done []string
	var errs []string
	for i := len(c.made) - 1; i >= 0; i-- { // groups before the users in them
		m := c.made[i]
		if m.gone {
			continue
		}
		if err := c.remove(ctx, m.path); err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", m.label, err))
			continue
		}
		m.gone = true
		done = append(done, m.label)
	}
	for _, t := range c.tried {
		fs, err := c.find(ctx, t.kind, "eq", t.name)
		if err != nil {
			errs = append(errs, fmt.Sprintf("looking for %s %q: %v", t.kind.label, t.name, err))
			continue
		}
		for _, f := range fs {
			if err := c.remove(ctx, t.kind.path+"/"+f.id); err != nil {
				errs = append(errs, fmt.Sprintf("%s %s: %v", t.kind.label, f.name, err))
				continue
			}
			done = append(done, t.kind.label+" "+f.name)
		}
	}
	if len(errs) > 0 {
		return "", fmt.Errorf("%s (delete by hand, or run check again: it deletes leftovers with prefix %q)",
			strings.Join(errs, "; "), c.o.Prefix)
	}
	if len(done) == 0 {
		return "nothing left behind", nil
	}
	return "deleted " + strings.Join(done, ", "), nil
}
