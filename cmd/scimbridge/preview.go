package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/pflag"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/scimapi"
)

var previewCmd = &command{
	name:     "preview",
	synopsis: "preview --config FILE [--resource Users|Groups] [--op create|replace|patch|delete] [--id ID] < request.json",
	summary:  "show the LDAP writes (LDIF) one SCIM request would cause, writing nothing",
	about: "Runs one SCIM request, its body read from stdin (none for delete), through the real mapping and " +
		"bridge with a dry-run directory, and prints each LDAP write it would make as LDIF (passwords " +
		"redacted), then the SCIM answer. Nothing is written; what the request needs to read (the entry a " +
		"PATCH changes, the searches that keep userName unique) is read from the directory. --id is the " +
		"SCIM id of the resource, for replace, patch and delete.",
	examples: []string{
		"scimbridge preview --config config.yaml < alice.json",
		"scimbridge preview --config config.yaml --op patch --id 2819c223-7f76-453a-919d-413861904646 < disable.json",
		"scimbridge preview --config config.yaml --resource Groups --op delete --id e9e30dba-f08f-4109-8486-d5c6a331660a",
	},
	exits: []string{
		"0  the bridge would accept the request",
		"1  the bridge would refuse it (its SCIM error is printed), a problem in the configuration, or stdin " +
			"could not be read",
		"2  usage error",
	},
	flags: func() *pflag.FlagSet { fs, _ := previewFlags(); return fs },
}

// previewOpts are preview's own flags.
type previewOpts struct{ file, op, id, resource *string }

func previewFlags() (*pflag.FlagSet, previewOpts) {
	fs, file := configFlags("preview")
	return fs, previewOpts{
		file:     file,
		op:       fs.String("op", "create", "create, replace, patch or delete"),
		id:       fs.String("id", "", "the SCIM id, for replace, patch and delete"),
		resource: fs.String("resource", "Users", "Users or Groups"),
	}
}

// preview shows the LDAP writes a SCIM request would cause, as LDIF, without
// writing anything: the request runs through the real bridge with a dry-run
// directory (reads, e.g. the entry a PATCH changes, come from the directory).
func preview(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, o := previewFlags()
	if code, done := parseFlags(previewCmd, fs, args, stdout, stderr); done {
		return code
	}
	file, op, id, resource := o.file, o.op, o.id, o.resource
	method, usage := previewMethod(*file, *op, *id, *resource)
	if usage != "" {
		return usageError(previewCmd, stderr, errors.New(usage))
	}
	path := "/" + *resource
	if *id != "" {
		path += "/" + *id
	}
	// An id that makes no URL path is a mistake in the flags, found before
	// the configuration is loaded.
	if _, err := url.Parse("http://preview" + path); err != nil {
		return usageError(previewCmd, stderr, fmt.Errorf("--id %q: %w", *id, err))
	}
	// The request is authenticated with a token made for this run only.
	tok, sum, err := previewToken()
	if err != nil {
		fmt.Fprintln(stderr, "preview:", err)
		return exitProblems
	}
	p, ok := prepare(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, daemon.PrepareOptions{}, stderr)
	if !ok {
		return exitProblems
	}
	cfg := p.Config
	p.Tokens = []scimapi.Token{{Name: "preview", SHA256: sum}}
	var writes []string
	app, err := p.NewApp(daemon.WithDryRunRecorder(func(_, ldif string) {
		writes = append(writes, ldif)
	}))
	if err != nil {
		printProblems(stderr, err)
		return exitProblems
	}
	defer func() { _ = app.Pool().Close() }()
	body, err := previewBody(method, stdin, cfg.Server.MaxBodyBytes)
	if err != nil {
		fmt.Fprintln(stderr, "preview: reading the request from stdin:", err)
		return exitProblems
	}
	req, err := http.NewRequest(method, "http://preview"+cfg.Server.BasePath+path, strings.NewReader(body))
	if err != nil {
		fmt.Fprintln(stderr, "preview:", err)
		return exitProblems
	}
	req.RemoteAddr = "127.0.0.1:0" // the request never crosses a network
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", scimapi.ContentType)
	w := &answer{header: http.Header{}, Code: http.StatusOK}
	app.Handler().ServeHTTP(w, req)
	return printPreview(stdout, writes, w)
}

// previewMethods are the HTTP methods of preview's --op values.
var previewMethods = map[string]string{"create": "POST", "replace": "PUT", "patch": "PATCH", "delete": "DELETE"}

// previewMethod checks preview's flags and returns the HTTP method of op, or
// what is wrong with the flags (usage).
func previewMethod(file, op, id, resource string) (method, usage string) {
	method = previewMethods[op]
	switch {
	case file == "":
		return "", "--config is required"
	case method == "":
		return "", fmt.Sprintf("--op must be create, replace, patch or delete, not %q", op)
	case method != "POST" && id == "":
		return "", fmt.Sprintf("--op %s needs --id", op)
	case resource != "Users" && resource != "Groups":
		return "", "--resource must be Users or Groups"
	}
	return method, ""
}

// previewToken makes a bearer token and the hash the bridge checks it with.
func previewToken() (tok string, sum [32]byte, err error) {
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		return "", sum, err
	}
	sum, err = scimapi.ParseTokenHash(hash)
	return tok, sum, err
}

// previewBody reads the request body from stdin (none for a delete), at most
// limit+1 bytes so that the bridge still refuses one that is too large.
func previewBody(method string, stdin io.Reader, limit int64) (string, error) {
	if method == "DELETE" {
		return "", nil
	}
	b, err := io.ReadAll(io.LimitReader(stdin, limit+1))
	return string(b), err
}

// printPreview prints the recorded writes as LDIF and the SCIM answer w; the
// exit code is 1 when the bridge refused the request.
func printPreview(stdout io.Writer, writes []string, w *answer) int {
	if len(writes) == 0 {
		fmt.Fprintln(stdout, "# no LDAP write")
	}
	for _, ldif := range writes {
		fmt.Fprintln(stdout, ldif)
	}
	fmt.Fprintf(stdout, "# SCIM answer: %d %s\n", w.Code, http.StatusText(w.Code))
	if w.Code >= 400 {
		fmt.Fprintln(stdout, "#", strings.TrimSpace(w.Body.String()))
		return exitProblems
	}
	return exitOK
}

// answer keeps the bridge's in-process answer to a preview request (what
// net/http/httptest's recorder does, without linking test code into the
// binary).
type answer struct {
	header http.Header
	Code   int
	Body   strings.Builder
	wrote  bool
}

func (a *answer) Header() http.Header { return a.header }

func (a *answer) WriteHeader(code int) {
	if !a.wrote {
		a.Code, a.wrote = code, true
	}
}

func (a *answer) Write(b []byte) (int, error) {
	a.WriteHeader(http.StatusOK)
	return a.Body.Write(b)
}
