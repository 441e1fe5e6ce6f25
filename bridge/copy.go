package bridge

import (
	"encoding/json"

	"github.com/scimbridge/scimbridge/ldapmap"
)

// deepCopy copies a resource as decoded JSON (maps, []any, strings, bools,
// json.Number), so that a PATCH or PUT can change the copy while the
// original stays what the directory holds. It walks the values instead of
// encoding and decoding them: a PATCH profile had the JSON round trip at 7% of
// the bridge's CPU (issue 13).
func deepCopy(v ldapmap.Resource) ldapmap.Resource {
	if v == nil {
		return nil
	}
	return copyObject(v)
}

func copyObject(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v any) any {
	switch t := v.(type) {
	case nil, string, bool, json.Number:
		return t
	case map[string]any:
		return copyObject(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = copyValue(e)
		}
		return out
	default:
		// Anything else (a typed slice or a Go number a caller put in)
		// becomes what JSON would decode it to, as the round trip did.
		b, err := json.Marshal(t)
		if err != nil {
			return t
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return t
		}
		return normalizeNumbers(out)
	}
}

// normalizeNumbers turns float64s from json.Unmarshal into json.Number, the
// form numbers have everywhere else in a resource.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case float64:
		b, _ := json.Marshal(t)
		return json.Number(b)
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalizeNumbers(e)
		}
	}
	return v
}
