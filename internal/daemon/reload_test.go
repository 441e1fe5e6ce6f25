package daemon_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/scimapi"
)

// Reload with a good and a bad file while requests are in flight: no request
// fails, a second token works after the good reload, the bad file is refused
// and the old configuration keeps serving.
func TestReloadWhileServing(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, nil)
	tokA, hashA := h.Token, ""
	for _, tc := range h.Cfg.Auth.BearerTokens {
		hashA = tc.SHA256
	}
	tokB, hashB, _ := scimapi.NewToken()
	tokens := func(hashes ...string) string {
		var b strings.Builder
		b.WriteString("auth:\n  bearer_tokens:\n")
		for i, hsh := range hashes {
			b.WriteString("    - name: t" + strconv.Itoa(i) + "\n      sha256: \"" + hsh + "\"\n")
		}
		return b.String()
	}
	example := string(examples.OpenLDAP)
	authBlock := example[strings.Index(example, "auth:"):strings.Index(example, "ldap:")]
	file, src := configOnDisk(t, h, strings.Replace(example, authBlock, tokens(hashA), 1))
	write := func(content string) {
		tmp := file + ".tmp"
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil { // as editors and config management do
			t.Fatal(err)
		}
	}
	app := appFromSource(t, src, zerolog.Nop())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	if err := app.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	base := "http://" + app.Addr() + "/scim/v2/Users?filter=userName+eq+%22nobody%22"
	get := func(tok string) int {
		req, _ := http.NewRequest("GET", base, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	var stop atomic.Bool
	var sent, failed atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				sent.Add(1)
				if code := get(tokA); code != 200 {
					failed.Add(1)
					t.Errorf("in-flight request: %d", code)
				}
			}
		}()
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if get(tokB) != http.StatusUnauthorized {
		t.Fatal("token B works before it is configured")
	}
	write(strings.Replace(example, authBlock, tokens(hashA, hashB), 1)) // rotation window: both tokens
	waitFor("token B after the file changed", func() bool { return get(tokB) == 200 })
	write(strings.Replace(example, authBlock, tokens(hashA), 1) + "ldap:\n  urll: typo\n") // invalid
	time.Sleep(600 * time.Millisecond)
	if get(tokB) != 200 {
		t.Error("a bad file replaced the running configuration")
	}
	stop.Store(true)
	wg.Wait()
	write(strings.Replace(example, authBlock, tokens(hashB), 1)) // old token retired
	waitFor("token A refused after rotation", func() bool { return get(tokA) == http.StatusUnauthorized })
	if get(tokB) != 200 {
		t.Error("token B refused after rotation")
	}
	if err := app.Reload(); err != nil { // SIGHUP path
		t.Errorf("explicit reload: %v", err)
	}
	t.Logf("%d requests in flight across a good and a bad reload, %d failed", sent.Load(), failed.Load())
	if sent.Load() < 20 {
		t.Errorf("only %d requests in flight: the test proved little", sent.Load())
	}
}
