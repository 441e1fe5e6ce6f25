// Command scimbridge is a SCIM 2.0 endpoint for Microsoft Entra ID provisioning
// that writes users into an LDAP directory.
//
//	scimbridge serve    --config FILE [--listen ADDR] [--log-format json|console]
//	scimbridge validate --config FILE
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
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/bridge"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/ldapmap"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

const usage = `usage:
  scimbridge serve    --config FILE [--listen ADDR] [--log-format json|console] [--log-level LEVEL]
  scimbridge validate --config FILE
  scimbridge token new --name NAME
  scimbridge demo     [--listen ADDR]
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
	cfg, err := config.Load(src)
	errs := []error{err}
	if cfg != nil {
		_, err := ldapmap.New(cfg.Users)
		errs = append(errs, err)
		if cfg.GroupsEnabled() {
			_, err := ldapmap.NewGroups(cfg.Groups)
			errs = append(errs, err)
		}
	}
	joined := errors.Join(errs...)
	if joined != nil {
		printProblems(stderr, joined)
	}
	return cfg, joined == nil && cfg != nil
}

func printProblems(w io.Writer, err error) {
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
	fs, file := configFlags("serve")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "serve: --config is required")
		return 2
	}
	cfg, ok := load(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, stderr)
	if !ok {
		fmt.Fprintln(stderr, "serve: refusing to start with an invalid configuration")
		return 1
	}
	return runApp(cfg, stderr, nil)
}

// runApp serves until SIGINT/SIGTERM, then shuts down gracefully. ready, if
// not nil, is called once the server listens.
func runApp(cfg *config.Config, stderr io.Writer, ready func(addr string)) int {
	log := newLogger(cfg.Log, stderr)
	app, err := bridge.NewApp(cfg, log)
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Start(ctx); err != nil {
		log.Error().Err(err).Msg("start failed")
		return 1
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

func validate(args []string, stdout, stderr io.Writer) int {
	fs, file := configFlags("validate")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" {
		fmt.Fprintln(stderr, "validate: --config is required")
		return 2
	}
	if _, ok := load(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, stderr); !ok {
		return 1
	}
	fmt.Fprintf(stdout, "%s: OK\n", *file)
	return 0
}
