package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/scimapi/conformance"
)

// checkTokenEnv holds the Secret Token when --token is not given, so it stays
// out of the shell history and the process list.
const checkTokenEnv = "SCIMBRIDGE_CHECK_TOKEN"

var checkCmd = &command{
	name:     "check",
	synopsis: "check --url URL [--token TOKEN] [--groups=true|false] [--prefix P] [--skip manager] [--timeout D]",
	summary:  "replay an Entra provisioning cycle against a running deployment",
	about: "Replays what Entra does against your Tenant URL, over HTTP as Entra calls it: test connection in " +
		"both dialects, a wrong token, then throwaway users created, found, updated, disabled and deleted, " +
		"and (unless --groups=false) a group created, found, renamed, given members and deleted. Their names " +
		"start with --prefix; leftovers of earlier runs with it are deleted first, and what the run created " +
		"is deleted at the end, also after Ctrl-C. Prints a PASS/FAIL table. The token defaults to " +
		"$SCIMBRIDGE_CHECK_TOKEN, which keeps it out of the shell history and the process list.",
	examples: []string{
		"SCIMBRIDGE_CHECK_TOKEN=scb_... scimbridge check --url https://scim.example.org/scim/v2",
		"scimbridge check --url 'https://scim.example.org/scim/v2?aadOptscim062020' --token \"$TOKEN\" --groups=false",
	},
	exits: []string{
		"0  every step passed",
		"1  a step failed, or the run was interrupted",
		"2  usage error: --url or the token missing or invalid, a bad --prefix or --skip",
	},
	flags: func() *pflag.FlagSet { fs, _ := checkFlags(); return fs },
}

func checkFlags() (*pflag.FlagSet, *conformance.Options) {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	o := &conformance.Options{}
	fs.StringVar(&o.URL, "url", "", "the Tenant URL as entered in Entra, e.g. https://scim.example.org/scim/v2")
	fs.StringVar(&o.Token, "token", "", "the Secret Token (default: $"+checkTokenEnv+")")
	fs.BoolVar(&o.Groups, "groups", true, "also check /Groups (--groups=false when Entra provisions users only)")
	fs.StringVar(&o.Prefix, "prefix", conformance.DefaultPrefix,
		"name prefix of the test users and group; leftovers with it are deleted")
	fs.StringSliceVar(&o.Skip, "skip", nil, "optional steps to skip: manager")
	fs.DurationVar(&o.Timeout, "timeout", conformance.DefaultTimeout, "bound on each request")
	return fs, o
}

// check replays an Entra provisioning cycle against a running deployment with
// throwaway users and a group, prints a PASS/FAIL table and exits 0 only if
// every step passed. Exit 1: a step failed; 2: bad flags.
func check(args []string, stdout, stderr io.Writer) int {
	fs, o := checkFlags()
	if code, done := parseFlags(checkCmd, fs, args, stdout, stderr); done {
		return code
	}
	if o.Token == "" {
		o.Token = os.Getenv(checkTokenEnv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.Out = stdout
	report, err := conformance.Run(ctx, *o)
	switch {
	case err != nil && len(report.Rows) == 0:
		// Run checks the options before it sends anything.
		return usageError(checkCmd, stderr, err)
	case err != nil:
		fmt.Fprintln(stderr, "check: interrupted; what it had created was deleted")
		return exitProblems
	case !report.Passed():
		return exitProblems
	}
	return exitOK
}
