package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/scimapi"
)

var tokenNewCmd = &command{
	name:     "token new",
	synopsis: "token new [--name NAME]",
	summary:  "make a Secret Token for Entra and the configuration lines with its hash",
	about: "Prints a new Secret Token once, to paste into Entra's provisioning settings, and the " +
		"auth.bearer_tokens lines that store only its SHA-256: the bridge never needs the token itself, so " +
		"the configuration holds no secret for it. The examples read the hash from SCIMBRIDGE_TOKEN_SHA256.",
	examples: []string{"scimbridge token new --name entra"},
	// crypto/rand cannot fail since Go 1.24 (it crashes the program instead), so
	// there is no exit 1 to document.
	exits: []string{"0  token printed", "2  usage error"},
	flags: func() *pflag.FlagSet { fs, _ := tokenFlags(); return fs },
}

func tokenFlags() (*pflag.FlagSet, *string) {
	fs := pflag.NewFlagSet("token new", pflag.ContinueOnError)
	return fs, fs.String("name", "entra", "a name for the token (shown in logs and metrics)")
}

// token prints a new secret token once, with the configuration lines that store
// only its hash: the bridge never needs the token itself.
func token(args []string, stdout, stderr io.Writer) int {
	fs, name := tokenFlags()
	switch {
	case len(args) > 0 && args[0] == "new":
		args = args[1:]
	case len(args) > 0 && (args[0] == "--help" || args[0] == "-h"):
		// `scimbridge token --help`: new is the only token command.
	default:
		return usageError(tokenNewCmd, stderr, errors.New(`the only token command is "token new"`))
	}
	if code, done := parseFlags(tokenNewCmd, fs, args, stdout, stderr); done {
		return code
	}
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		fmt.Fprintln(stderr, "token:", err)
		return exitProblems
	}
	fmt.Fprintf(stdout, `Secret Token (paste into Entra; it is shown only this once):

  %s

Configuration (only the hash is stored):

auth:
  bearer_tokens:
    - name: %s
      sha256: "%s"
`, tok, *name, hash)
	return exitOK
}
