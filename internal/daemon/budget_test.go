package daemon_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/apptest"
)

// No request outlives its answer: with the directory hung, a PATCH gets a
// whole 503 SCIM answer before the server's write timeout (never an empty
// reply), and nothing is written once the directory is back.
func TestRequestAnswersBeforeWriteTimeout(t *testing.T) {
	t.Parallel()
	const writeTimeout, ldapTimeout = 3 * time.Second, 1500 * time.Millisecond
	h, slapd := apptest.NewPrivate(t, func(c *config.Config) {
		c.Server.WriteTimeout, c.LDAP.Timeout = writeTimeout, ldapTimeout
	})
	// The user is created by another bridge, so that this one has not seen
	// it and the PATCH starts with a search, which the hung directory never
	// answers: nothing is sent that it could apply later. A write by cached
	// DN (issue 13) is sent first and may be applied once the directory is
	// back, after the 503: a sent LDAP write cannot be recalled.
	id := h.Rebuild(t, nil).User("budget")
	before := h.Entry(id).GetAttributeValue("entryCSN")
	url := h.Serve(t)
	if err := slapd.Pause(); err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), "PATCH", url+"/Users/"+id,
		strings.NewReader(apptest.PatchBody(`{"op":"replace","path":"title","value":"late"}`)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+h.Token)
	req.Header.Set("Content-Type", "application/scim+json")
	start := time.Now()
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("no answer after %v (write timeout %v): %v", took, writeTimeout, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("answer cut after %v: %v", took, err)
	}
	var e map[string]any
	if resp.StatusCode != http.StatusServiceUnavailable || json.Unmarshal(body, &e) != nil || e["status"] != "503" {
		t.Errorf("status %d, body %s: want a SCIM 503", resp.StatusCode, body)
	}
	if budget := h.Cfg.RequestBudget(); took > budget+ldapTimeout/2 {
		t.Errorf("answered after %v; the budget is %v", took, budget)
	}
	if err := slapd.Resume(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for h.Do("GET", "/Users/"+id, "").Status != http.StatusOK && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := h.Entry(id).GetAttributeValue("entryCSN"); got != before {
		t.Errorf("the user was written after a 503 (entryCSN %s, was %s)", got, before)
	}
}
