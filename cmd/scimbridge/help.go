package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/spf13/pflag"
)

// Exit codes, the same for every command (docs/cli.md): scripts and CI jobs
// tell "the configuration is wrong" from "I called it wrong" by them.
const (
	exitOK       = 0
	exitProblems = 1 // problems found: validate found some, check failed, serve could not start
	exitUsage    = 2 // unknown command or flag, missing or invalid flag value
)

// command is one subcommand as help and --help describe it. Each command
// parses its flags with parseFlags, which answers --help and -h from here
// with the flag set the command really parses, so the help cannot list a flag
// the command lacks.
type command struct {
	name     string // as typed after "scimbridge": "serve", "token new"
	synopsis string // the usage line, after "scimbridge "
	summary  string // one line, for the command list
	about    string // one paragraph
	examples []string
	exits    []string // "N  meaning", one per exit code the command uses
	// flags builds the command's flag set, for help and tests; nil: none.
	flags func() *pflag.FlagSet
}

// commands in the order help lists them.
var commands = []*command{
	serveCmd, validateCmd, tokenNewCmd, demoCmd, previewCmd, adoptCmd, checkCmd, versionCmd, helpCmd,
}

var helpCmd = &command{
	name:     "help",
	synopsis: "help [COMMAND]",
	summary:  "show the commands, or what a command does, its flags and examples",
	about: "Without a command, lists the commands. With one, prints what it does, its flags, examples and " +
		"exit codes, as `scimbridge COMMAND --help` does.",
	examples: []string{"scimbridge help", "scimbridge help validate"},
	exits:    []string{"0  help printed", "2  usage error: an unknown command"},
}

// lookup finds a command by name; "token" is "token new", its only
// subcommand.
func lookup(name string) *command {
	if name == "token" {
		name = tokenNewCmd.name
	}
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// parseFlags parses args into fs for c. done means the command ends here
// with code: exitOK after printing its help (--help or -h) to stdout, or
// exitUsage after printing the error and the short usage to stderr. Every
// command but help takes flags only, so a leftover argument is a usage error
// too.
func parseFlags(c *command, fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	if code, done = parseArgs(c, fs, args, stdout, stderr); done {
		return code, done
	}
	if fs.NArg() > 0 {
		return usageError(c, stderr, fmt.Errorf("unexpected argument %q (every option is a --flag)", fs.Arg(0))), true
	}
	return exitOK, false
}

// parseArgs is parseFlags for a command that takes arguments besides flags
// (fs.Args()).
func parseArgs(c *command, fs *pflag.FlagSet, args []string, stdout, stderr io.Writer) (code int, done bool) {
	// pflag prints its default usage on --help even with ContinueOnError;
	// ours replaces it, and errors are printed by usageError.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	switch err := fs.Parse(args); {
	case errors.Is(err, pflag.ErrHelp):
		printHelp(stdout, c, fs)
		return exitOK, true
	case err != nil:
		return usageError(c, stderr, err), true
	}
	return exitOK, false
}

// usageError prints each error joined in err, c's usage line and where to
// read more to w, and returns exitUsage.
func usageError(c *command, w io.Writer, err error) int {
	eachError(err, func(e error) { fmt.Fprintf(w, "scimbridge %s: %v\n", c.name, e) })
	fmt.Fprintf(w, "usage: scimbridge %s\nRun 'scimbridge %s --help' for its flags and examples.\n", c.synopsis, c.name)
	return exitUsage
}

// eachError calls f with each error joined in err (errors.Join, depth
// first), or with err itself.
func eachError(err error, f func(error)) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			eachError(e, f)
		}
		return
	}
	if err != nil {
		f(err)
	}
}

// helpWidth is where help text wraps: a terminal of 100 columns, the width
// of the docs' code blocks.
const helpWidth = 100

// printHelp prints c's help: usage, description, flags, examples, exit codes.
func printHelp(w io.Writer, c *command, fs *pflag.FlagSet) {
	fmt.Fprintf(w, "usage: scimbridge %s\n\n%s\n", c.synopsis, wrap(c.about, helpWidth, ""))
	if fs != nil && fs.HasFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", fs.FlagUsagesWrapped(helpWidth))
	}
	fmt.Fprintln(w, "\nExamples:")
	for _, e := range c.examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
	fmt.Fprintln(w, "\nExit codes:")
	for _, e := range c.exits {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// printOverview is `scimbridge help`: every command with its summary.
func printOverview(w io.Writer) {
	fmt.Fprintln(w, wrap("scimbridge is a SCIM 2.0 endpoint for Microsoft Entra ID provisioning that writes users "+
		"and groups into an LDAP directory (OpenLDAP or Active Directory).", helpWidth, ""))
	fmt.Fprint(w, "\nusage: scimbridge COMMAND [flags]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run 'scimbridge help COMMAND' or 'scimbridge COMMAND --help' for a command's flags and examples;
'scimbridge --version' is 'scimbridge version'.

Exit codes:
  0  success
  1  problems found: validate found problems, check failed, serve could not start
  2  usage error: an unknown command or flag, a missing or invalid flag value
`)
}

// shortUsage is what a usage error without a command prints: every
// command's usage line.
func shortUsage() string {
	var b strings.Builder
	b.WriteString("usage:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  scimbridge %s\n", c.synopsis)
	}
	b.WriteString("Run 'scimbridge help' for what each command does.\n")
	return b.String()
}

// help is `scimbridge help [COMMAND]`; `scimbridge --help` and `-h` come
// here without arguments.
func help(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("help", pflag.ContinueOnError)
	if code, done := parseArgs(helpCmd, fs, args, stdout, stderr); done {
		return code
	}
	name := strings.Join(fs.Args(), " ")
	if name == "" {
		printOverview(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		return usageError(helpCmd, stderr, fmt.Errorf("unknown command %q; the commands are listed by 'scimbridge help'", name))
	}
	var cfs *pflag.FlagSet
	if c.flags != nil {
		cfs = c.flags()
	}
	printHelp(stdout, c, cfs)
	return exitOK
}

// wrap breaks text into lines of at most width columns (a longer word stands
// alone), each starting with indent.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(text) {
		wn := utf8.RuneCountInString(word)
		switch {
		case n == 0:
			b.WriteString(indent)
			n = len(indent)
		case n+1+wn > width:
			b.WriteString("\n" + indent)
			n = len(indent)
		default:
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += wn
	}
	return b.String()
}
