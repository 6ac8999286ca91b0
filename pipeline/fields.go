package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pipectl/pipectl/internal/suggest"

	"gopkg.in/yaml.v3"
)

// entry is one key of a YAML mapping with its value.
type entry struct{ key, val *yaml.Node }

// fields reads a mapping into its entries by key, reporting duplicate keys and every key
// that allowed lacks (with the closest allowed key as a suggestion; other lists a wider set
// of keys that are valid elsewhere, to say "not allowed here" instead of "unknown"). what
// names the mapping in messages. It returns nil when n is not a mapping.
func (l *loader) fields(n *yaml.Node, what string, allowed, other []string) map[string]entry {
	if n.Kind != yaml.MappingNode {
		l.errorf(posOf(n), CodeValue, "%s must be a mapping, got %s", what, describe(n))
		return nil
	}
	m := make(map[string]entry, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := m[k.Value]; dup {
			l.errorf(posOf(k), CodeDuplicate, "duplicate key %q in %s", k.Value, what)
			continue
		}
		if !slices.Contains(allowed, k.Value) {
			if i >= 2 && l.splitType(n.Content[i-2], n.Content[i-1], k) {
				continue
			}
			l.unknownKey(k, what, allowed, other)
			continue
		}
		m[k.Value] = entry{k, v}
	}
	return m
}

// unknownKey reports a key that a mapping does not take.
func (l *loader) unknownKey(k *yaml.Node, what string, allowed, other []string) {
	if slices.Contains(other, k.Value) {
		l.errorf(posOf(k), CodeUnknownKey, "key %q is not allowed in %s", k.Value, what)
		return
	}
	msg := fmt.Sprintf("unknown key %q in %s", k.Value, what)
	if s := suggest.Closest(k.Value, allowed, 0); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	l.errorf(posOf(k), CodeUnknownKey, "%s", msg)
}

// splitType reports a key that is the rest of a type expression (or a function) that YAML split at a comma
// inside a one-line {...} (`{type: (bool, int)}` reads as type: "(bool", "int)": null), and
// marks the first half so that its own type error is not reported too.
func (l *loader) splitType(prevKey, prev, k *yaml.Node) bool {
	if prev.Kind != yaml.ScalarNode || !unbalanced(prev.Value) || !unbalanced(k.Value) {
		return false
	}
	expr := prev.Value + ", " + k.Value
	if jsKeys[prevKey.Value] {
		l.errorf(posOf(prev), CodeJS, "YAML split the function %q at its comma: inside a one-line {...} YAML splits at every comma, so quote the function (%s: %q) or write the mapping in block style", expr, prevKey.Value, expr)
	} else {
		l.errorf(posOf(prev), CodeType, "YAML split the type expression %q at its comma: inside a one-line {...} YAML splits at every comma, so quote the expression (%q) or write the mapping in block style", expr, expr)
	}
	l.split[prev] = true
	return true
}

// unbalanced reports whether s opens or closes more < or ( than it closes or opens.
func unbalanced(s string) bool {
	return strings.Count(s, "<") != strings.Count(s, ">") || strings.Count(s, "(") != strings.Count(s, ")")
}

// require reports every key of keys that m lacks, at pos.
func (l *loader) require(m map[string]entry, pos Pos, what string, keys ...string) {
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			l.errorf(pos, CodeMissingKey, "%s: missing required key %q", what, k)
		}
	}
}

// describe names the shape of a node for messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a sequence"
	case yaml.AliasNode:
		return "an alias"
	}
	if n.Tag == "!!null" {
		return "nothing"
	}
	return strconv.Quote(n.Value)
}

// scalar checks that n is a non-null scalar and returns its text.
func (l *loader) scalar(n *yaml.Node, what string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		l.errorf(posOf(n), CodeValue, "%s must be a value, got %s", what, describe(n))
		return "", false
	}
	return n.Value, true
}

// str reads a non-empty string (any scalar's text).
func (l *loader) str(n *yaml.Node, what string) string {
	s, ok := l.scalar(n, what)
	if ok && s == "" {
		l.errorf(posOf(n), CodeValue, "%s must not be empty", what)
	}
	return s
}

// oneOf reads a string that must be one of choices.
func (l *loader) oneOf(n *yaml.Node, what string, choices ...string) string {
	s, ok := l.scalar(n, what)
	if !ok {
		return ""
	}
	if !slices.Contains(choices, s) {
		msg := fmt.Sprintf("%s must be one of %s, got %q", what, strings.Join(choices, ", "), s)
		if c := suggest.Closest(s, choices, 0); c != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", c)
		}
		l.errorf(posOf(n), CodeValue, "%s", msg)
		return ""
	}
	return s
}

// retyped is n, or for a quoted scalar that held a ${VAR} the same text read as plain YAML
// (so "${PAR:-2}" is the number 2 where a number is expected).
func (l *loader) retyped(n *yaml.Node) *yaml.Node {
	if !l.quotedEnv[n] {
		return n
	}
	var doc yaml.Node
	if yaml.Unmarshal([]byte(n.Value), &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.ScalarNode {
		return n
	}
	c := *doc.Content[0]
	c.Line, c.Column = n.Line, n.Column
	return &c
}

// integer reads an integer in [lo, hi].
func (l *loader) integer(n *yaml.Node, what string, lo, hi int64) int64 {
	var v int64
	n = l.retyped(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" || n.Decode(&v) != nil {
		l.errorf(posOf(n), CodeValue, "%s must be an integer, got %s", what, describe(n))
		return 0
	}
	if v < lo || v > hi {
		l.errorf(posOf(n), CodeValue, "%s must be between %d and %d, got %d", what, lo, hi, v)
		return 0
	}
	return v
}

// number reads a positive number.
func (l *loader) positive(n *yaml.Node, what string) float64 {
	var v float64
	n = l.retyped(n)
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") || n.Decode(&v) != nil {
		l.errorf(posOf(n), CodeValue, "%s must be a number, got %s", what, describe(n))
		return 0
	}
	if v <= 0 {
		l.errorf(posOf(n), CodeValue, "%s must be positive, got %v", what, v)
		return 0
	}
	return v
}

// boolean reads true or false.
func (l *loader) boolean(n *yaml.Node, what string) bool {
	var v bool
	n = l.retyped(n)
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		l.errorf(posOf(n), CodeValue, "%s must be true or false, got %s", what, describe(n))
	}
	return v
}

// duration reads a duration such as 500ms, 5s, 1m, 24h or 7d; positive unless zeroOK.
func (l *loader) duration(n *yaml.Node, what string, zeroOK bool) time.Duration {
	s, ok := l.scalar(n, what)
	if !ok {
		return 0
	}
	d, err := parseDuration(s)
	switch {
	case err != nil:
		l.errorf(posOf(n), CodeValue, "%s: %v", what, err)
	case d < 0 || (d == 0 && !zeroOK):
		l.errorf(posOf(n), CodeValue, "%s must be positive, got %q", what, s)
	}
	return d
}

// ParseDuration reads a duration as pipeline files write them (500ms, 5s, 1m, 24h, 7d, 0);
// test files use it too.
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }

// parseDuration is time.ParseDuration plus a day unit ("7d") and a bare 0.
func parseDuration(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.ParseInt(days, 10, 32); err == nil {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return 0, fmt.Errorf("%q needs a unit, e.g. %ss or %sms", s, s, s)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (write e.g. 500ms, 5s, 1m, 24h or 7d)", s)
	}
	return d, nil
}
