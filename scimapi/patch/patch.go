// Package patch parses SCIM PATCH requests (RFC 7644 §3.5.2) and applies them to
// a resource held as decoded JSON. It accepts the two dialects Microsoft Entra ID
// speaks (see docs/entra-wire-reference.md §3): capitalised op names, booleans as
// strings, path-less replace with dotted and URN keys, remove with a value list.
package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
	"github.com/scimbridge/scimbridge/scimapi/scimjson"
)

// SchemaPatchOp is the schema URN of a PATCH body (RFC 7644 §3.5.2).
const SchemaPatchOp = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// Operation is one validated PATCH operation.
type Operation struct {
	// Op is add, replace or remove, lower-cased: Entra's default dialect sends
	// Add/Replace/Remove.
	Op string
	// Path is nil for a path-less operation.
	Path *filter.Path
	// Value is the decoded JSON value (json.Number for numbers), nil if absent.
	Value any
}

// MaxOperations bounds one request; Entra sends a handful, a group sync a few
// hundred member values at most in one operation.
const MaxOperations = 1000

// Parse decodes and validates a PATCH body. Errors are scimerr errors with the
// scimType RFC 7644 §3.12 prescribes (invalidSyntax, invalidPath, noTarget,
// invalidValue).
//
// The body is decoded once, into plain JSON values (scimjson.Decode), which
// refuses two keys that differ only in case at any level: {"op":"add",
// "Op":"remove"}, or "userName" and "UserName" in a path-less value, would
// otherwise be read by map order. The member names (schemas, Operations, op,
// path, value) are then matched ignoring case, as encoding/json matches
// struct fields; unknown members are ignored.
func Parse(body []byte) ([]Operation, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	v, err := scimjson.Decode(dec)
	if err != nil {
		var se *scimerr.Error
		if errors.As(err, &se) { // a duplicate key, already worded
			return nil, err
		}
		return nil, scimerr.Wrap(scimerr.InvalidSyntax, err, "request body is not a valid PATCH request")
	}
	if v == nil { // a body of null is a request without operations
		v = map[string]any{}
	}
	req, ok := v.(map[string]any)
	if !ok {
		return nil, scimerr.New(scimerr.InvalidSyntax, "request body is not a valid PATCH request: not a JSON object")
	}
	if raw, _ := scimjson.Lookup(req, "schemas"); raw != nil {
		schemas, ok := stringList(raw)
		if !ok {
			return nil, scimerr.New(scimerr.InvalidSyntax, "schemas must be a list of strings")
		}
		if len(schemas) > 0 && !containsFold(schemas, SchemaPatchOp) {
			return nil, scimerr.New(scimerr.InvalidSyntax, "schemas must contain %s", SchemaPatchOp)
		}
	}
	raw, _ := scimjson.Lookup(req, "Operations")
	list, ok := raw.([]any)
	if raw != nil && !ok {
		return nil, scimerr.New(scimerr.InvalidSyntax, "Operations must be a list")
	}
	if len(list) == 0 {
		return nil, scimerr.New(scimerr.InvalidSyntax, "Operations is empty")
	}
	if len(list) > MaxOperations {
		return nil, scimerr.New(scimerr.TooMany, "more than %d operations", MaxOperations)
	}
	ops := make([]Operation, 0, len(list))
	for i, el := range list {
		op, err := parseOperation(i, el)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// parseOperation validates Operations[i]. A null element reads as an
// operation without op, as encoding/json decoded it before.
func parseOperation(i int, el any) (Operation, error) {
	w, ok := el.(map[string]any)
	if el != nil && !ok {
		return Operation{}, scimerr.New(scimerr.InvalidSyntax, "Operations[%d] must be an object", i)
	}
	rawOp, _ := scimjson.Lookup(w, "op")
	opName, ok := rawOp.(string)
	if rawOp != nil && !ok {
		return Operation{}, scimerr.New(scimerr.InvalidSyntax, "Operations[%d]: op must be a string", i)
	}
	op := Operation{Op: strings.ToLower(strings.TrimSpace(opName))}
	switch op.Op {
	case "add", "replace", "remove":
	default:
		return Operation{}, scimerr.New(scimerr.InvalidSyntax, "Operations[%d]: op must be add, replace or remove, got %q", i, opName)
	}
	rawPath, _ := scimjson.Lookup(w, "path")
	path, ok := rawPath.(string)
	if rawPath != nil && !ok {
		return Operation{}, scimerr.New(scimerr.InvalidSyntax, "Operations[%d]: path must be a string", i)
	}
	if strings.TrimSpace(path) != "" {
		p, err := filter.ParsePath(strings.TrimSpace(path))
		if err != nil {
			return Operation{}, scimerr.Wrap(scimerr.InvalidPath, err, "Operations[%d]: invalid path: %v", i, err)
		}
		op.Path = &p
	}
	op.Value, _ = scimjson.Lookup(w, "value")
	if op.Path == nil {
		if op.Op == "remove" {
			return Operation{}, scimerr.New(scimerr.NoTarget, "Operations[%d]: remove needs a path", i)
		}
		if _, ok := op.Value.(map[string]any); !ok {
			return Operation{}, scimerr.New(scimerr.InvalidValue, "Operations[%d]: %s without path needs an object value", i, op.Op)
		}
	}
	return op, nil
}

// stringList returns a JSON list of strings as a []string.
func stringList(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(list))
	for _, el := range list {
		s, ok := el.(string)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// Expand rewrites path-less operations into one operation per attribute, so that
// {"op":"replace","value":{"name.givenName":"x","urn:...:User:department":"y",
// "active":false}} (Entra with aadOptscim062020) becomes three operations with
// paths. A key that is a schema URN whose value is an object stands for that
// extension's attributes. Complex values without a path ({"name": {...}}) are
// split into sub-attribute operations so a replace never wipes siblings
// (RFC 7644 §3.5.2.3: only the given sub-attributes are replaced).
func Expand(ops []Operation) ([]Operation, error) {
	var out []Operation
	for _, op := range ops {
		if op.Path != nil {
			out = append(out, op)
			continue
		}
		obj, ok := op.Value.(map[string]any)
		if !ok {
			// Parse guarantees an object; operations built elsewhere may not.
			return nil, scimerr.New(scimerr.InvalidValue, "%s without path needs an object value", op.Op)
		}
		for _, key := range sortedKeys(obj) {
			val := obj[key]
			if isSchemaURN(key) {
				sub, ok := val.(map[string]any)
				if !ok {
					return nil, scimerr.New(scimerr.InvalidValue, "%s must be an object", key)
				}
				for _, k := range sortedKeys(sub) {
					p, err := filter.ParsePath(key + ":" + k)
					if err != nil {
						return nil, scimerr.Wrap(scimerr.InvalidPath, err, "invalid attribute %q", k)
					}
					out = append(out, splitComplex(op.Op, p, sub[k])...)
				}
				continue
			}
			if strings.EqualFold(key, "schemas") || strings.EqualFold(key, "meta") || strings.EqualFold(key, "id") {
				continue // readOnly or structural, RFC 7643 §3.1
			}
			p, err := filter.ParsePath(key)
			if err != nil {
				return nil, scimerr.Wrap(scimerr.InvalidPath, err, "invalid attribute %q", key)
			}
			out = append(out, splitComplex(op.Op, p, val)...)
		}
	}
	return out, nil
}

// splitComplex turns {"name": {"givenName": "x"}} into name.givenName ops.
// Multi-valued attributes (arrays) and references are kept whole.
func splitComplex(op string, p filter.Path, val any) []Operation {
	obj, ok := val.(map[string]any)
	if !ok || p.SubAttr != "" || p.Filter != nil || strings.EqualFold(p.Attr, "manager") {
		pp := p
		return []Operation{{Op: op, Path: &pp, Value: val}}
	}
	var out []Operation
	for _, k := range sortedKeys(obj) {
		pp := p
		pp.SubAttr = k
		out = append(out, Operation{Op: op, Path: &pp, Value: obj[k]})
	}
	return out
}

// isSchemaURN tells a schema URN key (whose value holds that schema's
// attributes) from a URN-qualified attribute key.
func isSchemaURN(key string) bool {
	if !strings.HasPrefix(strings.ToLower(key), "urn:") {
		return false
	}
	last := key[strings.LastIndexByte(key, ':')+1:]
	return strings.EqualFold(last, "User") || strings.EqualFold(last, "Group")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	// Deterministic order: Go maps are not, and logs/tests must be stable.
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// String renders an operation for debug logs without its value (values may be
// personal data or passwords).
func (o Operation) String() string {
	if o.Path == nil {
		return o.Op
	}
	return fmt.Sprintf("%s %s", o.Op, o.Path.String())
}
