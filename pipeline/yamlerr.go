package pipeline

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// yaml.v3 reports syntax errors as "yaml: line N: problem" (or without the line when it is
// the first). Parser errors (as opposed to scanner errors) give the 0-based line of the start
// of the construct or of the problem, so their line is one less than the real one.
var (
	yamlErrRE    = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)
	keyValueRE   = regexp.MustCompile(`^(\s*(?:-\s+)?)([A-Za-z0-9_.-]+):\s+(\S.*)$`)
	parserErrors = []string{"did not find expected ',' or", "did not find expected '-' indicator",
		"did not find expected key", "did not find expected node content",
		"did not find expected <document start>", "found incompatible YAML document"}
)

// YAMLError positions a yaml.v3 syntax error in data the way validate does, for the other
// YAML files pipectl reads (test files): file:line:col: invalid YAML: problem, with a hint for
// the known pitfalls.
func YAMLError(file string, data []byte, err error) Diagnostic {
	l := &loader{file: file, lines: strings.Split(string(data), "\n")}
	l.yamlError(err)
	return l.diags[0]
}

// yamlError turns a yaml.v3 syntax error into a positioned diagnostic, explaining the
// pitfalls of docs/pipelines.md, Types with their fix.
func (l *loader) yamlError(err error) {
	m := yamlErrRE.FindStringSubmatch(err.Error())
	if m == nil {
		l.errorf(Pos{1, 1}, CodeYAML, "invalid YAML: %v", err)
		return
	}
	line, _ := strconv.Atoi(m[1])
	problem := m[2]
	parser := false
	for _, p := range parserErrors {
		parser = parser || strings.HasPrefix(problem, p)
	}
	if parser {
		line++ // 0-based
	}
	line = max(1, min(line, len(l.lines)))
	if strings.HasPrefix(problem, "did not find expected ',' or") {
		line = l.flowStart(line)
	}
	if strings.Contains(problem, "tab character") {
		if pos, ok := l.indentTab(line); ok {
			l.errorf(pos, CodeYAML, "invalid YAML: %s; YAML indents with spaces, not tabs", problem)
			return
		}
	}
	pos, hint := l.yamlHint(line, problem)
	l.errorf(pos, CodeYAML, "invalid YAML: %s%s", problem, hint)
}

// indentTab finds the tab that yaml.v3 complains about: it names the line of the construct
// around it (a block scalar's `fn: |` line, the mapping's line), so the tab is the first one
// in the indentation of a line at or after that one (anywhere in the file if none is).
func (l *loader) indentTab(line int) (Pos, bool) {
	for _, from := range []int{line, 1} {
		for i := from; i <= len(l.lines); i++ {
			text := l.line(i)
			indent := text[:len(text)-len(strings.TrimLeft(text, " \t"))]
			if j := strings.IndexByte(indent, '\t'); j >= 0 {
				return Pos{i, j + 1}, true
			}
		}
	}
	return Pos{}, false
}

// flowStart finds the line, at or above line, where an unclosed one-line {...} or [...] opens.
func (l *loader) flowStart(line int) int {
	for i := line; i >= 1 && i > line-20; i-- {
		if t := l.line(i); strings.Count(t, "{")+strings.Count(t, "[") > strings.Count(t, "}")+strings.Count(t, "]") {
			return i
		}
	}
	return line
}

// yamlHint locates the problem on its line and explains the usual cause.
func (l *loader) yamlHint(line int, problem string) (Pos, string) {
	text := l.line(line)
	pos := Pos{line, len(text) - len(strings.TrimLeft(text, " \t")) + 1}
	kv := keyValueRE.FindStringSubmatch(text)
	if strings.Contains(problem, "tab") || strings.Contains(problem, "cannot start any token") && strings.Contains(text, "\t") {
		return pos, "; YAML indents with spaces, not tabs"
	}
	if kv == nil {
		return pos, ""
	}
	key, value := kv[2], kv[3]
	valueCol := len(text) - len(value) + 1
	switch {
	case jsKeys[key] && strings.Contains(value, ": ") && !strings.HasPrefix(value, "|") && !strings.HasPrefix(value, ">"):
		return Pos{line, valueCol}, fmt.Sprintf(
			"; a JavaScript function that contains \": \" must be a block scalar: write `%s: |` and the code on the next lines, indented", key)
	case strings.ContainsAny(value, "{[") && strings.Contains(value, "${"):
		return Pos{line, valueCol}, "; inside a one-line {...} or [...] YAML reads the { of ${VAR} as a mapping: quote the reference (attempts: \"${ATTEMPTS:-3}\", still read as a number where one is expected) or write the mapping in block style"
	case strings.ContainsAny(value, "{[") && !strings.HasPrefix(value, `"`) && !strings.HasPrefix(value, `'`) && flowPitfall(value):
		return Pos{line, valueCol}, fmt.Sprintf(
			"; inside a one-line {...} or [...] YAML splits at commas and rejects '?', so a type like map<string, int> or string? there must be quoted or written in block style: %s: %s",
			key, strconv.Quote(value))
	case strings.HasPrefix(problem, "did not find expected ',' or") && strings.ContainsAny(value, "{["):
		return Pos{line, valueCol + strings.IndexAny(value, "{[")}, "" // where the unclosed collection opens
	case strings.Contains(problem, "mapping values are not allowed") && strings.Contains(value, ": "):
		return Pos{line, valueCol}, fmt.Sprintf("; a value that contains \": \" must be quoted: %s: %s", key, strconv.Quote(value))
	}
	return pos, ""
}

// splitRE matches a type expression that a comma splits inside a one-line {...} or [...]:
// a < or ( whose comma comes before its closing > or ).
var splitRE = regexp.MustCompile(`<[^>]*,|\([^)]*,`)

// flowPitfall reports whether a one-line {...} or [...] holds what YAML gets wrong there: a
// '?' (string?) or a type expression with a comma (map<string, int>, (bool, int)).
func flowPitfall(value string) bool {
	return strings.Contains(value, "?") || splitRE.MatchString(value)
}
