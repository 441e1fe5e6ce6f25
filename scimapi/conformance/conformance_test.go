package conformance_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scimapi/conformance"
)

// These tests run the check against fake servers that misbehave in ways the
// real bridge does not; bridge/conformance_test.go runs it against the bridge.

const token = "scb_secret-token-value-that-must-never-be-printed"

// recorder is a fake SCIM server that records every request.
type recorder struct {
	mu       sync.Mutex
	requests []string
	handle   func(w http.ResponseWriter, r *http.Request)
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec.mu.Lock()
	rec.requests = append(rec.requests, r.Method+" "+r.URL.Path)
	rec.mu.Unlock()
	rec.handle(w, r)
}

func (rec *recorder) sent(prefix string) []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	var out []string
	for _, r := range rec.requests {
		if strings.HasPrefix(r, prefix) {
			out = append(out, r)
		}
	}
	return out
}

func serveFake(t *testing.T, handle func(w http.ResponseWriter, r *http.Request)) (*recorder, string) {
	rec := &recorder{handle: handle}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return rec, srv.URL + "/scim/v2"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func run(t *testing.T, o conformance.Options) (conformance.Report, string, error) {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	rep, err := conformance.Run(context.Background(), o)
	t.Logf("check:\n%s", out.String())
	return rep, out.String(), err
}

func TestCheckInvalidOptionsSendNothing(t *testing.T) {
	rec, url := serveFake(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(500) })
	for name, o := range map[string]conformance.Options{
		"no token":          {URL: url},
		"no url":            {Token: token},
		"not http":          {URL: "ldap://host/scim", Token: token},
		"empty-ish prefix":  {URL: url, Token: token, Prefix: "a"},
		"prefix with quote": {URL: url, Token: token, Prefix: `x" or userName pr or "`},
		"unknown skip":      {URL: url, Token: token, Skip: []string{"groups"}},
	} {
		t.Run(name, func(t *testing.T) {
			rep, out, err := run(t, o)
			if err == nil || len(rep.Rows) != 0 || out != "" {
				t.Errorf("err %v, %d rows, output %q", err, len(rep.Rows), out)
			}
		})
	}
	if got := rec.sent(""); len(got) != 0 {
		t.Errorf("requests sent: %v", got)
	}
}

// A server that ignores filters returns real users for every query: the check
// must never delete what lacks its prefix, whatever the server says matched.
func TestCheckNeverDeletesWithoutThePrefix(t *testing.T) {
	rec, url := serveFake(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/scim/v2/Users":
			writeJSON(w, 200, map[string]any{
				"schemas":      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
				"totalResults": 1, "Resources": []any{map[string]any{"id": "alice-id", "userName": "alice@example.com"}},
			})
		case r.Method == http.MethodGet && r.URL.Path == "/scim/v2/Groups":
			writeJSON(w, 200, map[string]any{
				"schemas":      []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"},
				"totalResults": 1, "Resources": []any{map[string]any{"id": "admins-id", "displayName": "Admins"}},
			})
		default:
			writeJSON(w, 500, map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
				"status":  "500", "detail": "boom",
			})
		}
	})
	rep, _, err := run(t, conformance.Options{URL: url, Token: token, Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.sent("DELETE"); len(got) != 0 {
		t.Fatalf("deleted %v", got)
	}
	r, _ := rep.Row("test connection")
	if r.OK || r.Detail != "a random GUID found 1 user(s)" {
		t.Errorf("test connection %+v", r)
	}
	r, _ = rep.Row("create user")
	if r.OK || r.Detail != "POST /Users: 500 (want 201): boom" {
		t.Errorf("create user %+v", r)
	}
	// The 500 may have written the user: the clean-up looked for it by name
	// (and found only alice, whom it left alone).
	r, _ = rep.Row("clean up")
	if !r.OK || r.Detail != "nothing left behind" {
		t.Errorf("clean up %+v", r)
	}
	if rep.Passed() {
		t.Error("passed")
	}
}

// Whatever a server echoes, the token does not reach the report or the output.
func TestCheckTokenIsNeverPrinted(t *testing.T) {
	_, url := serveFake(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 500, map[string]any{
			"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
			"status":  "500", "detail": "bad header " + r.Header.Get("Authorization"),
		})
	})
	rep, out, err := run(t, conformance.Options{URL: url, Token: token, Groups: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, token) {
		t.Errorf("token in the output:\n%s", out)
	}
	r, _ := rep.Row("test connection")
	if r.OK || r.Detail != "500 (want 200 with an empty ListResponse): bad header Bearer [token]" {
		t.Errorf("test connection %+v", r)
	}
	for _, r := range rep.Rows[1 : len(rep.Rows)-1] {
		if r.Detail != `not run: "test connection" failed` {
			t.Errorf("%s: %q", r.Name, r.Detail)
		}
	}
}

func TestCheckUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	rep, _, err := run(t, conformance.Options{URL: "http://" + addr + "/scim/v2/?aadOptscim062020", Token: token})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := rep.Row("test connection")
	if r.OK || !strings.HasPrefix(r.Detail, "GET /Users?…: dial tcp ") || !strings.Contains(r.Detail, "refused") {
		t.Errorf("test connection %+v", r)
	}
	r, _ = rep.Row("create user")
	if r.Detail != "not run: no answer from http://"+addr+"/scim/v2" {
		t.Errorf("create user %+v", r)
	}
}

// Every request is bounded: a server that never answers costs one timeout,
// not a hung check.
func TestCheckEveryRequestHasATimeout(t *testing.T) {
	release := make(chan struct{})
	_, url := serveFake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	start := time.Now()
	rep, _, err := run(t, conformance.Options{URL: url, Token: token, Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	r, _ := rep.Row("test connection")
	if r.OK || r.Detail != "GET /Users?…: no answer within 200ms (--timeout)" {
		t.Errorf("test connection %+v", r)
	}
}

func TestCheckReportPrint(t *testing.T) {
	rep := conformance.Report{Rows: []conformance.Row{
		{Name: "a", OK: true, Detail: "fine"},
		{Name: "b", OK: true, Skipped: true, Detail: "skipped (--skip manager)"},
	}}
	if !rep.Passed() {
		t.Error("skipped-on-request rows fail the run")
	}
	var b bytes.Buffer
	if err := rep.Print(&b); err != nil {
		t.Fatal(err)
	}
	want := "      STEP                                      DETAIL\n" +
		"PASS  a                                         fine\n" +
		"SKIP  b                                         skipped (--skip manager)\n" +
		"\nPASSED: 2 steps, 1 passed, 0 failed, 0 not run, 1 skipped\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	rep.Rows = append(rep.Rows, conformance.Row{Name: "c", Skipped: true, Detail: "not run: x"})
	if rep.Passed() || (conformance.Report{}).Passed() {
		t.Error("a step that did not run, or no step at all, passes")
	}
}
