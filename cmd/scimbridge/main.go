// Command scimbridge is a SCIM 2.0 endpoint for Microsoft Entra ID provisioning
// that writes users into an LDAP directory.
//
//	scimbridge serve    --config FILE [--listen ADDR] [--log-format json|console]
//	scimbridge validate --config FILE [--online|--offline]
//	scimbridge token new --name NAME
//	scimbridge demo     (throwaway OpenLDAP + the bridge on examples/openldap.yaml)
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/ldapmap"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage:
  scimbridge serve    --config FILE [--listen ADDR] [--log-format json|console] [--log-level LEVEL]
  scimbridge validate --config FILE [--online|--offline]
  scimbridge token new --name NAME
  scimbridge demo     [--listen ADDR]
  scimbridge preview  --config FILE [--op create|replace|patch|delete] [--id ID] [--resource Users|Groups] < request.json
  scimbridge adopt    --dry-run --config FILE --users users.csv
  scimbridge check    --url URL --token TOKEN [--groups=true|false] [--prefix P] [--skip manager]
`

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "validate":
		return validate(args[1:], stdout, stderr)
	case "token":
		return token(args[1:], stdout, stderr)
	case "demo":
		return demo(args[1:], stdout, stderr)
	case "check":
		return check(args[1:], stdout, stderr)
	case "preview":
		return preview(args[1:], os.Stdin, stdout, stderr)
	case "adopt":
		return adopt(args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "unknown command %q\n%s", args[0], usage)
	return 2
}

// flagKeys maps command-line flags onto configuration keys.
var flagKeys = map[string]string{"listen": "server.listen", "log-format": "log.format", "log-level": "log.level"}

func configFlags(name string) (*pflag.FlagSet, *string) {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	file := fs.String("config", "", "configuration file (YAML)")
	fs.String("listen", "", "listen address, overrides server.listen")
	fs.String("log-format", "", "json or console, overrides log.format")
	fs.String("log-level", "", "debug, info, warn or error, overrides log.level")
	return fs, file
}

// load reads the configuration and compiles the mapping, printing every problem
// once (the structure check and the mapping check can see the same one).
func load(src config.Source, stderr io.Writer) (*config.Config, bool) {
	data := src.Data
	if data == nil {
		data, _ = os.ReadFile(src.File)
	}
	lines = config.NewLineFinder(data)
	cfg, err := config.Load(src)
	errs := []error{err}
	// A misspelt or mistyped attributes key leaves no mapping to check: each
	// problem the mapping check would find ("userName must be mapped", the
	// RDN not mapped) only repeats that one.
	unread := config.Covered(err)
	if cfg != nil {
		if !slices.Contains(unread, "users.attributes") {
			_, err := ldapmap.New(cfg.Users)
			errs = append(errs, err)
		}
		if cfg.GroupsEnabled() && !slices.Contains(unread, "groups.attributes") {
			_, err := ldapmap.NewGroups(cfg.Groups)
			errs = append(errs, err)
		}
	}
	joined := config.DropFollowOns(errors.Join(errs...))
	if joined != nil {
		printProblems(stderr, joined)
	}
	return cfg, joined == nil && cfg != nil
}

// lines finds the line of a YAML path in the file load read last, so problems
// say where they are.
var lines *config.LineFinder

func printProblems(w io.Writer, err error) {
	err = config.WithLines(err, lines)
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		if line := err.Error(); !seen[line] {
			seen[line] = true
			fmt.Fprintln(w, "error:", line)
		}
	}
	walk(err)
}

func serve(args []string, stderr io.Writer) int {
	// A reload request (SIGHUP, e.g. `systemctl reload`) that arrives while
	// the startup checks run must not end the process; runApp handles it once
	// the server is up.
	signal.Ignore(syscall.SIGHUP)
	fs, file := configFlags("serve")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "serve: --config is required")
		return 2
	}
	cfg, ok := load(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, stderr)
	if ok {
		// The same checks as `validate`: a directory that is down only earns
		// a warning, because it may come up after the bridge (requests get
		// 503 until then).
		log := newLogger(cfg.Log, stderr)
		ok = checkDirectory(cfg, false, stderr, func(w string) { log.Warn().Msg(w) })
	}
	if !ok {
		fmt.Fprintln(stderr, "serve: refusing to start with an invalid configuration")
		return 1
	}
	src := config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}
	return runApp(cfg, stderr, nil, &src)
}

// runApp serves until SIGINT/SIGTERM, then shuts down gracefully. ready, if
// not nil, is called once the server listens.
// runApp serves until SIGINT/SIGTERM, then shuts down gracefully. With a
// source, the configuration is reloaded on SIGHUP and when the file changes.
func runApp(cfg *config.Config, stderr io.Writer, ready func(addr string), src *config.Source) int {
	log := newLogger(cfg.Log, stderr)
	app, err := daemon.NewApp(cfg, log)
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	app.Source = src
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Start(ctx); err != nil {
		log.Error().Err(err).Msg("start failed")
		return 1
	}
	if src != nil {
		if err := app.Watch(ctx); err != nil {
			log.Warn().Err(err).Msg("config file watch unavailable; reload with SIGHUP")
		}
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go func() {
			for {
				select {
				case <-ctx.Done():
					return
				case <-hup:
					log.Info().Msg("SIGHUP: reloading the configuration")
					_ = app.Reload()
				}
			}
		}()
	}
	if ready != nil {
		ready(app.Addr())
	}
	if err := app.Wait(ctx); err != nil {
		log.Error().Err(err).Msg("server failed")
		return 1
	}
	log.Info().Msg("shutting down")
	if err := app.Stop(context.Background()); err != nil {
		log.Error().Err(err).Msg("shutdown")
		return 1
	}
	return 0
}

func newLogger(c config.LogConfig, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.Level)
	if err != nil || c.Level == "" {
		level = zerolog.InfoLevel
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	if c.Format == "console" {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// validate checks a configuration file and prints every problem: first the
// offline checks, then, unless --offline, the checks against the directory
// (daemon.CheckOnline), which write nothing. By default an unreachable
// directory only earns a warning; --online makes it an error.
func validate(args []string, stdout, stderr io.Writer) int {
	fs, file := configFlags("validate")
	online := fs.Bool("online", false, "require the checks against the directory (an unreachable directory is an error)")
	offline := fs.Bool("offline", false, "skip the checks against the directory")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "validate: --config is required")
		return 2
	}
	if *online && *offline {
		fmt.Fprintln(stderr, "validate: --online and --offline exclude each other")
		return 2
	}
	cfg, ok := load(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, stderr)
	warnings := 0
	if cfg != nil && !*offline {
		warn := func(w string) {
			warnings++
			fmt.Fprintln(stderr, "warning:", w)
		}
		ok = checkDirectory(cfg, *online, stderr, warn) && ok
	}
	if !ok {
		return 1
	}
	switch warnings {
	case 0:
		fmt.Fprintf(stdout, "%s: OK\n", *file)
	case 1:
		fmt.Fprintf(stdout, "%s: OK (1 warning)\n", *file)
	default:
		fmt.Fprintf(stdout, "%s: OK (%d warnings)\n", *file, warnings)
	}
	return 0
}

// onlineTimeout bounds all checks against the directory together; each LDAP
// operation is bounded by ldap.timeout as well.
const onlineTimeout = time.Minute

// checkDirectory runs daemon.CheckOnline with a pool of its own, prints each
// problem as "error: path: msg" and hands each warning to warn. An unreachable
// directory is an error when required, else a warning. It returns false on any
// error.
func checkDirectory(cfg *config.Config, required bool, stderr io.Writer, warn func(string)) bool {
	// One connection is enough, and settings the offline checks refused
	// (a negative pool size or timeout) must not break this one.
	lc := cfg.LDAP
	lc.PoolSize = 1
	if lc.Timeout <= 0 || lc.DialTimeout <= 0 {
		lc.Timeout, lc.DialTimeout = 10*time.Second, 5*time.Second
	}
	pool, err := bridge.NewPool(lc, zerolog.Nop())
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return false
	}
	defer func() { _ = pool.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), onlineTimeout)
	defer cancel()
	problems, warnings, err := daemon.CheckOnline(ctx, cfg, pool)
	if err != nil {
		if required {
			fmt.Fprintf(stderr, "error: ldap.url: cannot reach the directory: %v\n", err)
			return false
		}
		warn(fmt.Sprintf("ldap.url: cannot reach the directory, so only the offline checks ran: %v", err))
		return true
	}
	for _, w := range warnings {
		warn(w)
	}
	if len(problems) > 0 {
		printProblems(stderr, problems.Err())
	}
	return len(problems) == 0
}
