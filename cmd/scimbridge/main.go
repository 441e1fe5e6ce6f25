// Command scimbridge is a SCIM 2.0 endpoint for Microsoft Entra ID provisioning
// that writes users and groups into an LDAP directory.
//
//	scimbridge serve --config FILE [--listen ADDR] [--log-format json|console] [--log-level LEVEL]
//	scimbridge validate --config FILE [--online|--offline] [--format text|json]
//	scimbridge token new [--name NAME]
//	scimbridge demo [--listen ADDR] [--ldap-port PORT]
//	scimbridge preview --config FILE [--resource Users|Groups] [--op create|replace|patch|delete] [--id ID] < request.json
//	scimbridge adopt --dry-run --config FILE --users users.csv
//	scimbridge check --url URL [--token TOKEN] [--groups=true|false] [--prefix P] [--skip manager] [--timeout D]
//	scimbridge version [--format text|json]
//	scimbridge help [COMMAND]
//
// `scimbridge COMMAND --help` (or `scimbridge help COMMAND`) prints what a
// command does, its flags and examples. The exit codes are the same for every
// command: 0 success; 1 problems found (validate found problems, check
// failed, serve could not start); 2 usage error. docs/cli.md has it all, and
// TestPackageDocListsEveryCommand keeps the lines above in step with the help.
package main

import (
	"context"
	"errors"
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

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, shortUsage())
		return exitUsage
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
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
	case "version", "--version":
		return version(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		return help(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "scimbridge: unknown command %q\n%s", args[0], shortUsage())
	return exitUsage
}

// flagKeys maps command-line flags onto configuration keys.
var flagKeys = map[string]string{"listen": "server.listen", "log-format": "log.format", "log-level": "log.level"}

// configFlags are the flags of every command that reads a configuration
// file: the file and the settings a flag may override (flagKeys).
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
	eachError(err, func(e error) { fmt.Fprintln(w, "error:", e) })
}

// serveLog is the daemon's logger, made from the log settings once loaded.
func serveLog(stderr io.Writer) func(config.LogConfig) zerolog.Logger {
	return func(c config.LogConfig) zerolog.Logger { return newLogger(c, stderr) }
}

var serveCmd = &command{
	name:     "serve",
	synopsis: "serve --config FILE [--listen ADDR] [--log-format json|console] [--log-level LEVEL]",
	summary:  "serve SCIM 2.0 for Entra ID and write to the LDAP directory",
	about: "Loads the configuration and runs the checks of `validate` on it, against the directory too; a " +
		"directory that cannot be reached only earns a warning (requests get 503 until it answers), any other " +
		"problem stops the start. Then serves SCIM 2.0 at server.listen until SIGINT or SIGTERM, and shuts down " +
		"gracefully. The configuration is reloaded when the file changes and on SIGHUP; a reload with problems " +
		"is rejected and the running configuration kept. Logs go to stderr (log.format: json or console).",
	examples: []string{
		"scimbridge serve --config /etc/scimbridge/config.yaml",
		"scimbridge serve --config config.yaml --listen 127.0.0.1:8080 --log-format console --log-level debug",
	},
	exits: []string{
		"0  stopped by SIGINT or SIGTERM and shut down cleanly",
		"1  could not start (a problem in the configuration, or a listener failed) or failed while serving",
		"2  usage error",
	},
	flags: func() *pflag.FlagSet { fs, _ := configFlags("serve"); return fs },
}

func serve(args []string, stdout, stderr io.Writer) int {
	fs, file := configFlags("serve")
	if code, done := parseFlags(serveCmd, fs, args, stdout, stderr); done {
		return code
	}
	if *file == "" {
		return usageError(serveCmd, stderr, errors.New("--config is required"))
	}
	// A reload request (SIGHUP, e.g. `systemctl reload`) that arrives while
	// the startup checks run must not end the process; runApp handles it once
	// the server is up.
	signal.Ignore(syscall.SIGHUP)
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
		problem := func(err error) { printProblems(stderr, err) }
		ok = checkDirectory(p, false, problem, func(w string) { p.Log.Warn().Msg(w) })
		if !ok {
			_ = p.Pool.Close()
		}
	}
	if !ok {
		fmt.Fprintln(stderr, "serve: refusing to start with an invalid configuration")
		return exitProblems
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
		return exitProblems
	}
	app.Source = src
	if err := app.Start(ctx); err != nil {
		log.Error().Err(err).Msg("start failed")
		return exitProblems
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
		return exitProblems
	}
	log.Info().Msg("shutting down")
	if err := app.Stop(context.Background()); err != nil {
		log.Error().Err(err).Msg("shutdown")
		return exitProblems
	}
	return exitOK
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

// onlineTimeout bounds all checks against the directory together; each LDAP
// operation is bounded by ldap.timeout as well.
const onlineTimeout = time.Minute

// checkDirectory runs the checks against the directory through p's pool and
// hands each problem to problem and each warning to warn. An unreachable
// directory is a problem at ldap.url when required, else a warning. It
// returns false on any problem.
func checkDirectory(p *daemon.Prepared, required bool, problem func(error), warn func(string)) bool {
	ctx, cancel := context.WithTimeout(context.Background(), onlineTimeout)
	defer cancel()
	problems, warnings, err := p.CheckOnline(ctx)
	if err != nil {
		if required {
			problem(config.Problem{Path: "ldap.url", Msg: fmt.Sprintf("cannot reach the directory: %v", err)})
			return false
		}
		warn(fmt.Sprintf("ldap.url: cannot reach the directory, so only the offline checks ran: %v", err))
		// The configuration's own warnings need no directory (CheckOnline
		// returns them with the directory's when it answers).
		for _, w := range p.Config.Warnings() {
			warn(w)
		}
		return true
	}
	for _, w := range warnings {
		warn(w)
	}
	if len(problems) > 0 {
		problem(problems.Err())
	}
	return len(problems) == 0
}
