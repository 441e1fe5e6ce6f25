package config

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/go-viper/mapstructure/v2"
	"github.com/knadh/koanf/parsers/yaml"
	"github.com/knadh/koanf/providers/confmap"
	"github.com/knadh/koanf/providers/env/v2"
	"github.com/knadh/koanf/providers/posflag"
	"github.com/knadh/koanf/v2"
	"github.com/spf13/pflag"
)

// EnvPrefix starts every environment override. Only names with a "__" section
// separator are overrides (SCIMBRIDGE_LDAP__URL → ldap.url), so variables such as
// SCIMBRIDGE_TOKEN_SHA256 can feed ${VAR} references without being taken for keys.
const EnvPrefix = "SCIMBRIDGE_"

// Source says where the configuration comes from.
type Source struct {
	// File is the YAML file; Data, when set, is used instead (embedded configs).
	File string
	Data []byte
	// Flags are command-line overrides; a flag is applied only when set, and its
	// name maps to a key through FlagKeys (e.g. "listen" → "server.listen").
	Flags    *pflag.FlagSet
	FlagKeys map[string]string
	// Environ replaces os.Environ, for tests.
	Environ func() []string
}

// Load reads, merges and decodes the configuration, applies defaults and returns
// it with every validation problem joined in the error. The Config is returned
// even when invalid, so that `validate` can print all problems.
func Load(src Source) (*Config, error) {
	k := koanf.New(".")
	environ := src.Environ
	if environ == nil {
		environ = os.Environ
	}
	data := src.Data
	if data == nil {
		b, err := os.ReadFile(src.File)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		data = b
	}
	raw, err := yaml.Parser().Unmarshal(data)
	if err != nil {
		return nil, fmt.Errorf("config: %s: %w", src.File, err)
	}
	vars := envMap(environ())
	var missing []string
	expanded := expandAll(raw, vars, &missing)
	if len(missing) > 0 {
		// Maps are walked in random order and a variable may be used twice:
		// sort and dedup so the message is stable and names each one once.
		slices.Sort(missing)
		missing = slices.Compact(missing)
		return nil, fmt.Errorf("config: environment variables referenced but not set: %s", strings.Join(missing, ", "))
	}
	if err := k.Load(confmap.Provider(expanded.(map[string]any), ""), nil); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	envProv := env.Provider(".", env.Opt{
		Prefix:        EnvPrefix,
		EnvironFunc:   environ,
		TransformFunc: envKey,
	})
	if err := k.Load(envProv, nil); err != nil {
		return nil, fmt.Errorf("config: environment: %w", err)
	}
	if src.Flags != nil {
		flagKey := func(f *pflag.Flag) (string, any) {
			key, ok := src.FlagKeys[f.Name]
			if !ok || !f.Changed {
				return "", nil
			}
			return key, posflag.FlagVal(src.Flags, f)
		}
		if err := k.Load(posflag.ProviderWithFlag(src.Flags, ".", nil, flagKey), nil); err != nil {
			return nil, fmt.Errorf("config: flags: %w", err)
		}
	}
	var cfg Config
	dc := &mapstructure.DecoderConfig{
		// koanf drops its default hooks once a DecoderConfig is passed: re-add the
		// duration and time hooks or "timeout: 5s" stops decoding.
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToTimeHookFunc(time.RFC3339),
			mapstructure.TextUnmarshallerHookFunc()),
		WeaklyTypedInput: true,
		ErrorUnused:      true,
		Result:           &cfg,
		TagName:          "koanf",
	}
	if err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{DecoderConfig: dc}); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg.ApplyDefaults()
	return &cfg, cfg.Validate()
}

func envKey(k, v string) (string, any) {
	k = strings.TrimPrefix(k, EnvPrefix)
	if !strings.Contains(k, "__") {
		return "", nil
	}
	return strings.ToLower(strings.ReplaceAll(k, "__", ".")), v
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		if i := strings.IndexByte(kv, '='); i > 0 {
			m[kv[:i]] = kv[i+1:]
		}
	}
	return m
}

var varRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandAll replaces ${VAR} and ${VAR:-default} in every string value. It runs
// after YAML parsing so that a secret containing YAML syntax cannot change the
// document's structure. "$$" is not special; only the ${...} form is.
func expandAll(v any, vars map[string]string, missing *[]string) any {
	switch t := v.(type) {
	case map[string]any:
		for key, val := range t {
			t[key] = expandAll(val, vars, missing)
		}
		return t
	case []any:
		for i, val := range t {
			t[i] = expandAll(val, vars, missing)
		}
		return t
	case string:
		return varRef.ReplaceAllStringFunc(t, func(ref string) string {
			m := varRef.FindStringSubmatch(ref)
			if val, ok := vars[m[1]]; ok {
				return val
			}
			if m[2] != "" {
				return m[3]
			}
			*missing = append(*missing, m[1])
			return ""
		})
	default:
		return v
	}
}
