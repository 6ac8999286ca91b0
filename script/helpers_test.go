package script

import (
	"strings"
	"testing"
)

// The tests cut their JavaScript out of pipeline texts, so the positions they expect can be
// read off the text itself.

// at returns the 1-based line and column of the first occurrence of needle in text.
func at(t testing.TB, text, needle string) (line, col int) {
	t.Helper()
	i := strings.Index(text, needle)
	if i < 0 {
		t.Fatalf("%q not in the pipeline text", needle)
	}
	return posOf(text, i)
}

// posOf is the 1-based line and column of offset i of text.
func posOf(text string, i int) (line, col int) {
	return strings.Count(text[:i], "\n") + 1, i - strings.LastIndex(text[:i], "\n")
}

// block returns the block scalar that follows the line holding marker (`fn: |`), as the
// pipeline loader would: dedented, positioned at its first character.
func block(t testing.TB, text, name, marker string) Source {
	t.Helper()
	line, _ := at(t, text, marker)
	line += strings.Count(marker, "\n")
	lines := strings.Split(text, "\n")[line:] // the lines after the marker
	indent := len(lines[0]) - len(strings.TrimLeft(lines[0], " "))
	var code strings.Builder
	for _, l := range lines {
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, strings.Repeat(" ", indent)) {
			break
		}
		code.WriteString(strings.TrimPrefix(l, strings.Repeat(" ", indent)) + "\n")
	}
	return Source{Name: name, Code: code.String(), File: "p.yaml", Line: line + 1, Col: indent + 1}
}

// plain returns the one-line value after marker (`fn: `).
func plain(t testing.TB, text, name, marker string) Source {
	t.Helper()
	at(t, text, marker)
	i := strings.Index(text, marker) + len(marker)
	line, col := posOf(text, i)
	code, _, _ := strings.Cut(text[i:], "\n")
	return Source{Name: name, Code: code, File: "p.yaml", Line: line, Col: col}
}

// newRuntime compiles and loads a program, failing the test on any error.
func newRuntime(t testing.TB, shared *Source, params map[string]any, fns ...Source) *Runtime {
	t.Helper()
	p, err := Compile(shared, params, fns)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	r, err := p.NewRuntime(nil)
	if err != nil {
		t.Fatalf("new runtime: %v", err)
	}
	t.Cleanup(r.Close)
	return r
}

// fn is a function piece on line 1 of a pretend file.
func fn(code string) Source {
	return Source{Name: "op.fn", Code: code, File: "p.yaml", Line: 1, Col: 5}
}

// exported is FromJS's value; an error, which the tests calling it do not expect, panics.
func exported(v any, err error) any {
	if err != nil {
		panic(err)
	}
	return v
}
