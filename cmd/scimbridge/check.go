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

// check replays an Entra provisioning cycle against a running deployment with
// throwaway users and a group, prints a PASS/FAIL table and exits 0 only if
// every step passed. Exit 1: a step failed; 2: bad flags.
func check(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	fs.SetOutput(stderr)
	tenantURL := fs.String("url", "", "the Tenant URL as entered in Entra, e.g. https://scim.example.org/scim/v2")
	token := fs.String("token", "", "the Secret Token (default: $"+checkTokenEnv+")")
	groups := fs.Bool("groups", true, "also check /Groups (--groups=false when Entra provisions users only)")
	prefix := fs.String("prefix", conformance.DefaultPrefix,
		"name prefix of the test users and group; leftovers with it are deleted")
	skip := fs.StringSlice("skip", nil, "optional steps to skip: manager")
	timeout := fs.Duration("timeout", conformance.DefaultTimeout, "bound on each request")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *token == "" {
		*token = os.Getenv(checkTokenEnv)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, err := conformance.Run(ctx, conformance.Options{
		URL: *tenantURL, Token: *token, Groups: *groups, Prefix: *prefix,
		Out: stdout, Timeout: *timeout, Skip: *skip,
	})
	switch {
	case err != nil && len(report.Rows) == 0:
		printProblems(stderr, err)
		fmt.Fprintln(stderr, "usage: scimbridge check --url URL --token TOKEN [--groups=true|false] [--prefix P] [--skip manager]")
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "check: interrupted; what it had created was deleted")
		return 1
	case !report.Passed():
		return 1
	}
	return 0
}
