package config

import (
	"reflect"
	"testing"
	"time"
)

// The walker on shapes Config may grow: a map of sections (keys free, the
// sections' keys checked), a squashed struct, untagged fields and leaf structs.
func TestFindUnknownShapes(t *testing.T) {
	type inner struct {
		DN   string `koanf:"dn"`
		Note string // untagged: known by its Go name, as the decoder does
	}
	type Common struct {
		Level string `koanf:"level"`
	}
	type section struct {
		Common  `koanf:",squash"`
		ByName  map[string]inner  `koanf:"by_name"`
		Plain   map[string]string `koanf:"plain"`
		Expires time.Time         `koanf:"expires"`
		Every   time.Duration     `koanf:"every"`
		List    []*inner          `koanf:"list"`
	}
	v := map[string]any{
		"level":   "x",
		"levle":   "x",
		"by_name": map[string]any{"Admin": map[string]any{"dn": "cn=a", "note": "n", "dnn": "y"}},
		"plain":   map[string]any{"anything": "goes"},
		"expires": "2026-01-01T00:00:00Z",
		"every":   "1s",
		"list":    []any{map[string]any{"DN": "cn=b"}, map[string]any{"d": "z"}},
	}
	var got []unknownKey
	findUnknown(reflect.TypeFor[section](), v, "s", &got)
	want := []unknownKey{
		{"s.by_name.Admin.dnn", []string{"dn", "Note"}},
		{"s.levle", []string{"level", "by_name", "plain", "expires", "every", "list"}},
		{"s.list[1].d", []string{"dn", "Note"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if msg, meant := unknownMsg(got[1]); msg != `unknown key; did you mean "level"?` || meant != "level" {
		t.Errorf("unknownMsg = %q, %q", msg, meant)
	}
}

// Every key of Config is found by typeAt, so a decoding problem anywhere gets
// a "must be ..." message.
func TestTypeAt(t *testing.T) {
	for path, want := range map[string]reflect.Type{
		"ldap.pool_size":                        reflect.TypeFor[int](),
		"ldap.timeout":                          durationType,
		"auth.bearer_tokens[3].expires":         timeType,
		"users.attributes[0]":                   reflect.TypeFor[AttributeMapping](),
		"groups.enabled":                        reflect.TypeFor[bool](),
		"server.tls.acme.domains":               reflect.TypeFor[[]string](),
		"server.rate_limit.requests_per_second": reflect.TypeFor[float64](),
	} {
		if got, ok := typeAt(path); !ok || got != want {
			t.Errorf("typeAt(%s) = %v, %v; want %v", path, got, ok, want)
		}
	}
	if _, ok := typeAt("ldap.nope"); ok {
		t.Error("typeAt found an unknown key")
	}
	if got := Suggest("atributes", []string{"base_dn", "attributes"}); got != `; did you mean "attributes"?` {
		t.Errorf("Suggest = %q", got)
	}
	if got := Suggest("mappings", []string{"base_dn", "attributes"}); got != "" {
		t.Errorf("Suggest = %q", got)
	}
}
