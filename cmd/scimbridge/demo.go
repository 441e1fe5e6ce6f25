package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/internal/logbuf"
	"github.com/scimbridge/scimbridge/internal/slapd"
	"github.com/scimbridge/scimbridge/scimapi"
)

var demoCmd = &command{
	name:     "demo",
	synopsis: "demo [--listen ADDR] [--ldap-port PORT]",
	summary:  "try the bridge: a throwaway OpenLDAP and the bridge in front of it",
	about: "Starts a throwaway OpenLDAP (slapd must be installed: `make deps`) on 127.0.0.1:PORT and serves " +
		"the bridge on it with examples/openldap.yaml (built in) and a fresh Secret Token, then prints the " +
		"Tenant URL, the token, and curl and ldapsearch commands to try. Ctrl-C stops both and removes the " +
		"directory. The configuration is not reloaded.",
	examples: []string{
		"scimbridge demo",
		"scimbridge demo --listen 127.0.0.1:9090 --ldap-port 3999",
	},
	exits: []string{
		"0  stopped by Ctrl-C (SIGINT) or SIGTERM",
		"1  could not start: no slapd, its port taken, or a listener failed",
		"2  usage error",
	},
	flags: func() *pflag.FlagSet { fs, _ := demoFlags(); return fs },
}

func demoFlags() (*pflag.FlagSet, *int) {
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	fs.String("listen", "", "listen address, overrides server.listen")
	fs.String("log-format", "", "json or console (default console)")
	fs.String("log-level", "", "debug, info, warn or error")
	return fs, fs.Int("ldap-port", 3890, "port of the throwaway OpenLDAP")
}

// demo starts a throwaway OpenLDAP on 127.0.0.1:3890 (the address in
// examples/openldap.yaml) and serves the bridge on it with a fresh token.
func demo(args []string, stdout, stderr io.Writer) int {
	fs, port := demoFlags()
	if code, done := parseFlags(demoCmd, fs, args, stdout, stderr); done {
		return code
	}
	if *port < 1 || *port > 65535 {
		return usageError(demoCmd, stderr, fmt.Errorf("--ldap-port must be 1 to 65535, not %d", *port))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	dir, err := slapd.Start(ctx, slapd.Options{Port: *port})
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return exitProblems
	}
	defer func() { _ = dir.Stop() }()
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return exitProblems
	}
	logw, flushLog := logbuf.ForFile(stderr)
	defer func() { _ = flushLog() }()
	env := append(os.Environ(), "LDAP_BIND_PASSWORD="+dir.BindPassword, "SCIMBRIDGE_TOKEN_SHA256="+hash,
		"SCIMBRIDGE_LDAP__URL="+dir.URL, "SCIMBRIDGE_LOG__FORMAT=console")
	p, ok := prepare(config.Source{
		File: "examples/openldap.yaml (embedded)", Data: examples.OpenLDAP,
		Flags: fs, FlagKeys: flagKeys, Environ: func() []string { return env },
	}, daemon.PrepareOptions{Log: serveLog(logw)}, stderr)
	if !ok {
		return exitProblems
	}
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runApp(sig, p, stderr, func(addr string) {
		base := tenantURL(p.Config.Server, addr)
		fmt.Fprintf(stdout, `
scimbridge demo is running (Ctrl-C stops it and removes the directory).

  OpenLDAP       %s  (bind %s / %s, base %s)
  Tenant URL     %s
  Secret Token   %s

Try it:

  curl -s -H 'Authorization: Bearer %s' '%s/Users?filter=userName%%20eq%%20%%22alice%%22'

  curl -s -X POST -H 'Authorization: Bearer %s' -H 'Content-Type: application/scim+json' \
    -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"alice","name":{"givenName":"Alice","familyName":"Liddell"},"emails":[{"type":"work","value":"alice@example.org","primary":true}],"active":true}' \
    '%s/Users'

  ldapsearch -x -H %s -D '%s' -w '%s' -b ou=people,dc=example,dc=org '(uid=alice)' '*' '+'

`, dir.URL, dir.BindDN, dir.BindPassword, dir.BaseDN, base, tok, tok, base, tok, base,
			dir.URL, dir.BindDN, dir.BindPassword)
	}, nil)
}

// tenantURL is the URL Entra's Tenant URL field takes for a bridge listening
// at addr: https when the server serves TLS itself (server.tls set through
// the environment or a flag), http otherwise.
func tenantURL(s config.ServerConfig, addr string) string {
	scheme := "http://"
	if s.TLS.CertFile != "" || len(s.TLS.ACME.Domains) > 0 {
		scheme = "https://"
	}
	return scheme + addr + s.BasePath
}
