package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/scimapi/filter"
)

// adopt --dry-run reads Entra's users from a CSV file whose header names SCIM
// attributes (userName, emails[type eq "work"].value, displayName, ...), runs
// users.match for each, and prints which existing entry each would adopt,
// which are ambiguous and which would be created new. It writes nothing.
func adopt(args []string, stdout, stderr io.Writer) int {
	fs, file := configFlags("adopt")
	dry := fs.Bool("dry-run", false, "list what users.match would do (required: adoption itself happens on Entra's POST)")
	users := fs.String("users", "", "CSV export of the Entra users; the header names SCIM attributes (userName required)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || *users == "" || !*dry {
		fmt.Fprintln(stderr, "usage: scimbridge adopt --dry-run --config FILE --users users.csv")
		return 2
	}
	p, ok := prepare(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, daemon.PrepareOptions{}, stderr)
	if !ok {
		return 1
	}
	if len(p.Config.Users.Match) == 0 {
		_ = p.Pool.Close()
		fmt.Fprintln(stderr, "adopt: users.match is empty: every user would be created new")
		return 1
	}
	rows, err := readUsersCSV(*users)
	if err != nil {
		_ = p.Pool.Close()
		fmt.Fprintln(stderr, "adopt:", err)
		return 1
	}
	app, err := p.NewApp()
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	defer func() { _ = app.Pool().Close() }()
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USERNAME\tRESULT\tENTRY")
	counts := map[string]int{}
	for _, res := range rows {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		m, err := app.Users().FindMatch(ctx, res)
		cancel()
		name, _ := res["userName"].(string)
		switch {
		case err != nil:
			counts["error"]++
			fmt.Fprintf(tw, "%s\terror\t%v\n", name, err)
		case m.Ambiguous():
			counts["ambiguous"]++
			var dns []string
			for _, e := range m.Entries {
				dns = append(dns, e.DN)
			}
			fmt.Fprintf(tw, "%s\tambiguous (users.match[%d])\t%s\n", name, m.Rule, strings.Join(dns, " | "))
		case m.Adoptable():
			counts["adopt"]++
			fmt.Fprintf(tw, "%s\tadopt (users.match[%d])\t%s\n", name, m.Rule, m.Entries[0].DN)
		default:
			counts["new"]++
			fmt.Fprintf(tw, "%s\tnew\t\n", name)
		}
	}
	_ = tw.Flush()
	fmt.Fprintf(stdout, "\n%d to adopt, %d ambiguous (POST will answer 409), %d new, %d errors\n",
		counts["adopt"], counts["ambiguous"], counts["new"], counts["error"])
	if counts["error"] > 0 {
		return 1
	}
	return 0
}

// readUsersCSV turns each row into a SCIM resource, with the header as paths.
func readUsersCSV(path string) ([]map[string]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, err
	}
	if len(recs) < 1 {
		return nil, fmt.Errorf("%s: empty", path)
	}
	header := recs[0]
	paths := make([]filter.Path, len(header))
	for i, h := range header {
		p, err := filter.ParsePath(strings.TrimSpace(h))
		if err != nil {
			return nil, fmt.Errorf("%s: column %q: %w", path, h, err)
		}
		paths[i] = p
	}
	var out []map[string]any
	for _, rec := range recs[1:] {
		res := map[string]any{}
		for i, v := range rec {
			if i < len(paths) && v != "" {
				setPath(res, paths[i], v)
			}
		}
		out = append(out, res)
	}
	return out, nil
}

// setPath writes v at a simple, sub-attribute or typed path.
func setPath(res map[string]any, p filter.Path, v string) {
	c := res
	if p.URN != "" {
		ext, _ := res[p.URN].(map[string]any)
		if ext == nil {
			ext = map[string]any{}
			res[p.URN] = ext
		}
		c = ext
	}
	switch {
	case p.Filter != nil:
		el := map[string]any{p.SubAttr: v}
		if cmp, ok := p.Filter.(*filter.Compare); ok {
			el[cmp.Path.Attr] = cmp.Value
		}
		list, _ := c[p.Attr].([]any)
		c[p.Attr] = append(list, el)
	case p.SubAttr != "":
		sub, _ := c[p.Attr].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			c[p.Attr] = sub
		}
		sub[p.SubAttr] = v
	default:
		c[p.Attr] = v
	}
}
