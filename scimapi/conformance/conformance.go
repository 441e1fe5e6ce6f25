// Package conformance replays a Microsoft Entra ID provisioning cycle against a
// running SCIM endpoint and reports, step by step, what the endpoint got right.
// It is what `scimbridge check` runs: an admin points it at their deployment
// (Tenant URL and Secret Token, exactly as entered in Entra) before, or instead
// of, waiting 40 minutes for a real provisioning cycle.
//
// Every request body is Entra's, from docs/entra-wire-reference.md (§1 for the
// default shapes, §2 for Test connection, §3.3 for the aadOptscim062020
// dialect). The check talks HTTP and JSON only: it knows nothing of LDAP, so it
// works against any SCIM server, scimbridge or not.
//
// The check writes to the directory: it creates throwaway users and a group
// whose names start with Options.Prefix, and deletes them again at the end,
// after failures too. Leftovers of an interrupted run (same prefix) are deleted
// before it starts. Nothing whose name lacks the prefix is ever deleted, even if
// the server ignores the filter.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// DefaultPrefix starts the name of everything the check creates.
const DefaultPrefix = "scimbridge-check-"

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// SkipManager, in Options.Skip, skips the manager steps (for an attribute map
// without the enterprise manager attribute).
const SkipManager = "manager"

// Options configure a check run.
type Options struct {
	// URL is the Tenant URL, e.g. https://scim.example.org/scim/v2. A query
	// string (?aadOptscim062020) is dropped: the check sends both dialects.
	URL string
	// Token is the Secret Token. It is sent as a bearer token and never printed.
	Token string
	// Groups runs the /Groups steps.
	Groups bool
	// Prefix starts the name of every user and group the check creates, and
	// selects the leftovers it deletes; DefaultPrefix when empty.
	Prefix string
	// HTTPClient sends the requests; http.DefaultClient when nil.
	HTTPClient *http.Client
	// Out, when not nil, receives the table as the run goes: the header, each
	// row as its step finishes, and the summary (the same text as Report.Print).
	Out io.Writer
	// Timeout bounds each request; DefaultTimeout when zero.
	Timeout time.Duration
	// Skip names optional steps not to run: SkipManager.
	Skip []string
}

// Row is one step of the report.
type Row struct {
	Name string
	OK   bool
	// Skipped: the step did not run. OK tells whether that is fine (skipped on
	// request) or not (a step it depends on failed).
	Skipped bool
	Detail  string
}

// Report is the outcome of a run, one row per step in the order they ran.
type Report struct {
	Rows []Row
}

// Passed tells whether every step passed (or was skipped on request).
func (r Report) Passed() bool {
	if len(r.Rows) == 0 {
		return false
	}
	for _, row := range r.Rows {
		if !row.OK {
			return false
		}
	}
	return true
}

// Row returns the row of the named step, and whether there is one.
func (r Report) Row(name string) (Row, bool) {
	for _, row := range r.Rows {
		if row.Name == name {
			return row, true
		}
	}
	return Row{}, false
}

// Summary is the last line of the table.
func (r Report) Summary() string {
	var passed, failed, notRun, skipped int
	for _, row := range r.Rows {
		switch {
		case row.Skipped && row.OK:
			skipped++
		case row.Skipped:
			notRun++
		case row.OK:
			passed++
		default:
			failed++
		}
	}
	verdict := "PASSED"
	if !r.Passed() {
		verdict = "FAILED"
	}
	return fmt.Sprintf("%s: %d steps, %d passed, %d failed, %d not run, %d skipped",
		verdict, len(r.Rows), passed, failed, notRun, skipped)
}

// Print writes the whole table: a header, one line per step, the summary.
func (r Report) Print(w io.Writer) error {
	if _, err := io.WriteString(w, header()); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if _, err := io.WriteString(w, row.line()); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\n%s\n", r.Summary())
	return err
}

const nameWidth = 40

func header() string {
	return fmt.Sprintf("%-4s  %-*s  %s\n", "", nameWidth, "STEP", "DETAIL")
}

func (row Row) line() string {
	mark := "PASS"
	switch {
	case row.Skipped:
		mark = "SKIP"
	case !row.OK:
		mark = "FAIL"
	}
	return fmt.Sprintf("%-4s  %-*s  %s\n", mark, nameWidth, row.Name, row.Detail)
}

