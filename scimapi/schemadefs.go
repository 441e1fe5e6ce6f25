package scimapi

import "strings"

// schemaAttr is one attribute definition of a Schema resource (RFC 7643 §7).
// Every characteristic is written out, also where it equals the RFC 7643 §2.2
// default, and nothing is ever null (Entra rejects nulls, docs/entra-wire-reference.md §1.3).
type schemaAttr struct {
	Name            string       `json:"name"`
	Type            string       `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      string       `json:"mutability"`
	Returned        string       `json:"returned"`
	Uniqueness      string       `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []schemaAttr `json:"subAttributes,omitempty"`
}

// Builders for the tables below. They start from the RFC 7643 §2.2 defaults
// (single-valued, optional, case-insensitive, readWrite, returned by default,
// not unique); the methods return modified copies.

func attrOf(typ, name, desc string) schemaAttr {
	return schemaAttr{
		Name: name, Type: typ, Description: desc,
		Mutability: "readWrite", Returned: "default", Uniqueness: "none",
	}
}

func str(name, desc string) schemaAttr     { return attrOf("string", name, desc) }
func boolean(name, desc string) schemaAttr { return attrOf("boolean", name, desc) }

func ref(name, desc string, types ...string) schemaAttr {
	a := attrOf("reference", name, desc)
	a.ReferenceTypes = types
	return a
}

func complexAttr(name, desc string, multi bool, subs ...schemaAttr) schemaAttr {
	a := attrOf("complex", name, desc)
	a.MultiValued, a.SubAttributes = multi, subs
	return a
}

func (a schemaAttr) required() schemaAttr { a.Required = true; return a }

func (a schemaAttr) unique(u string) schemaAttr { a.Uniqueness = u; return a }

func (a schemaAttr) canon(v ...string) schemaAttr { a.CanonicalValues = v; return a }

// mut sets the mutability of a and of all its sub-attributes.
func (a schemaAttr) mut(m string) schemaAttr {
	a.Mutability = m
	subs := make([]schemaAttr, len(a.SubAttributes))
	for i, s := range a.SubAttributes {
		subs[i] = s.mut(m)
	}
	if len(subs) > 0 {
		a.SubAttributes = subs
	}
	return a
}

// plural is a multi-valued attribute with the RFC 7643 §2.4 sub-attributes
// value, display, type and primary.
func plural(name, desc string, value schemaAttr, types ...string) schemaAttr {
	return complexAttr(name, desc, true,
		value,
		str("display", "A human-readable name, primarily used for display purposes."),
		str("type", "A label indicating the attribute's function.").canon(types...),
		boolean("primary", "Whether this is the preferred value; true appears at most once."),
	)
}

// userAttrs are the User attributes of RFC 7643 §4.1 in the order of the
// §8.7.1 listing. The common attributes id, externalId and meta (§3.1) are not
// part of any schema's attribute list, as in §8.7.1; password is not served.
var userAttrs = []schemaAttr{
	str("userName", "Unique identifier for the User, used by the user to authenticate. REQUIRED.").
		required().unique("server"),
	complexAttr("name", "The components of the user's real name.", false,
		str("formatted", "The full name, formatted for display."),
		str("familyName", "The family name of the User."),
		str("givenName", "The given name of the User."),
		str("middleName", "The middle name(s) of the User."),
		str("honorificPrefix", "The honorific prefix(es) of the User."),
		str("honorificSuffix", "The honorific suffix(es) of the User."),
	),
	str("displayName", "The name of the User, suitable for display to end-users."),
	str("nickName", "The casual way to address the user."),
	ref("profileUrl", "A URL of a page representing the User's online profile.", "external"),
	str("title", "The user's title, such as \"Vice President\"."),
	str("userType", "The relationship between the organization and the user, e.g. 'Employee'."),
	str("preferredLanguage", "The User's preferred written or spoken language, e.g. 'en-US'."),
	str("locale", "The User's default location for localizing items such as currency and dates."),
	str("timezone", "The User's time zone in IANA format, e.g. 'America/Los_Angeles'."),
	boolean("active", "The User's administrative status."),
	plural("emails", "Email addresses for the User.",
		str("value", "An email address for the User."), "work", "home", "other"),
	plural("phoneNumbers", "Phone numbers for the User.",
		str("value", "A phone number of the User."), "work", "home", "mobile", "fax", "pager", "other"),
	plural("ims", "Instant messaging addresses for the User.",
		str("value", "An instant messaging address for the User."),
		"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
	plural("photos", "URLs of photos of the User.",
		ref("value", "The URL of a photo of the User.", "external"), "photo", "thumbnail"),
	complexAttr("addresses", "Physical mailing addresses for the User.", true,
		str("formatted", "The full mailing address, formatted for display."),
		str("streetAddress", "The full street address component."),
		str("locality", "The city or locality component."),
		str("region", "The state or region component."),
		str("postalCode", "The zip code or postal code component."),
		str("country", "The country name component."),
		str("type", "A label indicating the attribute's function.").canon("work", "home", "other"),
		boolean("primary", "Whether this is the preferred address; true appears at most once."),
	),
	// The bridge lists only direct memberships in groups it manages.
	complexAttr("groups", "The groups the User belongs to.", true,
		str("value", "The id of the Group."),
		ref("$ref", "The URI of the Group.", "Group"),
		str("display", "The displayName of the Group."),
		str("type", "How the membership is derived.").canon("direct", "indirect"),
	).mut("readOnly"),
	plural("entitlements", "Entitlements of the User.", str("value", "The value of an entitlement.")),
	plural("roles", "Roles of the User.", str("value", "The value of a role.")),
	plural("x509Certificates", "Certificates issued to the User.",
		attrOf("binary", "value", "The value of an X.509 certificate (base64 DER).")),
}

// enterpriseAttrDefs are the enterprise User extension of RFC 7643 §4.3, in the
// order of the §8.7.1 listing.
var enterpriseAttrDefs = []schemaAttr{
	str("employeeNumber", "An identifier assigned to a person, typically based on order of hire."),
	str("costCenter", "The name of a cost center."),
	str("organization", "The name of an organization."),
	str("division", "The name of a division."),
	str("department", "The name of a department."),
	complexAttr("manager", "The User's manager, a reference to another User.", false,
		str("value", "The id of the manager's User resource."),
		ref("$ref", "The URI of the manager's User resource.", "User"),
	),
}

// groupAttrs are the Group attributes of RFC 7643 §4.2. displayName is
// required because the bridge rejects a group without one (§4.2 says
// "REQUIRED"; the §8.7.1 listing's required: false contradicts its own
// description). Members are users only: the bridge does not nest groups.
var groupAttrs = []schemaAttr{
	str("displayName", "A human-readable name for the Group. REQUIRED.").required(),
	complexAttr("members", "A list of members of the Group.", true,
		str("value", "The id of the member.").mut("immutable"),
		ref("$ref", "The URI of the member's resource.", "User").mut("immutable"),
		str("display", "The displayName of the member.").mut("readOnly"),
		str("type", "The type of the member's resource.").canon("User").mut("immutable"),
	),
}

// findAttr looks name up case-insensitively (RFC 7643 §2.1).
func findAttr(defs []schemaAttr, name string) (schemaAttr, bool) {
	for _, d := range defs {
		if strings.EqualFold(d.Name, name) {
			return d, true
		}
	}
	return schemaAttr{}, false
}
