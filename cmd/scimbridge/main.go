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
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/internal/logbuf"
)

func main() {
	setGCPercent()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// defaultGCPercent lets the heap grow to three times what is live before the
// garbage collector runs, where Go's default is twice. The bridge's live heap
// is small (~10 MB) and its requests allocate fast, so at Go's default the
// collector ran often: measured with scimbench on the 2-core machine, 200
// took about 10-20% off the CPU of a create and a get, for ~4 MB more RSS
// (docs/performance.md). The GOGC environment variable still decides when set.
const defaultGCPercent = 200

func setGCPercent() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
	}
}

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

// prepare loads src with daemon.Prepare and prints every problem, each once
// and with its line in the file. ok is false on any problem; p is nil only
// when the file could not be read or parsed.
func prepare(src config.Source, o daemon.PrepareOptions, stderr io.Writer) (p *daemon.Prepared, ok bool) {
	p, err := daemon.Prepare(src, o)
	if err != nil {
		printProblems(stderr, err)
	}
	return p, err == nil
}

// printProblems prints each error joined in err on a line of its own.
// Problems say where they are: daemon.Prepare and Prepared.CheckOnline give
// them their lines.
func printProblems(w io.Writer, err error) {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printProblems(w, e)
		}
		return
	}
	fmt.Fprintln(w, "error:", err)
}

// serveLog is the daemon's logger, made from the log settings once loaded.
func serveLog(stderr io.Writer) func(config.LogConfig) zerolog.Logger {
	return func(c config.LogConfig) zerolog.Logger { return newLogger(c, stderr) }
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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveSource(ctx, config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, stderr, nil)
}

// serveSource prepares src once, runs the same checks as `validate` through
// the prepared pool, and serves with that pool until ctx ends. A directory
// that is down only earns a warning, because it may come up after the bridge
// (requests get 503 until then).
func serveSource(ctx context.Context, src config.Source, stderr io.Writer, ready func(addr string)) int {
	// The log goes out in batches (logbuf): one write per line cost up to a
	// quarter of a write request's CPU. Problems printed to stderr are not
	// logged lines and go straight out.
	logw, flushLog := logbuf.ForFile(stderr)
	defer func() { _ = flushLog() }()
	p, ok := prepare(src, daemon.PrepareOptions{Log: serveLog(logw)}, stderr)
	if ok {
		ok = checkDirectory(p, false, stderr, func(w string) { p.Log.Warn().Msg(w) })
		if !ok {
			_ = p.Pool.Close()
		}
	}
	if !ok {
		fmt.Fprintln(stderr, "serve: refusing to start with an invalid configuration")
		return 1
	}
	return runApp(ctx, p, stderr, ready, &src)
}

// runApp serves p until ctx ends, then shuts down gracefully. ready, if not
// nil, is called once the server listens. With a source, the configuration
// is reloaded on SIGHUP and when the file changes.
func runApp(ctx context.Context, p *daemon.Prepared, stderr io.Writer, ready func(addr string), src *config.Source) int {
	log := p.Log
	app, err := p.NewApp()
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	app.Source = src
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
	kind := daemon.CheckPool
	if *offline {
		kind = daemon.NoPool
	}
	p, ok := prepare(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, daemon.PrepareOptions{Pool: kind}, stderr)
	warnings := 0
	warn := func(w string) {
		warnings++
		fmt.Fprintln(stderr, "warning:", w)
	}
	if p != nil && p.Pool != nil {
		// The online checks print the configuration's own warnings too.
		ok = checkDirectory(p, *online, stderr, warn) && ok
		_ = p.Pool.Close()
	} else if p != nil && p.Config != nil {
		for _, w := range p.Config.Warnings() {
			warn(w)
		}
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

// checkDirectory runs the checks against the directory through p's pool,
// prints each problem as "error: line N: path: msg" and hands each warning to
// warn. An unreachable directory is an error when required, else a warning.
// It returns false on any error.
func checkDirectory(p *daemon.Prepared, required bool, stderr io.Writer, warn func(string)) bool {
	ctx, cancel := context.WithTimeout(context.Background(), onlineTimeout)
	defer cancel()
	problems, warnings, err := p.CheckOnline(ctx)
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
