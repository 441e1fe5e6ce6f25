package main

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/daemon"
	"github.com/scimbridge/scimbridge/scimapi"
)

// preview shows the LDAP writes a SCIM request would cause, as LDIF, without
// writing anything: the request runs through the real bridge with a dry-run
// directory (reads, e.g. the entry a PATCH changes, come from the directory).
func preview(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs, file := configFlags("preview")
	op := fs.String("op", "create", "create, replace, patch or delete")
	id := fs.String("id", "", "the SCIM id, for replace, patch and delete")
	resource := fs.String("resource", "Users", "Users or Groups")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	method, usage := previewMethod(*file, *op, *id, *resource)
	if usage != "" {
		fmt.Fprintln(stderr, "preview:", usage)
		return 2
	}
	// The request is authenticated with a token made for this run only.
	tok, sum, err := previewToken()
	if err != nil {
		fmt.Fprintln(stderr, "preview:", err)
		return 1
	}
	p, ok := prepare(config.Source{File: *file, Flags: fs, FlagKeys: flagKeys}, daemon.PrepareOptions{}, stderr)
	if !ok {
		return 1
	}
	cfg := p.Config
	p.Tokens = []scimapi.Token{{Name: "preview", SHA256: sum}}
	var writes []string
	app, err := p.NewApp(daemon.WithDryRunRecorder(func(_, ldif string) {
		writes = append(writes, ldif)
	}))
	if err != nil {
		printProblems(stderr, err)
		return 1
	}
	defer func() { _ = app.Pool().Close() }()
	body, err := previewBody(method, stdin, cfg.Server.MaxBodyBytes)
	if err != nil {
		fmt.Fprintln(stderr, "preview: reading the request from stdin:", err)
		return 1
	}
	path := cfg.Server.BasePath + "/" + *resource
	if *id != "" {
		path += "/" + *id
	}
	req, err := http.NewRequest(method, "http://preview"+path, strings.NewReader(body))
	if err != nil {
		fmt.Fprintln(stderr, "preview:", err)
		return 2
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
		return 1
	}
	return 0
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
