package config

import (
	"errors"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// LineFinder maps a problem's YAML path (users.attributes[7].ldap) to its line
// in the file, so `validate` can say where to look.
type LineFinder struct{ root *yaml.Node }

// NewLineFinder parses data; a file that does not parse finds no lines.
func NewLineFinder(data []byte) *LineFinder {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return &LineFinder{}
	}
	return &LineFinder{root: doc.Content[0]}
}

// Line returns the line of the value at path, or of its deepest existing
// parent when the key is missing (a required key not written), 0 if unknown.
func (f *LineFinder) Line(path string) int {
	n := f.root
	if n == nil {
		return 0
	}
	line := 0
	for _, seg := range splitPath(path) {
		next := child(n, seg)
		if next == nil {
			return line
		}
		n, line = next, next.Line
	}
	return line
}

// KeyLine is Line, except that for a path ending in a key the line of the key
// itself: where a misspelt key is written, not where its value starts (the
// first item of a block list is on the next line).
func (f *LineFinder) KeyLine(path string) int {
	segs := splitPath(path)
	if len(segs) == 0 || f.root == nil || strings.HasPrefix(segs[len(segs)-1], "[") {
		return f.Line(path)
	}
	n := f.root
	for _, seg := range segs[:len(segs)-1] {
		if n = child(n, seg); n == nil {
			return f.Line(path)
		}
	}
	if k := key(n, segs[len(segs)-1]); k != nil {
		return k.Line
	}
	return f.Line(path)
}

// splitPath turns a.b[3].c into a, b, [3], c.
func splitPath(path string) []string {
	var out []string
	for _, part := range strings.Split(path, ".") {
		for {
			i := strings.IndexByte(part, '[')
			if i < 0 {
				break
			}
			if i > 0 {
				out = append(out, part[:i])
			}
			j := strings.IndexByte(part, ']')
			if j < i {
				break
			}
			out = append(out, part[i:j+1])
			part = part[j+1:]
		}
		if part != "" {
			out = append(out, part)
		}
	}
	return out
}

func child(n *yaml.Node, seg string) *yaml.Node {
	if strings.HasPrefix(seg, "[") {
		i, err := strconv.Atoi(strings.Trim(seg, "[]"))
		if err != nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
			return nil
		}
		return n.Content[i]
	}
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			return n.Content[i+1]
		}
	}
	return nil
}

// key is the key node of seg in mapping n, nil if there is none.
func key(n *yaml.Node, seg string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == seg {
			return n.Content[i]
		}
	}
	return nil
}

// WithLines prefixes each Problem in err with its line: "line 32: users...".
// A problem that already has a line (Load sets them) keeps it, and one whose
// value came from the environment or a flag (Origin) gets none. Other errors
// are returned as they are.
func WithLines(err error, f *LineFinder) error {
	if err == nil || f == nil {
		return err
	}
	var out []error
	eachJoined(err, func(e error) {
		var p Problem
		if errors.As(e, &p) {
			out = append(out, f.Place(p))
			return
		}
		out = append(out, e)
	})
	return errors.Join(out...)
}

// Place gives p its line, unless it has one (Load sets them) or its value
// came from the environment or a flag (Origin): then the file is not where
// to look.
func (f *LineFinder) Place(p Problem) Problem {
	if f != nil && p.Line == 0 && p.Origin == "" {
		p.Line = f.Line(p.Path)
	}
	return p
}
