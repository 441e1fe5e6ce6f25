package daemon

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/config"
)

// sampleTags is Microsoft's service tags format, trimmed: five entries of
// ServiceTags_Public_20210906.json (changeNumber 165, as kept in
// github.com/dinowang/azure-public-ip output/), each with a few of its real
// prefixes and every field as the file has it (regionId, networkFeatures
// null). AzureActiveDirectory.ServiceEndpoint and
// AzureActiveDirectoryDomainServices are the similar names that must not be
// taken for AzureActiveDirectory.
const sampleTags = "testdata/ServiceTags_Public_trimmed.json"

// sampleAAD are the AzureActiveDirectory prefixes in sampleTags.
var sampleAAD = []string{
	"13.64.151.161/32", "20.190.128.0/18", "40.126.0.0/18", "52.146.132.96/27",
	"2603:1006:2000::/48", "2603:1007:200::/48", "2603:1030:107:2::/120",
}

func readSample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(sampleTags)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// copySample writes sampleTags (or data, when given) to name in a new
// directory and returns its path.
func copySample(t *testing.T, name string, data []byte) string {
	t.Helper()
	if data == nil {
		data = readSample(t)
	}
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func netStrings(nets []*net.IPNet) []string {
	out := make([]string, len(nets))
	for i, n := range nets {
		out[i] = n.String()
	}
	return out
}

// Tags are found by name or id, ignoring case, and only exactly; what is
// missing, empty or not a CIDR is a problem at the tag's path.
func TestServiceTagsPrefixes(t *testing.T) {
	sample, err := parseServiceTags(readSample(t))
	if err != nil {
		t.Fatal(err)
	}
	const byID = `{"values": [{"name": "Shown", "id": "ById", "properties": {"addressPrefixes": ["192.0.2.0/24"]}},
		{"name": "Empty", "id": "Empty", "properties": {"addressPrefixes": []}},
		{"name": "Bad", "id": "Bad", "properties": {"addressPrefixes": ["192.0.2.0/24", "192.0.2.300/32"]}}]}`
	other, err := parseServiceTags([]byte(byID))
	if err != nil {
		t.Fatal(err)
	}
	const tagsPath = "server.allowed_service_tags.tags"
	for _, tc := range []struct {
		name     string
		file     *serviceTagsFile
		tags     []string
		want     []string // the prefixes, in order
		problems []string // "path: message" of each
	}{
		{name: "AzureActiveDirectory", file: sample, tags: []string{"AzureActiveDirectory"}, want: sampleAAD},
		{name: "any case", file: sample, tags: []string{"azureACTIVEdirectory"}, want: sampleAAD},
		{
			name: "a similar name is another tag", file: sample, tags: []string{"AzureActiveDirectory.ServiceEndpoint"},
			want: []string{"20.72.21.96/27", "20.190.128.0/26", "20.190.129.0/26", "2603:1006:2000::/121"},
		},
		{
			name: "two tags", file: sample, tags: []string{"AzureActiveDirectory", "Storage.WestEurope"},
			want: append(slices.Clone(sampleAAD), "13.69.40.16/28", "13.95.96.176/28"),
		},
		{name: "by id", file: other, tags: []string{"byid"}, want: []string{"192.0.2.0/24"}},
		{
			name: "misspelt", file: sample, tags: []string{"AzureActiveDirectory", "AzureActiveDirectroy"},
			problems: []string{tagsPath + `[1]: tag "AzureActiveDirectroy" is not in F (did you mean "AzureActiveDirectory"?)`},
		},
		{
			// No prefix match either way: AzureActive is not a tag.
			name: "a prefix of a name", file: sample, tags: []string{"AzureActive"},
			problems: []string{tagsPath + `[0]: tag "AzureActive" is not in F`},
		},
		{
			name: "no prefixes", file: other, tags: []string{"Empty"},
			problems: []string{tagsPath + `[0]: tag "Empty" lists no address prefixes in F`},
		},
		{
			name: "not a CIDR", file: other, tags: []string{"Bad"},
			problems: []string{tagsPath + `[0]: tag "Bad" in F lists "192.0.2.300/32", which is not a CIDR`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nets, ps := tc.file.prefixes("F", tc.tags)
			var got []string
			for _, p := range ps {
				got = append(got, p.Path+": "+p.Msg)
			}
			if !slices.Equal(got, tc.problems) {
				t.Errorf("problems %q\nwant %q", got, tc.problems)
			}
			if len(ps) == 0 && !slices.Equal(netStrings(nets), tc.want) {
				t.Errorf("prefixes %v\nwant %v", netStrings(nets), tc.want)
			}
		})
	}
}

// What is not Microsoft's file is refused with a problem at file, never
// taken for a file that lacks the tag.
func TestReadServiceTagsRefuses(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.json")
	for _, tc := range []struct {
		name string
		path string // a file written with data when empty
		data string
		want string // the message's start; "F" stands for the file
	}{
		{name: "missing", path: missing, want: "open " + missing + ": no such file or directory"},
		{name: "a directory", path: dir, want: dir + " is a directory"},
		{name: "empty", data: "", want: "F is not an Azure service tags file (ServiceTags_Public_YYYYMMDD.json): unexpected end of JSON input"},
		{name: "no values", data: `{"changeNumber": 1, "cloud": "Public"}`, want: `F is not an Azure service tags file (ServiceTags_Public_YYYYMMDD.json): no entries in "values"`},
		{name: "null", data: "null", want: "F is not an Azure service tags file"},
		{name: "a list", data: "[]", want: "F is not an Azure service tags file (ServiceTags_Public_YYYYMMDD.json): json: cannot unmarshal array"},
		{name: "an error page", data: "<html>Not found</html>", want: "F is not an Azure service tags file"},
		{name: "values of the wrong type", data: `{"values": {"name": "x"}}`, want: "F is not an Azure service tags file"},
		{name: "cut short", data: string(readSample(t)[:400]), want: "F is not an Azure service tags file (ServiceTags_Public_YYYYMMDD.json): unexpected end of JSON input"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := tc.path
			if path == "" {
				path = copySample(t, "ServiceTags_Public.json", []byte(tc.data))
			}
			list, ps := readServiceTags(config.ServiceTagsConfig{File: path, Tags: []string{"AzureActiveDirectory"}})
			if list != nil || len(ps) != 1 {
				t.Fatalf("got %v, %v; want one problem", list, ps)
			}
			want := strings.ReplaceAll(tc.want, "F", path)
			if ps[0].Path != "server.allowed_service_tags.file" || !strings.HasPrefix(ps[0].Msg, want) {
				t.Errorf("problem %s: %s\nwant server.allowed_service_tags.file: %s...", ps[0].Path, ps[0].Msg, want)
			}
		})
	}
}

