package daemon_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
	"github.com/scimbridge/scimbridge/internal/apptest"
	"github.com/scimbridge/scimbridge/testenv"
)

// sampleTags is Microsoft's service tags format, trimmed (see the package's
// servicetags_test.go): its AzureActiveDirectory entry lists 20.190.128.0/18
// and 2603:1006:2000::/48, among others, and AzureActiveDirectoryDomainServices
// lists 52.150.157.0/27, which AzureActiveDirectory's entry there does not.
const sampleTags = "testdata/ServiceTags_Public_trimmed.json"

// writeTags replaces file with data, as a refresh job does (write a new
// file, rename it over the old).
func writeTags(t *testing.T, file string, data []byte) {
	t.Helper()
	tmp := file + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, file); err != nil {
		t.Fatal(err)
	}
}

// tagsWith is a service tags file whose AzureActiveDirectory entry lists
// only prefixes.
func tagsWith(prefixes ...string) []byte {
	return []byte(`{"changeNumber": 166, "cloud": "Public", "values": [{"name": "AzureActiveDirectory", "id": "AzureActiveDirectory",
	"properties": {"changeNumber": 12, "region": "", "platform": "Azure", "systemService": "AzureAD",
	"addressPrefixes": ["` + strings.Join(prefixes, `", "`) + `"], "networkFeatures": ["API", "NSG", "UDR", "FW", "VSE"]}}]}`)
}

// Entra's address ranges come from the service tags file: a client (as a
// trusted proxy reports it) in the AzureActiveDirectory prefixes is served,
// IPv4 and IPv6; one in a similar tag's or elsewhere gets 403, also with
// allowed_cidrs empty; allowed_cidrs adds to the tags' prefixes.
func TestServiceTagsAllowList(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sampleTags)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ServiceTags_Public.json")
	writeTags(t, file, data)
	// httptest requests come from 192.0.2.1: the proxy.
	h := apptest.New(t, func(c *config.Config) {
		c.Server.TrustedProxies = []string{"192.0.2.1/32"}
		c.Server.AllowedServiceTags = config.ServiceTagsConfig{File: file, Tags: []string{"AzureActiveDirectory"}}
	})
	h2 := h.Rebuild(t, func(c *config.Config) { c.Server.AllowedCIDRs = []string{"198.51.100.0/24"} })
	for _, tc := range []struct {
		name, client string
		tagsOnly     int // status with the tags alone
		withCIDRs    int // status with allowed_cidrs [198.51.100.0/24] too
	}{
		{"AzureActiveDirectory, IPv4", "20.190.130.5", http.StatusOK, http.StatusOK},
		{"AzureActiveDirectory, IPv6", "2603:1006:2000::1", http.StatusOK, http.StatusOK},
		{"AzureActiveDirectoryDomainServices only", "52.150.157.5", http.StatusForbidden, http.StatusForbidden},
		{"elsewhere", "203.0.113.9", http.StatusForbidden, http.StatusForbidden},
		{"allowed_cidrs", "198.51.100.7", http.StatusForbidden, http.StatusOK},
	} {
		for _, run := range []struct {
			h    *apptest.Harness
			want int
		}{{h, tc.tagsOnly}, {h2, tc.withCIDRs}} {
			r := run.h.Do("GET", "/Users?count=0", "", "X-Forwarded-For", tc.client)
			if r.Status != run.want {
				t.Errorf("%s (%s), allowed_cidrs %v: status %d, want %d", tc.name, tc.client, run.h.Cfg.Server.AllowedCIDRs, r.Status, run.want)
			}
			if r.Status == http.StatusForbidden {
				apptest.SCIMError(t, r, http.StatusForbidden, "")
			}
		}
	}
	// The proxy itself is no client of the tags.
	apptest.SCIMError(t, h.Do("GET", "/Users?count=0", ""), http.StatusForbidden, "")
}

