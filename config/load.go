package config

import (
	"errors"
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
// it with every problem joined in the error: unknown keys (with a did-you-mean),
// values of the wrong type and what Validate finds, each a Problem with its path
// and, when it is in the file, its line. The Config is returned even when
// invalid, so that `validate` can print all problems; only a file that cannot
// be read or parsed, or a ${VAR} that is not set, returns no Config.
func Load(src Source) (*Config, error) {
	environ := src.Environ
	if environ == nil {
		environ = os.Environ
	}
	data, err := src.read()
	if err != nil {
		return nil, err
	}
	expanded, err := parseYAML(data, src.File, envMap(environ()))
	if err != nil {
		return nil, err
	}
	k := koanf.New(".")
	if err := k.Load(confmap.Provider(expanded, ""), nil); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	// Unknown keys are looked for in each source on its own, so that one set
	// by the environment or a flag is reported as such, not at a file line.
	lf := NewLineFinder(data)
	ps := unknownProblems(unknownKeys(k), nil, lf)
	// origins maps a key set by the environment or a flag to its name.
	origins := map[string]string{}
	envProblems, err := mergeEnv(k, environ, origins)
	if err != nil {
		return nil, err
	}
	flagProblems, err := mergeFlags(k, src, origins)
	if err != nil {
		return nil, err
	}
	ps = append(append(ps, envProblems...), flagProblems...)
	merged := k.Raw()
	uncover(ps, merged)
	cfg, typeProblems, other := decode(k, merged)
	for _, p := range typeProblems {
		if p.Origin = originOf(p.Path, origins); p.Origin == "" {
			p.Line = lf.Line(p.Path)
		}
		ps = append(ps, p)
	}
	sortProblems(ps)
	cfg.ApplyDefaults()
	for _, p := range cfg.problems() {
		p.Line = lf.Line(p.Path)
		ps = append(ps, p)
	}
	errs := make([]error, 0, len(ps)+len(other))
	for _, p := range dropFollowOns(ps) {
		errs = append(errs, p)
	}
	for _, e := range other {
		errs = append(errs, fmt.Errorf("config: %w", e))
	}
	return cfg, errors.Join(errs...)
}

// read returns the file's contents, or Data when set.
func (src Source) read() ([]byte, error) {
	if src.Data != nil {
		return src.Data, nil
	}
	b, err := os.ReadFile(src.File)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return b, nil
}

// parseYAML parses the file (named file in errors) and expands its ${VAR}
// references from vars. A reference to a variable that is not set fails the
// whole load: decoding an empty secret would only hide the mistake.
func parseYAML(data []byte, file string, vars map[string]string) (map[string]any, error) {
	raw, err := yaml.Parser().Unmarshal(data)
	if err != nil {
		if strings.Contains(err.Error(), "unknown escape character") {
			// Typically a down-level bind name, "EXAMPLE\svc", in double quotes.
			err = fmt.Errorf("%w (in a double-quoted YAML string a backslash starts an escape: write a value "+
				"such as EXAMPLE\\svc in single quotes or without quotes)", err)
		}
		return nil, fmt.Errorf("config: %s: %w", file, err)
	}
	var missing []string
	expanded := expandAll(raw, vars, &missing)
	if len(missing) > 0 {
		// Maps are walked in random order and a variable may be used twice:
		// sort and dedup so the message is stable and names each one once.
		slices.Sort(missing)
		missing = slices.Compact(missing)
		return nil, fmt.Errorf("config: environment variables referenced but not set: %s", strings.Join(missing, ", "))
	}
	return expanded.(map[string]any), nil
}

// unknownKeys lists the keys in k that the configuration does not take.
func unknownKeys(k *koanf.Koanf) []unknownKey {
	var unknown []unknownKey
	findUnknown(configType, k.Raw(), "", &unknown)
	return unknown
}

// mergeEnv merges the SCIMBRIDGE_SECTION__KEY overrides from environ into k,
// records which variable set which key in origins, and reports the unknown
// keys they set.
func mergeEnv(k *koanf.Koanf, environ func() []string, origins map[string]string) (Problems, error) {
	envProv := env.Provider(".", env.Opt{
		Prefix:      EnvPrefix,
		EnvironFunc: environ,
		TransformFunc: func(name, v string) (string, any) {
			key, val := envKey(name, v)
			if key != "" {
				origins[key] = name
			}
			return key, val
		},
	})
	ke := koanf.New(".")
	if err := ke.Load(envProv, nil); err != nil {
		return nil, fmt.Errorf("config: environment: %w", err)
	}
	ps := unknownProblems(unknownKeys(ke), origins, nil)
	if err := k.Merge(ke); err != nil {
		return nil, fmt.Errorf("config: environment: %w", err)
	}
	return ps, nil
}

// mergeFlags merges the flags that were set and have a key in src.FlagKeys
// into k, records them in origins, and reports the unknown keys they set.
func mergeFlags(k *koanf.Koanf, src Source, origins map[string]string) (Problems, error) {
	if src.Flags == nil {
		return nil, nil
	}
	flagKey := func(f *pflag.Flag) (string, any) {
		key, ok := src.FlagKeys[f.Name]
		if !ok || !f.Changed {
			return "", nil
		}
		origins[key] = "--" + f.Name
		return key, posflag.FlagVal(src.Flags, f)
	}
	kf := koanf.New(".")
	if err := kf.Load(posflag.ProviderWithFlag(src.Flags, ".", nil, flagKey), nil); err != nil {
		return nil, fmt.Errorf("config: flags: %w", err)
	}
	ps := unknownProblems(unknownKeys(kf), origins, nil)
	if err := k.Merge(kf); err != nil {
		return nil, fmt.Errorf("config: flags: %w", err)
	}
	return ps, nil
}

// uncover keeps a misspelt key from covering the key it stands for when that
// is set too: with both written, problems of the real key are its own.
func uncover(ps Problems, merged map[string]any) {
	for i, p := range ps {
		if p.Covers != "" {
			if _, set := valueAt(merged, p.Covers); set {
				ps[i].Covers = ""
			}
		}
	}
}

// decode decodes merged (k's values) into a Config and sorts what went wrong
// into problems with a path (a value of the wrong type) and other errors.
func decode(k *koanf.Koanf, merged map[string]any) (*Config, []Problem, []error) {
	var cfg Config
	dc := &mapstructure.DecoderConfig{
		// koanf drops its default hooks once a DecoderConfig is passed: re-add the
		// duration and time hooks or "timeout: 5s" stops decoding.
		DecodeHook: mapstructure.ComposeDecodeHookFunc(
			mapstructure.StringToTimeDurationHookFunc(),
			mapstructure.StringToTimeHookFunc(time.RFC3339),
			mapstructure.TextUnmarshallerHookFunc()),
		WeaklyTypedInput: true,
		// Unknown keys were reported above, with paths and suggestions; the
		// decoder skips them so the rest is decoded and validated too.
		ErrorUnused: false,
		Result:      &cfg,
		TagName:     "koanf",
	}
	err := k.UnmarshalWithConf("", &cfg, koanf.UnmarshalConf{DecoderConfig: dc})
	ps, other := decodeProblems(err, merged)
	return &cfg, ps, other
}

// sortProblems puts problems in the file first, in file order, then those
// from the environment and flags: an admin reads the file top down.
func sortProblems(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		switch {
		case (a.Origin == "") != (b.Origin == ""):
			if a.Origin == "" {
				return -1
			}
			return 1
		case a.Line != b.Line:
			return a.Line - b.Line
		}
		return strings.Compare(a.Path, b.Path)
	})
}

// unknownProblems reports unknown keys: from the file, at the line of the key
// (lf), or from the environment or flags, naming where each came from
// (origins).
func unknownProblems(unknown []unknownKey, origins map[string]string, lf *LineFinder) Problems {
	ps := make(Problems, 0, len(unknown))
	for _, u := range unknown {
		msg, meant := unknownMsg(u)
		p := Problem{Path: u.path, Msg: msg}
		if meant != "" {
			p.Covers = joinPath(parentPath(u.path), meant)
		}
		if origins != nil {
			p.Origin = originOf(u.path, origins)
		} else {
			p.Line = lf.KeyLine(u.path)
		}
		ps = append(ps, p)
	}
	return ps
}

// originOf names the variables or flags that set path: the one that set it or
// a value above it, or, for an unknown section, those that set keys in it.
func originOf(path string, origins map[string]string) string {
	var names []string
	for key, name := range origins {
		if underAny(path, []string{key}) || strings.HasPrefix(key, path+".") {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
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
