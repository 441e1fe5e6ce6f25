package scimtest

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// placeholder is {{name}} in a golden file.
var placeholder = regexp.MustCompile(`\{\{([A-Za-z0-9_]+)\}\}`)

// substitute replaces every placeholder of s by its captured value. In JSON
// text (inJSON) the value is escaped as the inside of a JSON string, since
// placeholders only stand inside strings there.
func substitute(s string, vars map[string]string, inJSON bool) (string, error) {
	var missing []string
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		name := placeholder.FindStringSubmatch(m)[1]
		v, ok := vars[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		if inJSON {
			b, _ := json.Marshal(v)
			return string(b[1 : len(b)-1])
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("placeholder %v used before it was captured", missing)
	}
	return out, nil
}

// match checks that got holds want (want is a subset of got) and captures
// the placeholders want introduces. at is where both are, for messages.
func match(at string, want, got any, found bool, vars map[string]string) error {
	if !found {
		return fmt.Errorf("%s: missing, want %s", where(at), show(want))
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: %s, want an object", where(at), show(got))
		}
		for _, k := range sortedKeys(w) {
			v, ok := g[k]
			if err := match(join(at, k), w[k], v, ok, vars); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Errorf("%s: %s, want %d element(s) %s", where(at), show(got), len(w), show(want))
		}
		for i := range w {
			if err := match(fmt.Sprintf("%s[%d]", at, i), w[i], g[i], true, vars); err != nil {
				return err
			}
		}
		return nil
	case string:
		if placeholder.MatchString(w) {
			return matchTemplate(at, w, got, vars)
		}
	}
	if !equal(want, got) {
		return fmt.Errorf("%s: %s, want %s", where(at), show(got), show(want))
	}
	return nil
}

// matchTemplate matches a string holding placeholders. A string that is one
// placeholder captures any scalar; one with text around placeholders matches
// strings only.
func matchTemplate(at, tmpl string, got any, vars map[string]string) error {
	if got == nil {
		return fmt.Errorf("%s: null, want %s", where(at), tmpl)
	}
	if tmpl == "{{any}}" {
		return nil
	}
	if m := placeholder.FindStringSubmatch(tmpl); m[0] == tmpl {
		s, ok := scalar(got)
		if !ok {
			return fmt.Errorf("%s: %s, want a value for %s", where(at), show(got), tmpl)
		}
		return bind(at, m[1], s, vars)
	}
	s, ok := got.(string)
	if !ok {
		return fmt.Errorf("%s: %s, want a string like %s", where(at), show(got), tmpl)
	}
	var re strings.Builder
	var names []string
	re.WriteString("^")
	last := 0
	for _, loc := range placeholder.FindAllStringSubmatchIndex(tmpl, -1) {
		re.WriteString(regexp.QuoteMeta(tmpl[last:loc[0]]))
		name := tmpl[loc[2]:loc[3]]
		switch v, ok := vars[name]; {
		case name == "any":
			re.WriteString(".*?")
		case ok:
			re.WriteString(regexp.QuoteMeta(v))
		default:
			re.WriteString("(.+?)")
			names = append(names, name)
		}
		last = loc[1]
	}
	re.WriteString(regexp.QuoteMeta(tmpl[last:]) + "$")
	m := regexp.MustCompile(re.String()).FindStringSubmatch(s)
	if m == nil {
		return fmt.Errorf("%s: %q, want %s", where(at), s, tmpl)
	}
	for i, name := range names {
		if err := bind(at, name, m[i+1], vars); err != nil {
			return err
		}
	}
	return nil
}

// bind captures name on first sight and compares afterwards (a name used
// twice in one template is compared here too).
func bind(at, name, v string, vars map[string]string) error {
	if old, ok := vars[name]; ok && old != v {
		return fmt.Errorf("%s: %q, but {{%s}} is %q", where(at), v, name, old)
	}
	vars[name] = v
	return nil
}

// scalar renders a JSON scalar as the text a placeholder holds.
func scalar(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case json.Number:
		return t.String(), true
	case bool:
		return fmt.Sprint(t), true
	}
	return "", false
}

// equal compares JSON scalars; numbers by their text, as both sides were
// decoded with UseNumber.
func equal(want, got any) bool {
	switch w := want.(type) {
	case json.Number:
		g, ok := got.(json.Number)
		return ok && g == w
	case nil:
		return got == nil
	}
	return want == got
}

func where(at string) string {
	if at == "" {
		return "body"
	}
	return at
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
