package main

import (
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/scimapi"
)

// token prints a new secret token once, with the configuration lines that store
// only its hash: the bridge never needs the token itself.
func token(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "new" {
		fmt.Fprintln(stderr, "usage: scimbridge token new --name NAME")
		return 2
	}
	fs := pflag.NewFlagSet("token new", pflag.ContinueOnError)
	name := fs.String("name", "entra", "a name for the token (shown in logs and metrics)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return 1
	}
	fmt.Fprintf(stdout, `Secret Token (paste into Entra; it is shown only this once):

  %s

Configuration (only the hash is stored):

auth:
  bearer_tokens:
    - name: %s
      sha256: "%s"
`, tok, *name, hash)
	return 0
}
