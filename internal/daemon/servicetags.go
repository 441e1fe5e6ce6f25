package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/config"
)

// Microsoft publishes the address ranges of Azure's services, by service tag,
// in a JSON file that changes weekly ("Azure IP Ranges and Service Tags –
// Public Cloud", https://www.microsoft.com/download/details.aspx?id=56519;
// its fields: the Az.Network Get-AzNetworkServiceTag reference and
// articles/virtual-network/service-tags-overview.md in MicrosoftDocs/azure-docs).
// Entra's provisioning service connects from the ranges of the
// AzureActiveDirectory tag (MicrosoftDocs/entra-docs
// use-scim-to-provision-users-and-groups.md, "IP Ranges"), so
// server.allowed_service_tags reads them from that file instead of an admin
// copying them into allowed_cidrs. docs/service-tags.md has the sources.

// serviceTagsFile is the file: every field Microsoft documents, although the
// bridge uses only the names and the prefixes; the rest is for the log.
// Unknown fields (regionId) are ignored, so a field Microsoft adds breaks
// nothing.
type serviceTagsFile struct {
	// ChangeNumber goes up whenever any tag changes: a version, not a date.
	ChangeNumber int64        `json:"changeNumber"`
	Cloud        string       `json:"cloud"`
	Values       []serviceTag `json:"values"`
}

// serviceTag is one entry of values: a tag (AzureActiveDirectory) or a
// regional or partial one (Storage.WestEurope,
// AzureActiveDirectory.ServiceEndpoint).
type serviceTag struct {
	Name       string `json:"name"`
	ID         string `json:"id"`
	Properties struct {
		ChangeNumber  int64  `json:"changeNumber"`
		Region        string `json:"region"`
		Platform      string `json:"platform"`
		SystemService string `json:"systemService"`
		// AddressPrefixes are IPv4 and IPv6 CIDRs.
		AddressPrefixes []string `json:"addressPrefixes"`
		// NetworkFeatures is null for many entries.
		NetworkFeatures []string `json:"networkFeatures"`
	} `json:"properties"`
}

// maxServiceTagsBytes bounds the read: the Public file is a few MB; anything
// far larger is not that file, and must not be read into memory whole.
const maxServiceTagsBytes = 64 << 20

// parseServiceTags decodes the file; one without a single entry in values is
// refused, so that an empty download (or a JSON error page) is not taken for
// a file in which no tag exists.
func parseServiceTags(data []byte) (*serviceTagsFile, error) {
	var f serviceTagsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, err
	}
	if len(f.Values) == 0 {
		return nil, errors.New(`no entries in "values"`)
	}
	return &f, nil
}

// lookup returns the entry whose name or id is tag, ignoring case, or nil.
// Only an exact match counts: Microsoft's Entra docs ask for the
// AzureActiveDirectory tag, "not a subtag such as
// AzureActiveDirectory.ServiceEndpoint", whose ranges lack some of the
// provisioning service's addresses.
func (f *serviceTagsFile) lookup(tag string) *serviceTag {
	for i := range f.Values {
		if v := &f.Values[i]; strings.EqualFold(v.Name, tag) || strings.EqualFold(v.ID, tag) {
			return v
		}
	}
	return nil
}

// prefixes parses the CIDRs of the tags (config paths tags[i]) into nets,
// with a problem for each tag that is missing, lists no prefix or lists one
// that is not a CIDR. A tag without prefixes is a problem and not a no-op,
// because with allowed_cidrs empty the allow list would be empty, which lets
// everyone in.
func (f *serviceTagsFile) prefixes(file string, tags []string) ([]*net.IPNet, config.Problems) {
	var nets []*net.IPNet
	var ps config.Problems
	for i, tag := range tags {
		path := fmt.Sprintf("server.allowed_service_tags.tags[%d]", i)
		v := f.lookup(tag)
		if v == nil {
			ps.Add(path, "tag %q is not in %s%s", tag, file, f.suggest(tag))
			continue
		}
		if len(v.Properties.AddressPrefixes) == 0 {
			ps.Add(path, "tag %q lists no address prefixes in %s", tag, file)
			continue
		}
		for _, cidr := range v.Properties.AddressPrefixes {
			_, n, err := net.ParseCIDR(cidr)
			if err != nil {
				ps.Add(path, "tag %q in %s lists %q, which is not a CIDR", tag, file, cidr)
				break
			}
			nets = append(nets, n)
		}
	}
	return nets, ps
}

// suggest is " (did you mean "X"?)" for the entry nearest to a tag not
// found, or "".
func (f *serviceTagsFile) suggest(tag string) string {
	names := make([]string, 0, len(f.Values))
	for _, v := range f.Values {
		names = append(names, v.Name)
	}
	if s := config.Suggest(tag, names); s != "" {
		return " (" + strings.TrimPrefix(s, "; ") + ")"
	}
	return ""
}

