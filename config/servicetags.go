package config

import (
	"fmt"
	"slices"
	"strings"
)

// ServiceTagsConfig lets the address ranges of Azure service tags connect, as
// if listed in server.allowed_cidrs:
//
//	server:
//	  allowed_service_tags:
//	    file: /etc/scimbridge/ServiceTags_Public.json
//	    tags: [AzureActiveDirectory]
//
// File is Microsoft's "Azure IP Ranges and Service Tags – Public Cloud"
// download (ServiceTags_Public_YYYYMMDD.json, published weekly). This package
// does not read it, as it reads no file the configuration names (certificates
// neither): daemon.Prepare does, reports what is wrong with it as problems at
// these paths, and adds its age warning with AddWarning. See
// docs/service-tags.md.
type ServiceTagsConfig struct {
	File string `koanf:"file"`
	// Tags are matched against each entry's name or id, ignoring case, and
	// only exactly: AzureActiveDirectory does not take in
	// AzureActiveDirectory.ServiceEndpoint, nor the other way round.
	Tags []string `koanf:"tags"`
}

// validateServiceTags checks server.allowed_service_tags without reading the
// file: both keys or neither, and each tag named once.
func validateServiceTags(ps *Problems, s ServiceTagsConfig) {
	const p = "server.allowed_service_tags"
	switch {
	case s.File == "" && len(s.Tags) > 0:
		ps.Add(p+".file", "is required with tags: Microsoft's ServiceTags_Public_YYYYMMDD.json (docs/service-tags.md)")
	case s.File != "" && len(s.Tags) == 0:
		ps.Add(p+".tags", "is required with file: the tags whose ranges may connect, [AzureActiveDirectory] for Entra")
	}
	for i, tag := range s.Tags {
		path := fmt.Sprintf("%s.tags[%d]", p, i)
		switch {
		case strings.TrimSpace(tag) == "":
			ps.Add(path, "must not be empty")
		case slices.ContainsFunc(s.Tags[:i], func(t string) bool { return strings.EqualFold(t, tag) }):
			ps.Add(path, "%q is listed twice", tag)
		}
	}
}

// AddWarning records a warning about a file the configuration names, found
// by whoever read it (daemon.Prepare: the age of
// server.allowed_service_tags.file), so that Warnings, which `validate`
// prints and the daemon logs, reports it with the configuration's own. A
// warning already recorded is not added again.
func (c *Config) AddWarning(w string) {
	if !slices.Contains(c.found, w) {
		c.found = append(c.found, w)
	}
}
