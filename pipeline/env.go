package pipeline

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// jsKeys are the keys whose values are JavaScript: ${...} there belongs to template literals
// and is left alone.
var jsKeys = map[string]bool{"fn": true, "key_by": true, "timestamp": true, "init": true,
	"result": true, "on_timer": true, "migrate": true, "reduce": true, "script": true}

// envRE matches ${NAME} and ${NAME:-default}.
var envRE = regexp.MustCompile(`\$\{([^}:]*)(:-([^}]*))?\}`)

var envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// substituteEnv replaces ${VAR} in every scalar value of the file except JavaScript fields.
// Under the top-level params every value is data (a param may well be called fn).
func (l *loader) substituteEnv(root *yaml.Node) {
	if root.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == "params" {
			l.substituteIn(v, false)
		} else if !jsKeys[k.Value] {
			l.substituteIn(v, true)
		}
	}
}

// substituteIn walks n; skipJS leaves the values of JavaScript keys alone.
func (l *loader) substituteIn(n *yaml.Node, skipJS bool) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !skipJS || !jsKeys[n.Content[i].Value] {
				l.substituteIn(n.Content[i+1], skipJS)
			}
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			l.substituteIn(c, skipJS)
		}
	case yaml.ScalarNode:
		if strings.Contains(n.Value, "${") {
			l.expandScalar(n)
		}
	}
}

// expandScalar replaces the references of one scalar. A plain scalar is then read again as
// YAML, as if the result had been written there (a number stays a number); a quoted or
// block scalar stays a string.
func (l *loader) expandScalar(n *yaml.Node) {
	failed := false
	out := envRE.ReplaceAllStringFunc(n.Value, func(ref string) string {
		sub := envRE.FindStringSubmatch(ref)
		name, hasDefault, def := sub[1], sub[2] != "", sub[3]
		if !envNameRE.MatchString(name) {
			l.errorf(l.refPos(n, ref), CodeEnv, "bad variable reference %s: write ${NAME} or ${NAME:-default}", ref)
			failed = true
			return ref
		}
		if v, ok := l.lookupEnv(name); ok {
			return v
		}
		if hasDefault {
			return def
		}
		l.errorf(l.refPos(n, ref), CodeEnv, "environment variable %s is not set (give a default with ${%s:-value})", name, name)
		failed = true
		return ref
	})
	if failed {
		l.unresolved[n] = true
		return
	}
	n.Value = out
	if n.Style != 0 {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			l.quotedEnv[n] = true
		}
		return
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(out), &doc); err != nil || len(doc.Content) == 0 {
		n.Tag = "!!str"
		if out == "" {
			n.Tag = "!!null"
		}
		return
	}
	line, col := n.Line, n.Column
	*n = *doc.Content[0]
	placeAt(n, line, col)
	if !l.resolveAliases(n) { // a value with aliases of its own: bounded like the file's
		*n = yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Line: line, Column: col}
	}
}

// placeAt moves a node read from substituted text, and everything in it, to the position of
// the reference it replaces.
func placeAt(n *yaml.Node, line, col int) {
	n.Line, n.Column = line, col
	for _, c := range n.Content {
		placeAt(c, line, col)
	}
}

// refPos is the position of a reference in a scalar: exact on a one-line scalar found on its
// line of the file, else the scalar's own position.
func (l *loader) refPos(n *yaml.Node, ref string) Pos {
	line := l.line(n.Line)
	if n.Column-1 <= len(line) {
		if i := strings.Index(line[n.Column-1:], ref); i >= 0 {
			return Pos{n.Line, n.Column + i}
		}
	}
	return posOf(n)
}

// line returns line n (1-based) of the file without its newline, or "".
func (l *loader) line(n int) string {
	if n < 1 || n > len(l.lines) {
		return ""
	}
	return strings.TrimSuffix(l.lines[n-1], "\r")
}