// serviceTagList is one reading of the file: the prefixes of the configured
// tags, and what the log and the age warning say about the file.
type serviceTagList struct {
	file         string
	cloud        string
	changeNumber int64
	prefixes     []*net.IPNet
	// date is when the data is from, as dateFrom says (fileDate).
	date     time.Time
	dateFrom string
}

// readServiceTags reads the file that sc names and the prefixes of its tags.
// What is wrong comes back as problems at sc's paths: the file's at
// server.allowed_service_tags.file, a tag's at its tags[i].
func readServiceTags(sc config.ServiceTagsConfig) (*serviceTagList, config.Problems) {
	const filePath = "server.allowed_service_tags.file"
	var ps config.Problems
	data, mod, err := readLimited(sc.File, maxServiceTagsBytes)
	if err != nil {
		ps.Add(filePath, "%v", err)
		return nil, ps
	}
	f, err := parseServiceTags(data)
	if err != nil {
		ps.Add(filePath, "%s is not an Azure service tags file (ServiceTags_Public_YYYYMMDD.json): %v", sc.File, err)
		return nil, ps
	}
	nets, ps := f.prefixes(sc.File, sc.Tags)
	if len(ps) > 0 {
		return nil, ps
	}
	date, from := fileDate(sc.File, mod)
	return &serviceTagList{
		file: sc.File, cloud: f.Cloud, changeNumber: f.ChangeNumber, prefixes: nets, date: date, dateFrom: from,
	}, nil
}

// readLimited reads at most limit bytes of file, and its modification time.
func readLimited(file string, limit int64) ([]byte, time.Time, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, time.Time{}, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, time.Time{}, err
	}
	if st.IsDir() {
		return nil, time.Time{}, fmt.Errorf("%s is a directory", file)
	}
	data, err := io.ReadAll(io.LimitReader(fh, limit+1))
	if err != nil {
		return nil, time.Time{}, err
	}
	if int64(len(data)) > limit {
		return nil, time.Time{}, fmt.Errorf("%s is larger than %d MiB: not an Azure service tags file", file, limit>>20)
	}
	return data, st.ModTime(), nil
}

// datedName is the date in Microsoft's file name, ServiceTags_Public_20260323.json.
var datedName = regexp.MustCompile(`(?i)_(\d{8})\.json$`)

// fileDate says how old the file's data is. The file itself carries no date:
// changeNumber only counts changes. Microsoft's file name does
// (ServiceTags_Public_20260323.json: the week it was published), so that date
// is used when the configured path, or the file a symbolic link at it points
// to, still has that name: it survives copies, rsync and config management,
// which reset the modification time. Otherwise the modification time is the
// fallback, which tells when the file was written here: a refresh that
// fetched an old file again looks new by it.
func fileDate(path string, mod time.Time) (date time.Time, from string) {
	names := []string{path}
	if target, err := filepath.EvalSymlinks(path); err == nil && target != path {
		names = append(names, target)
	}
	for _, n := range names {
		if m := datedName.FindStringSubmatch(filepath.Base(n)); m != nil {
			if d, err := time.Parse("20060102", m[1]); err == nil {
				return d, "the date in its name, " + filepath.Base(n)
			}
		}
	}
	return mod, "its modification time"
}

// serviceTagsMaxAge is when the file is old enough to warn: Microsoft
// publishes it weekly and starts using a new range at least a week after it
// first appears in it (service-tags-overview.md, "Tips"), so a file missing
// four publications may lack ranges Entra already connects from.
const serviceTagsMaxAge = 30 * 24 * time.Hour

// staleWarning is the warning for a file older than serviceTagsMaxAge at
// now, or "".
func (l *serviceTagList) staleWarning(now time.Time) string {
	age := now.Sub(l.date)
	if age <= serviceTagsMaxAge {
		return ""
	}
	return fmt.Sprintf("server.allowed_service_tags.file: %s is %d days old (by %s); Microsoft publishes it weekly "+
		"and uses new ranges from a week after publishing them, so Entra may connect from addresses it lacks: "+
		"refresh it (docs/service-tags.md)", l.file, int(age.Hours()/24), l.dateFrom)
}

// mergeCIDRs is the allow list: allowed_cidrs and the service tags' prefixes,
// each network once.
func mergeCIDRs(cidrs []*net.IPNet, tags *serviceTagList) []*net.IPNet {
	if tags == nil {
		return cidrs
	}
	out := make([]*net.IPNet, 0, len(cidrs)+len(tags.prefixes))
	seen := map[string]bool{}
	for _, n := range slices.Concat(cidrs, tags.prefixes) {
		if s := n.String(); !seen[s] {
			seen[s] = true
			out = append(out, n)
		}
	}
	return out
}
