// Package examples embeds the example configurations, so `scimbridge demo` runs
// on the same file an admin starts from.
package examples

import _ "embed"

// OpenLDAP is examples/openldap.yaml.
//
//go:embed openldap.yaml
var OpenLDAP []byte
