// Command scimbench is `make bench`: it measures the bridge under Entra's
// request shapes against a private slapd, next to the same LDAP changes made
// directly, and prints the table docs/performance.md explains.
//
//	scimbench [-n 2000] [-c 8] [-runs 3] [-floor=true] [-list 100000] [-list-reps 5] [-bin PATH] [-log-level L] [-pprof] [-timeout 30m]
//
// `scimbench floor-server ...` is not for people: it is how the tool starts
// the floor (internal/loadbench/floor.go), a minimal server on the bridge's
// libraries, as a process of its own.
//
// It is a command of its own rather than a `scimbridge` subcommand so that
// the shipped binary carries no load generator, and the binary it measures
// is built exactly as `make build` builds it. Linux only (/proc).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/scimbridge/scimbridge/internal/loadbench"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == loadbench.FloorServerCommand {
		os.Exit(loadbench.FloorMain(os.Args[2:], os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scimbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := loadbench.Options{Progress: stderr}
	fs.IntVar(&o.N, "n", 2000, "requests per phase (and direct LDAP changes)")
	fs.IntVar(&o.C, "c", 8, "concurrent HTTP clients of the bridge")
	fs.IntVar(&o.DirectC, "direct-c", 0, "LDAP connections on the direct side (0: the bridge's ldap.pool_size, 4)")
	fs.IntVar(&o.Runs, "runs", 3, "runs; the table shows each figure's median")
	fs.BoolVar(&o.Floor, "floor", true, "also run every phase through the floor, a minimal server on the same libraries")
	fs.IntVar(&o.List, "list", 0, "after the runs, load this many users and time a page at each end of GET /Users (0: off)")
	fs.IntVar(&o.ListReps, "list-reps", 5, "measured requests per list page")
	fs.BoolVar(&o.ListOnline, "list-online", false, "load the list users with LDAP adds instead of slapadd (much slower)")
	fs.StringVar(&o.Bin, "bin", "", "a built scimbridge to measure (default: go build ./cmd/scimbridge)")
	fs.StringVar(&o.LogLevel, "log-level", "", "the bridge's log.level (default: the example's, info)")
	fs.BoolVar(&o.Pprof, "pprof", false, "serve the bridge's profiler on a loopback port (printed) to profile it during the run")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up (and stop everything) after this long")
	// The standard flag package, unlike scimbridge's pflag, takes -runs as
	// well as --runs, as Go's own tools do.
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "scimbench: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if gt := os.Getenv("GO"); gt != "" {
		o.Go = gt
	}
	// Ctrl-C or SIGTERM cancels the run; Run then stops the bridge and slapd
	// (both are in their own process groups, so the terminal's signal reaches
	// only this process).
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := loadbench.Run(ctx, o, stdout); err != nil {
		fmt.Fprintln(stderr, "scimbench:", err)
		return 1
	}
	return 0
}
