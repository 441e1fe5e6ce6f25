package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
)

var validateCmd = &command{
	name:     "validate",
	synopsis: "validate --config FILE [--online|--offline] [--format text|json]",
	summary:  "check a configuration file, offline and against the directory, and report every problem",
	about: "Checks a configuration file and reports every problem in one run, each with its YAML path and " +
		"line. First come the checks that need only the file (with ${VAR}, SCIMBRIDGE_* variables and flags " +
		"applied as serve applies them), then, unless --offline, the checks against the directory, which " +
		"write nothing: the schema has the object classes and attributes, the base DNs exist, the bind " +
		"account may write there. A directory that cannot be reached earns a warning, or with --online a " +
		"problem. Text output: problems and warnings on stderr, \"FILE: OK\" on stdout. --format json prints " +
		"one document on stdout instead, for CI: {\"file\", \"ok\", \"problems\": [{\"path\", \"line\", " +
		"\"message\"}], \"warnings\": [...]} (docs/cli.md).",
	examples: []string{
		"scimbridge validate --config /etc/scimbridge/config.yaml",
		"scimbridge validate --online --config /etc/scimbridge/config.yaml",
		"scimbridge validate --offline --format json --config config.yaml",
	},
	exits: []string{
		"0  no problem (warnings do not count)",
		"1  problems found (or the file cannot be read)",
		"2  usage error",
	},
	flags: func() *pflag.FlagSet { fs, _ := validateFlags(); return fs },
}

// validateOpts are validate's own flags.
type validateOpts struct {
	file            *string
	online, offline *bool
	format          *string
}

func validateFlags() (*pflag.FlagSet, validateOpts) {
	fs, file := configFlags("validate")
	return fs, validateOpts{
		file:    file,
		online:  fs.Bool("online", false, "require the checks against the directory (an unreachable directory is an error)"),
		offline: fs.Bool("offline", false, "skip the checks against the directory"),
		format:  fs.String("format", "text", "text, or json: one JSON document on stdout"),
	}
}

// usage returns what is wrong with the flags, nil if nothing.
func (o validateOpts) usage() error {
	switch {
	case *o.file == "":
		return errors.New("--config is required")
	case *o.online && *o.offline:
		return errors.New("--online and --offline exclude each other")
	case *o.format != "text" && *o.format != "json":
		return fmt.Errorf("--format must be text or json, not %q", *o.format)
	}
	return nil
}

// validate checks a configuration file and reports every problem: first the
// offline checks, then, unless --offline, the checks against the directory
// (daemon.CheckOnline), which write nothing. By default an unreachable
// directory only earns a warning; --online makes it an error.
func validate(args []string, stdout, stderr io.Writer) int {
	fs, o := validateFlags()
	if code, done := parseFlags(validateCmd, fs, args, stdout, stderr); done {
		return code
	}
	if err := o.usage(); err != nil {
		return usageError(validateCmd, stderr, err)
	}
	r := &validateReport{File: *o.file, Problems: []reportProblem{}, Warnings: []string{}}
	if *o.format == "text" {
		r.text = stderr
	}
	kind := daemon.CheckPool
	if *o.offline {
		kind = daemon.NoPool
	}
	p, err := daemon.Prepare(config.Source{File: *o.file, Flags: fs, FlagKeys: flagKeys}, daemon.PrepareOptions{Pool: kind})
	r.problem(err)
	switch {
	case p != nil && p.Pool != nil:
		// The online checks report the configuration's own warnings too.
		checkDirectory(p, *o.online, r.problem, r.warn)
		_ = p.Pool.Close()
	case p != nil && p.Config != nil:
		for _, w := range p.Config.Warnings() {
			r.warn(w)
		}
	}
	return r.finish(stdout)
}

// validateReport is what validate found; with --format json it is the
// document printed. Problems and warnings are kept in the order found.
type validateReport struct {
	File     string          `json:"file"`
	OK       bool            `json:"ok"`
	Problems []reportProblem `json:"problems"`
	// Warnings are "path: message" strings as the configuration and the
	// online checks make them (config.Config.Warnings, daemon.CheckOnline),
	// whichever check adds them.
	Warnings []string `json:"warnings"`

	// text, when set, gets each problem and warning printed as found, as
	// the text format has always printed them (serve prints the same lines).
	text io.Writer
}

// reportProblem is one problem in the JSON document: a config.Problem's
// fields, not its text, so that CI needs no parsing.
type reportProblem struct {
	// Path is the YAML path (users.attributes[7].ldap); empty for a problem
	// with no place in the configuration, such as a file that cannot be read.
	Path string `json:"path"`
	// Line is the line in the file, 0 when there is none: the value came
	// from the environment or a flag (see Origin), or the key is not written.
	Line int `json:"line"`
	// Origin is the environment variable or flag that set the value.
	Origin  string `json:"origin,omitempty"`
	Message string `json:"message"`
}

// problem records each error joined in err (nil: none).
func (r *validateReport) problem(err error) {
	eachError(err, func(e error) {
		rp := reportProblem{Message: e.Error()}
		var p config.Problem
		if errors.As(e, &p) {
			rp = reportProblem{Path: p.Path, Line: p.Line, Origin: p.Origin, Message: p.Msg}
		}
		r.Problems = append(r.Problems, rp)
		if r.text != nil {
			fmt.Fprintln(r.text, "error:", e)
		}
	})
}

func (r *validateReport) warn(w string) {
	r.Warnings = append(r.Warnings, w)
	if r.text != nil {
		fmt.Fprintln(r.text, "warning:", w)
	}
}

// finish prints the verdict (text: "FILE: OK" on stdout when there is no
// problem; json: the document) and returns the exit code.
func (r *validateReport) finish(stdout io.Writer) int {
	r.OK = len(r.Problems) == 0
	code := exitOK
	if !r.OK {
		code = exitProblems
	}
	if r.text == nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		// Messages quote DNs and filters (<, >, &): keep them readable.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(r); err != nil {
			return exitProblems
		}
		return code
	}
	switch {
	case !r.OK:
	case len(r.Warnings) == 0:
		fmt.Fprintf(stdout, "%s: OK\n", r.File)
	case len(r.Warnings) == 1:
		fmt.Fprintf(stdout, "%s: OK (1 warning)\n", r.File)
	default:
		fmt.Fprintf(stdout, "%s: OK (%d warnings)\n", r.File, len(r.Warnings))
	}
	return code
}
