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
	method := map[string]string{"create": "POST", "replace": "PUT", "patch": "PATCH", "delete": "DELETE"}[*op]
	switch {
	case *file == "":
		fmt.Fprintln(stderr, "preview: --config is required")
		return 2
	case method == "":
		fmt.Fprintf(stderr, "preview: --op must be create, replace, patch or delete, not %q\n", *op)
		return 2
	case method != "POST" && *id == "":
		fmt.Fprintf(stderr, "preview: --op %s needs --id\n", *op)
		return 2
	case *resource != "Users" && *resource != "Groups":
		fmt.Fprintln(stderr, "preview: --resource must be Users or Groups")
		return 2
	}
	// The request is authenticated with a token made for this run only.
	tok, hash, err := scimapi.NewToken()
	if err != nil {
		fmt.Fprintln(stderr, "preview:", err)
		return 1
	}
	sum, err := scimapi.ParseTokenHash(hash)
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
	var body string
	if method != "DELETE" {
		b, err := io.ReadAll(io.LimitReader(stdin, cfg.Server.MaxBodyBytes+1))
		if err != nil {
			fmt.Fprintln(stderr, "preview: reading the request from stdin:", err)
			return 1
		}
		body = string(b)
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