// prefixPattern keeps the prefix safe to put in a filter string and long
// enough that `userName sw "<prefix>"` cannot select real users.
var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{3,39}$`)

// normalize checks o, fills in defaults, and returns the Tenant URL without
// its query, and that URL as it may be shown (no password).
func (o *Options) normalize() (base, shown string, err error) {
	var errs []error
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if !prefixPattern.MatchString(o.Prefix) {
		errs = append(errs, fmt.Errorf("prefix %q: want 4 to 40 letters, digits, '.', '_' or '-' "+
			"(everything whose name starts with it is deleted)", o.Prefix))
	}
	if o.Token == "" {
		errs = append(errs, errors.New("token: required (the Secret Token entered in Entra)"))
	}
	u, perr := url.Parse(o.URL)
	switch {
	case o.URL == "":
		errs = append(errs, errors.New("url: required (the Tenant URL, e.g. https://scim.example.org/scim/v2)"))
	case perr != nil:
		errs = append(errs, fmt.Errorf("url: %w", perr))
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		errs = append(errs, fmt.Errorf("url %q: want http(s)://host/path", o.URL))
	}
	for _, s := range o.Skip {
		if s != SkipManager {
			errs = append(errs, fmt.Errorf("skip %q: the only optional step is %q", s, SkipManager))
		}
	}
	if len(errs) > 0 {
		return "", "", errors.Join(errs...)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.HTTPClient == nil {
		o.HTTPClient = http.DefaultClient
	}
	// Entra appends /Users and /Groups to the Tenant URL as given ([MS-COMPAT]).
	u.RawQuery, u.Fragment, u.RawFragment = "", "", ""
	u.Path, u.RawPath = strings.TrimRight(u.Path, "/"), strings.TrimRight(u.RawPath, "/")
	return u.String(), u.Redacted(), nil
}

// step is one row of the report. needs says why it cannot run ("" when it
// can); skip names the Options.Skip value that skips it; always runs it even
// after an abort (the clean-up).
type step struct {
	name   string
	needs  func() string
	skip   string
	always bool
	run    func(ctx context.Context) (string, error)
}

// Run replays the cycle and returns the report. The error is non-nil only for
// invalid options (every problem, joined; nothing was sent) or when ctx ended
// during the run (the clean-up still ran, on a context of its own).
func Run(ctx context.Context, o Options) (Report, error) {
	base, shown, err := o.normalize()
	if err != nil {
		return Report{}, err // errors.Join of every problem, one per option
	}
	c := &checker{o: o, base: base, shown: shown, run: randomHex(4)}
	if o.Out != nil {
		_, _ = io.WriteString(o.Out, header())
	}
	for _, s := range c.steps() {
		c.do(ctx, s)
	}
	// Clean-up runs even when ctx is cancelled (Ctrl-C), bounded on its own.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*o.Timeout)
	defer cancel()
	c.do(cctx, step{name: "clean up", always: true, run: c.cleanup})
	if o.Out != nil {
		_, _ = fmt.Fprintf(o.Out, "\n%s\n", c.report.Summary())
	}
	return c.report, ctx.Err()
}

func (c *checker) steps() []step {
	steps := []step{
		{name: "test connection", run: c.testConnection},
		{name: "test connection, ?aadOptscim062020", run: c.testConnectionFlag},
		{name: "wrong token is refused", run: c.wrongToken},
		{name: "delete leftovers of earlier runs", run: c.leftovers},
	}
	steps = append(steps, c.userSteps()...)
	if c.o.Groups {
		steps = append(steps, c.groupSteps()...)
	}
	return append(steps, c.deleteSteps()...)
}

// do runs one step and records its row.
func (c *checker) do(ctx context.Context, s step) {
	row := Row{Name: s.name}
	switch {
	case s.skip != "" && slices.Contains(c.o.Skip, s.skip):
		row.OK, row.Skipped, row.Detail = true, true, "skipped (--skip "+s.skip+")"
	case ctx.Err() != nil:
		row.Skipped, row.Detail = true, "not run: interrupted"
	case c.abort != "" && !s.always:
		row.Skipped, row.Detail = true, "not run: "+c.abort
	case s.needs != nil && s.needs() != "":
		row.Skipped, row.Detail = true, "not run: "+s.needs()
	default:
		detail, err := s.run(ctx)
		row.OK, row.Detail = err == nil, detail
		if err != nil {
			row.Detail = err.Error()
		}
	}
	row.Detail = c.redact(row.Detail)
	c.report.Rows = append(c.report.Rows, row)
	if c.o.Out != nil {
		_, _ = io.WriteString(c.o.Out, row.line())
	}
}

// redact keeps the token out of the report whatever a server echoes back, and
// keeps a detail to one readable line.
func (c *checker) redact(s string) string {
	if c.o.Token != "" {
		s = strings.ReplaceAll(s, c.o.Token, "[token]")
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:199]) + "…"
	}
	return s
}
