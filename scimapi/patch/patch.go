// Package patch parses SCIM PATCH requests (RFC 7644 §3.5.2) and applies them to
// a resource held as decoded JSON. It accepts the two dialects Microsoft Entra ID
// speaks (see ../shared/entra-scim.md §3): capitalised op names, booleans as
// strings, path-less replace with dotted and URN keys, remove with a value list.
package patch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/scimapi/filter"
	"github.com/scimbridge/scimbridge/scimapi/scimerr"
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

type wireOp struct {
	Op    string          `json:"op"`
	Path  *string         `json:"path"`
	Value json.RawMessage `json:"value"`
}

type wireRequest struct {
	Schemas    []string `json:"schemas"`
	Operations []wireOp `json:"Operations"`
}

// MaxOperations bounds one request; Entra sends a handful, a group sync a few
// hundred member values at most in one operation.
const MaxOperations = 1000

// Parse decodes and validates a PATCH body. Errors are scimerr errors with the
// scimType RFC 7644 §3.12 prescribes (invalidSyntax, invalidPath, noTarget,
// invalidValue).
func Parse(body []byte) ([]Operation, error) {
	var req wireRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&req); err != nil {
		return nil, scimerr.Wrap(scimerr.InvalidSyntax, err, "request body is not a valid PATCH request")
	}
	if len(req.Schemas) > 0 && !containsFold(req.Schemas, SchemaPatchOp) {
		return nil, scimerr.New(scimerr.InvalidSyntax, "schemas must contain %s", SchemaPatchOp)
	}
	if len(req.Operations) == 0 {
		return nil, scimerr.New(scimerr.InvalidSyntax, "Operations is empty")
	}
	if len(req.Operations) > MaxOperations {
		return nil, scimerr.New(scimerr.TooMany, "more than %d operations", MaxOperations)
	}
	ops := make([]Operation, 0, len(req.Operations))
	for i, w := range req.Operations {
		op := Operation{Op: strings.ToLower(strings.TrimSpace(w.Op))}
		switch op.Op {
		case "add", "replace", "remove":
		default:
			return nil, scimerr.New(scimerr.InvalidSyntax, "Operations[%d]: op must be add, replace or remove, got %q", i, w.Op)
		}
		if w.Path != nil && strings.TrimSpace(*w.Path) != "" {
			p, err := filter.ParsePath(strings.TrimSpace(*w.Path))
			if err != nil {
				return nil, scimerr.Wrap(scimerr.InvalidPath, err, "Operations[%d]: invalid path: %v", i, err)
			}
			op.Path = &p
		}
		if len(w.Value) > 0 {
			v, err := decodeValue(w.Value)
			if err != nil {
				return nil, scimerr.Wrap(scimerr.InvalidSyntax, err, "Operations[%d]: invalid value", i)
			}
			op.Value = v
		}
		if op.Path == nil {
			if op.Op == "remove" {
				return nil, scimerr.New(scimerr.NoTarget, "Operations[%d]: remove needs a path", i)
			}
			if _, ok := op.Value.(map[string]any); !ok {
				return nil, scimerr.New(scimerr.InvalidValue, "Operations[%d]: %s without path needs an object value", i, op.Op)
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func decodeValue(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
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
