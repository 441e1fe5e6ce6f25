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

// demo starts a throwaway OpenLDAP on 127.0.0.1:3890 (the address in
// examples/openldap.yaml) and serves the bridge on it with a fresh token.
func demo(args []string, stdout, stderr io.Writer) int {
	fs := pflag.NewFlagSet("demo", pflag.ContinueOnError)
	fs.String("listen", "", "listen address, overrides server.listen")
	fs.String("log-format", "", "json or console (default console)")
	fs.String("log-level", "", "debug, info, warn or error")
	port := fs.Int("ldap-port", 3890, "port of the throwaway OpenLDAP")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	dir, err := slapd.Start(ctx, slapd.Options{Port: *port})
	cancel()
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
	}
	defer func() { _ = dir.Stop() }()
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		fmt.Fprintln(stderr, "demo:", err)
		return 1
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
		return 1
	}
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runApp(sig, p, stderr, func(addr string) {
		base := "http://" + addr + p.Config.Server.BasePath
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
