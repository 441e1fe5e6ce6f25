package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/scimapi/filter"
)

var adoptCmd = &command{
	name:     "adopt",
	synopsis: "adopt --dry-run --config FILE --users users.csv",
	summary:  "list which existing entries users.match would adopt for Entra's users, writing nothing",
	about: "Before the first provisioning cycle: reads Entra's users from a CSV export whose header names SCIM " +
		"attributes (userName, which is required, emails[type eq \"work\"].value, displayName, ...), runs " +
		"users.match for each row against the directory, and lists the entry each user would adopt, the " +
		"users whose match is ambiguous (Entra's POST would get 409) and those that would be created new. It " +
		"writes nothing: adoption itself happens when Entra sends the POST, so --dry-run is required.",
	examples: []string{"scimbridge adopt --dry-run --config /etc/scimbridge/config.yaml --users users.csv"},
	exits: []string{
		"0  listed (ambiguous matches included)",
		"1  a problem in the configuration, users.match empty, the CSV unreadable, or a lookup failed",
		"2  usage error",
	},
	flags: func() *pflag.FlagSet { fs, _, _ := adoptFlags(); return fs },
}

func adoptFlags() (fs *pflag.FlagSet, file *string, o adoptOpts) {
	fs, file = configFlags("adopt")
	o.dry = fs.Bool("dry-run", false, "list what users.match would do (required: adoption itself happens on Entra's POST)")
	o.users = fs.String("users", "", "CSV export of the Entra users; the header names SCIM attributes (userName required)")
	return fs, file, o
}

// adoptOpts are adopt's own flags.
type adoptOpts struct {
	dry   *bool
	users *string
}

// usage returns what is missing from the flags, nil if nothing.
func (o adoptOpts) usage(file string) error {
	var errs []error
	if file == "" {
		errs = append(errs, errors.New("--config is required"))
	}
	if *o.users == "" {
		errs = append(errs, errors.New("--users is required"))
	}
	if !*o.dry {
		errs = append(errs, errors.New("--dry-run is required: adopt only lists, adoption itself happens on Entra's POST"))
	}
	return errors.Join(errs...)
}

// adopt --dry-run reads Entra's users from a CSV file whose header names SCIM
// attributes (userName, emails[type eq "work"].value, displayName, ...), runs
// users.match for each, and prints which existing entry each would adopt,
// which are ambiguous and which would be created new. It writes nothing.
func adopt(args []string, stdout, stderr io.Writer) int {
	fs, file, o := adoptFlags()
	if code, done := parseFlags(adoptCmd, fs, args, stdout, stderr); done {
		return code
	}
	if err := o.usage(*file); err != nil {
		return usageError(adoptCmd, stderr, err)
	}
	users := o.users
	p, ok := prepare(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, daemon.PrepareOptions{}, stderr)
	if !ok {
		return exitProblems
	}
	if len(p.Config.Users.Match) == 0 {
		_ = p.Pool.Close()
		fmt.Fprintln(stderr, "adopt: users.match is empty: every user would be created new")
		return exitProblems
	}
	rows, err := readUsersCSV(*users)
	if err != nil {
		_ = p.Pool.Close()
		fmt.Fprintln(stderr, "adopt:", err)
		return exitProblems
	}
	app, err := p.NewApp()
	if err != nil {
		printProblems(stderr, err)
		return exitProblems
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
		return exitProblems
	}
	return exitOK
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