// A file far larger than Microsoft's is not read into memory whole.
func TestReadLimited(t *testing.T) {
	f := copySample(t, "big.json", bytes.Repeat([]byte(" "), 3<<20))
	if _, _, err := readLimited(f, 2<<20); err == nil || !strings.Contains(err.Error(), "is larger than 2 MiB") {
		t.Errorf("err = %v", err)
	}
	if data, _, err := readLimited(f, 3<<20); err != nil || len(data) != 3<<20 {
		t.Errorf("%d bytes, %v", len(data), err)
	}
}

// The allow list is allowed_cidrs and the tags' prefixes, each once.
func TestMergeCIDRs(t *testing.T) {
	parse := func(cidrs ...string) []*net.IPNet { return parseCIDRs(cidrs) }
	for _, tc := range []struct {
		name  string
		cidrs []*net.IPNet
		tags  *serviceTagList
		want  []string
	}{
		{name: "allowed_cidrs only", cidrs: parse("192.0.2.0/24"), want: []string{"192.0.2.0/24"}},
		{name: "neither", want: nil},
		{
			name: "tags only", tags: &serviceTagList{prefixes: parse("20.190.128.0/18", "2603:1006:2000::/48")},
			want: []string{"20.190.128.0/18", "2603:1006:2000::/48"},
		},
		{
			name: "both, a network in each", cidrs: parse("192.0.2.0/24", "20.190.128.0/18"),
			tags: &serviceTagList{prefixes: parse("20.190.128.0/18", "40.126.0.0/18")},
			want: []string{"192.0.2.0/24", "20.190.128.0/18", "40.126.0.0/18"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := netStrings(mergeCIDRs(tc.cidrs, tc.tags)); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// The file's age comes from Microsoft's date in its name (also through a
// symbolic link), else from its modification time; over 30 days it warns.
func TestServiceTagsAge(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, mod time.Time) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, readSample(t), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, mod, mod); err != nil {
			t.Fatal(err)
		}
		return f
	}
	now := time.Date(2026, 3, 30, 12, 0, 0, 0, time.UTC)
	dated := write("ServiceTags_Public_20260216.json", now) // 42 days old by its name, written just now
	undatedOld := write("ServiceTags_Public.json", now.Add(-40*24*time.Hour))
	undatedNew := write("tags.json", now.Add(-29*24*time.Hour))
	fresh := write("ServiceTags_Public_20260323.json", now.Add(-90*24*time.Hour))
	link := filepath.Join(dir, "current.json")
	if err := os.Symlink(filepath.Base(dated), link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, file string
		want       string // the warning's end; "" for none
	}{
		{name: "dated name", file: dated, want: "is 42 days old (by the date in its name, ServiceTags_Public_20260216.json)"},
		{name: "dated target of a link", file: link, want: "is 42 days old (by the date in its name, ServiceTags_Public_20260216.json)"},
		{name: "old modification time", file: undatedOld, want: "is 40 days old (by its modification time)"},
		{name: "recent modification time", file: undatedNew},
		{name: "the name wins over an old modification time", file: fresh},
	} {
		t.Run(tc.name, func(t *testing.T) {
			list, ps := readServiceTags(config.ServiceTagsConfig{File: tc.file, Tags: []string{"AzureActiveDirectory"}})
			if len(ps) > 0 {
				t.Fatal(ps.Err())
			}
			w := list.staleWarning(now)
			switch {
			case tc.want == "" && w != "":
				t.Errorf("warning %q, want none", w)
			case tc.want != "" && !strings.HasPrefix(w, "server.allowed_service_tags.file: "+tc.file+" "+tc.want):
				t.Errorf("warning %q\nwant ...%s", w, tc.want)
			}
		})
	}
}

// prepServer is a prepTemplate file with lines added under server:.
func prepServer(t *testing.T, pf prepFields, lines string) string {
	t.Helper()
	f := prepFile(t, pf)
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	const after = "  listen: 127.0.0.1:0\n"
	if err := os.WriteFile(f, []byte(strings.Replace(string(data), after, after+lines, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// Prepare, which validate (--offline too), serve and Reload share, reads the
// file: its problems come with the configuration's, each at its line, and
// its age warning with the configuration's warnings.
func TestPrepareServiceTags(t *testing.T) {
	good := copySample(t, "ServiceTags_Public_20200106.json", nil) // years old by its name
	broken := copySample(t, "ServiceTags_Public.json", readSample(t)[:100])
	tagsAt := func(file, tag string) string {
		return "  allowed_cidrs: [192.0.2.0/24]\n  allowed_service_tags:\n    file: " + file + "\n    tags: [" + tag + "]\n"
	}
	for _, tc := range []struct {
		name     string
		pf       prepFields
		lines    string
		problems []string
		cidrs    int  // the allow list's length, without problems
		stale    bool // the age warning is among the configuration's warnings
	}{
		{name: "good, old", pf: valid, lines: tagsAt(good, "AzureActiveDirectory"), cidrs: 1 + len(sampleAAD), stale: true},
		{
			name: "missing tag", pf: valid, lines: tagsAt(good, "AzureActiveDirectroy"),
			problems: []string{`line 6: server.allowed_service_tags.tags[0]: tag "AzureActiveDirectroy" is not in ` + good +
				` (did you mean "AzureActiveDirectory"?)`},
		},
		{
			name: "broken file", pf: valid, lines: tagsAt(broken, "AzureActiveDirectory"),
			problems: []string{"line 5: server.allowed_service_tags.file: " + broken + " is not an Azure service tags file"},
		},
		{
			// validate names every mistake in one run.
			name: "and another problem", pf: valid.with(func(f *prepFields) { f.poolSize = -1 }),
			lines: tagsAt(broken, "AzureActiveDirectory"),
			problems: []string{
				"line 14: ldap.pool_size: must be between 1 and 256, got -1",
				"line 5: server.allowed_service_tags.file: " + broken + " is not an Azure service tags file",
			},
		},
	} {
		for _, kind := range []PoolKind{NoPool, ServePool} {
			t.Run(tc.name, func(t *testing.T) {
				f := prepServer(t, tc.pf, tc.lines)
				p, err := Prepare(config.Source{File: f}, PrepareOptions{Pool: kind})
				if p != nil && p.Pool != nil {
					defer p.Pool.Close()
				}
				got := joined(err)
				if len(got) != len(tc.problems) {
					t.Fatalf("problems: %v, want %d", err, len(tc.problems))
				}
				for i, e := range got {
					if !strings.HasPrefix(e.Error(), tc.problems[i]) {
						t.Errorf("problem %q\nwant %q...", e, tc.problems[i])
					}
				}
				if err != nil {
					return
				}
				if kind == ServePool && len(p.AllowedCIDRs) != tc.cidrs {
					t.Errorf("allow list %v, want %d networks", netStrings(p.AllowedCIDRs), tc.cidrs)
				}
				stale := slices.ContainsFunc(p.Config.Warnings(), func(w string) bool {
					return strings.HasPrefix(w, "server.allowed_service_tags.file: "+good+" is ")
				})
				if stale != tc.stale {
					t.Errorf("warnings %q; the file's age among them: %v, want %v", p.Config.Warnings(), stale, tc.stale)
				}
			})
		}
	}
}

// A serving bridge logs the file's age warning on each reload and on its
// daily check, from the serving configuration.
func TestWarnStale(t *testing.T) {
	tags := copySample(t, "ServiceTags_Public_20260216.json", nil)
	f := prepServer(t, valid, "  allowed_service_tags: { file: "+tags+", tags: [AzureActiveDirectory] }\n")
	var logs bytes.Buffer
	// A port where nothing listens (not the template's port 1, which a
	// slapd of another test on this machine may hold), and a password, or
	// the checks refuse the empty one before they dial.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()
	env := []string{"SCIMBRIDGE_LDAP__URL=ldap://" + closed, "SCIMBRIDGE_LDAP__BIND_PASSWORD=secret"}
	src := config.Source{File: f, Environ: func() []string { return env }}
	p, err := Prepare(src, PrepareOptions{Log: func(config.LogConfig) zerolog.Logger { return zerolog.New(&logs) }})
	if err != nil {
		t.Fatal(err)
	}
	app, err := p.NewApp()
	if err != nil {
		t.Fatal(err)
	}
	defer app.Pool().Close()
	// A reload logs it too, also when the directory does not answer the
	// checks that bring the configuration's warnings.
	app.Source = &src
	if err := app.Reload(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"message":"config reload"`) || !strings.Contains(logs.String(), tags+" is ") {
		t.Errorf("the reload did not log the age warning:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"change_number":165`) || !strings.Contains(logs.String(), `"prefixes":7`) {
		t.Errorf("no service tags line with the change number and the prefixes read:\n%s", logs.String())
	}
	logs.Reset()
	app.warnStale(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))
	if logs.Len() != 0 {
		t.Errorf("a 13-day-old file warned: %s", logs.String())
	}
	app.warnStale(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
	if !strings.Contains(logs.String(), `"level":"warn"`) || !strings.Contains(logs.String(), tags+" is 44 days old") {
		t.Errorf("no warning for a 44-day-old file:\n%s", logs.String())
	}
}

// FuzzServiceTags: no input panics the parser or the lookup, and a file that
// parses gives each tag either prefixes or a problem, never an empty list
// without one (an empty allow list lets everyone in).
func FuzzServiceTags(f *testing.F) {
	f.Add(readSample(f), "AzureActiveDirectory")
	f.Add(readSample(f), "azureactivedirectory.serviceendpoint")
	f.Add([]byte(`{"values":[{"name":"A","id":"B","properties":{"addressPrefixes":["1.2.3.0/24","::/0"]}}]}`), "b")
	f.Add([]byte(`{"values":[{"name":"A","properties":{"addressPrefixes":[]}}]}`), "A")
	f.Add([]byte(`{"values":[{"name":"Ä","properties":{"addressPrefixes":["x"]}}]}`), "Ä")
	f.Add([]byte(`{"values":[null]}`), "")
	f.Add([]byte(`null`), "A")
	f.Add([]byte(`{"changeNumber":"1"}`), "A")
	f.Fuzz(func(t *testing.T, data []byte, tag string) {
		file, err := parseServiceTags(data)
		if err != nil {
			return
		}
		if len(file.Values) == 0 {
			t.Fatal("a file without entries parsed")
		}
		nets, ps := file.prefixes("F", []string{tag})
		if len(ps) == 0 && len(nets) == 0 {
			t.Fatalf("tag %q: no prefixes and no problem", tag)
		}
		for _, n := range nets {
			if n == nil || n.IP == nil || n.Mask == nil {
				t.Fatalf("tag %q: prefix %v", tag, n)
			}
		}
		for _, p := range ps {
			if !strings.HasPrefix(p.Path, "server.allowed_service_tags.tags[0]") {
				t.Fatalf("problem at %q", p.Path)
			}
		}
	})
}
