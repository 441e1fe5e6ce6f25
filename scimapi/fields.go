package scimapi

import "github.com/scimbridge/scimbridge/scimapi/scimreq"

// Fields are the attributes a client asked for (scimreq.Fields).
type Fields = scimreq.Fields
