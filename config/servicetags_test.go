package config_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/examples"
)

// withServer is examples/openldap.yaml with lines added under server:.
func withServer(t *testing.T, lines string) []byte {
	t.Helper()
	yaml := string(examples.OpenLDAP)
	const after = "  base_path: /scim/v2\n"
	if !strings.Contains(yaml, after) {
		t.Fatalf("examples/openldap.yaml no longer has %q", after)
	}
	return []byte(strings.Replace(yaml, after, after+lines, 1))
}

// server.allowed_service_tags is checked without reading the file (daemon
// reads it): both keys or neither, each tag once and not empty.
func TestAllowedServiceTagsValidate(t *testing.T) {
	for _, tc := range []struct {
		name, lines string
		want        []string // "path: message" of each problem, in order
	}{
		{name: "neither", lines: ""},
		{name: "both", lines: "  allowed_service_tags: { file: /etc/scimbridge/ServiceTags_Public.json, tags: [AzureActiveDirectory] }\n"},
		{
			name: "tags without file", lines: "  allowed_service_tags: { tags: [AzureActiveDirectory] }\n",
			want: []string{"server.allowed_service_tags.file: is required with tags"},
		},
		{
			name: "file without tags", lines: "  allowed_service_tags: { file: /etc/scimbridge/ServiceTags_Public.json }\n",
			want: []string{"server.allowed_service_tags.tags: is required with file"},
		},
		{
			name:  "empty and repeated tags",
			lines: "  allowed_service_tags:\n    file: /x.json\n    tags: [AzureActiveDirectory, \"\", azureactivedirectory]\n",
			want: []string{
				"server.allowed_service_tags.tags[1]: must not be empty",
				`server.allowed_service_tags.tags[2]: "azureactivedirectory" is listed twice`,
			},
		},
		{
			name: "misspelt key", lines: "  allowed_service_tag: { file: /x.json, tags: [AzureActiveDirectory] }\n",
			want: []string{`server.allowed_service_tag: unknown key; did you mean "allowed_service_tags"?`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := config.Load(config.Source{Data: withServer(t, tc.lines), Environ: exampleEnv()})
			if cfg == nil {
				t.Fatalf("Load: %v", err)
			}
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			got := problems(t, err)
			if len(got) != len(tc.want) {
				t.Fatalf("problems %v, want %d", err, len(tc.want))
			}
			for i, p := range got {
				if s := p.Path + ": " + p.Msg; !strings.HasPrefix(s, tc.want[i]) {
					t.Errorf("problem %q, want %q...", s, tc.want[i])
				}
			}
		})
	}
}

// The keys decode, also from the environment (a refresh job checks a new
// file with SCIMBRIDGE_SERVER__ALLOWED_SERVICE_TAGS__FILE before it takes it).
func TestAllowedServiceTagsDecode(t *testing.T) {
	data := withServer(t, "  allowed_service_tags: { file: /etc/scimbridge/ServiceTags_Public.json, tags: [AzureActiveDirectory] }\n")
	cfg, err := config.Load(config.Source{Data: data, Environ: exampleEnv("SCIMBRIDGE_SERVER__ALLOWED_SERVICE_TAGS__FILE=/tmp/new.json")})
	if err != nil {
		t.Fatal(err)
	}
	got := cfg.Server.AllowedServiceTags
	if got.File != "/tmp/new.json" || !slices.Equal(got.Tags, []string{"AzureActiveDirectory"}) {
		t.Errorf("allowed_service_tags = %+v", got)
	}
}

// A warning added by whoever read a named file comes out of Warnings with the
// configuration's own, once however often it is added.
func TestAddWarning(t *testing.T) {
	cfg, err := config.Load(config.Source{Data: examples.OpenLDAP, Environ: exampleEnv()})
	if err != nil {
		t.Fatal(err)
	}
	if ws := cfg.Warnings(); len(ws) != 0 {
		t.Fatalf("warnings before: %v", ws)
	}
	const w = "server.allowed_service_tags.file: /x.json is 45 days old"
	cfg.AddWarning(w)
	cfg.AddWarning(w)
	if ws := cfg.Warnings(); !slices.Equal(ws, []string{w}) {
		t.Errorf("Warnings = %q, want [%q]", ws, w)
	}
}