// A new service tags file takes effect without a restart: on Reload (SIGHUP)
// and when the file changes, also after a reload moved it to another
// directory; a broken file, or one without the tag, is rejected and logged as
// a rejected configuration reload, and the previous list keeps serving.
func TestServiceTagsReload(t *testing.T) {
	t.Parallel()
	h := apptest.New(t, nil)
	data, err := os.ReadFile(sampleTags)
	if err != nil {
		t.Fatal(err)
	}
	tags := filepath.Join(t.TempDir(), "ServiceTags_Public.json")
	writeTags(t, tags, data)
	example := string(examples.OpenLDAP)
	const after = "  base_path: /scim/v2\n"
	if !strings.Contains(example, after) {
		t.Fatalf("examples/openldap.yaml no longer has %q", after)
	}
	withTags := func(file string) string {
		return strings.Replace(example, after, after+"  trusted_proxies: [127.0.0.1/32]\n"+
			"  allowed_service_tags: { file: "+file+", tags: [AzureActiveDirectory] }\n", 1)
	}
	cfgFile, src := configOnDisk(t, h, withTags(tags))
	logs := &testenv.LogBuffer{}
	app := appFromSource(t, src, apptest.Logger(logs))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := app.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer app.Stop(context.Background())
	base := "http://" + app.Addr() + "/scim/v2/Users?count=0"
	get := func(client string) int {
		req, _ := http.NewRequest("GET", base, nil)
		req.Header.Set("Authorization", "Bearer "+h.Token)
		req.Header.Set("X-Forwarded-For", client)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("GET from %s: %v", client, err)
			return 0
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	want := func(step string, statuses map[string]int) {
		t.Helper()
		for client, status := range statuses {
			if got := get(client); got != status {
				t.Errorf("%s: %s got %d, want %d", step, client, got, status)
			}
		}
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	entra, other, third := "20.190.130.5", "198.51.100.7", "203.0.113.9"
	want("at start", map[string]int{entra: 200, other: 403})

	// SIGHUP: Reload reads the file again.
	writeTags(t, tags, tagsWith("198.51.100.0/24"))
	if err := app.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	want("after Reload", map[string]int{entra: 403, other: 200})

	// The file changes while the bridge watches it.
	if err := app.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	writeTags(t, tags, tagsWith("20.190.128.0/18", "198.51.100.0/24"))
	waitFor("the changed file to take effect", func() bool { return get(entra) == 200 })
	want("after the change", map[string]int{other: 200, third: 403})

	// Broken files are rejected, logged, and change nothing.
	for i, bad := range []struct {
		data    []byte
		problem string
	}{
		{data[:200], `server.allowed_service_tags.file: ` + tags + ` is not an Azure service tags file`},
		{tagsWith("not-a-cidr"), `server.allowed_service_tags.tags[0]: tag \"AzureActiveDirectory\" in ` + tags + ` lists \"not-a-cidr\"`},
	} {
		writeTags(t, tags, bad.data)
		waitFor("the rejection in the log", func() bool {
			return strings.Count(logs.String(), "config reload rejected; still serving the previous configuration") == i+1
		})
		if !strings.Contains(logs.String(), bad.problem) {
			t.Errorf("the log lacks %s:\n%s", bad.problem, logs.String())
		}
		want("after a rejected file", map[string]int{entra: 200, other: 200, third: 403})
	}
	// Rejected like a configuration file: counted for the alert on reload errors.
	rec := httptest.NewRecorder()
	app.OpsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if m := `scimbridge_config_reloads_total{result="error"} 2`; !strings.Contains(rec.Body.String(), m) {
		t.Errorf("/metrics lacks %s", m)
	}

	// A reload that names a file in another directory watches that one.
	moved := filepath.Join(t.TempDir(), "ServiceTags_Public.json")
	writeTags(t, moved, tagsWith("203.0.113.0/24"))
	writeTags(t, cfgFile, []byte(withTags(moved)))
	waitFor("the moved file to take effect", func() bool { return get(third) == 200 })
	want("after the move", map[string]int{entra: 403, other: 403})
	writeTags(t, moved, tagsWith("198.51.100.0/24"))
	waitFor("a change of the moved file to take effect", func() bool { return get(other) == 200 })
	want("after the moved file changed", map[string]int{third: 403})
}
