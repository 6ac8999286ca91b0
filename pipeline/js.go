package pipeline

import (
	"errors"
	"strings"
	"sync"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/script"
)

// compiled caches the pipeline's one compilation.
type compiled struct {
	once sync.Once
	prog *script.Program
	err  error
}

// Compile compiles the pipeline's JavaScript (the shared script and every function of Funcs,
// function i of the program being Funcs[i]) with its params, once: later calls return the
// same program. Load has already compiled it successfully.
func (p *Pipeline) Compile() (*script.Program, error) {
	if p.compiled == nil {
		return p.compile()
	}
	p.compiled.once.Do(func() { p.compiled.prog, p.compiled.err = p.compile() })
	return p.compiled.prog, p.compiled.err
}

func (p *Pipeline) compile() (*script.Program, error) {
	var shared *script.Source
	if p.Script != nil {
		s := p.Script.source(p.File)
		shared = &s
	}
	fns := make([]script.Source, len(p.Funcs))
	for i, c := range p.Funcs {
		fns[i] = c.source(p.File)
	}
	return script.Compile(shared, p.Params, fns)
}

// source is the script package's view of the code.
func (c *Code) source(file string) script.Source {
	return script.Source{Name: c.Field, Code: c.Text, File: file, Line: c.Pos.Line, Col: c.Pos.Col, Spots: c.Spots}
}

// compileJS compiles the pipeline's JavaScript and reports its syntax errors.
func (l *loader) compileJS() {
	_, err := l.p.Compile()
	if err == nil {
		return
	}
	var list script.ErrorList
	if !errors.As(err, &list) {
		l.errorf(Pos{1, 1}, CodeJS, "compile JavaScript: %v", err)
		return
	}
	for _, e := range list {
		l.errorf(Pos{e.Line, e.Col}, CodeJS, "%s: %s", e.Name, e.Msg)
	}
}

// code reads a JavaScript field: a string whose position is that of its first character
// (for a block scalar `fn: |`, the first line after the indicator, at the block's indent).
func (l *loader) code(n *yaml.Node, field string) *Code {
	if l.split[n] {
		return nil
	}
	text, ok := l.scalar(n, field)
	if !ok {
		return nil
	}
	if strings.TrimSpace(text) == "" {
		l.errorf(posOf(n), CodeValue, "%s must not be empty", field)
		return nil
	}
	c := &Code{Text: text, Pos: posOf(n), Field: field, Index: -1}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		c.Pos = Pos{n.Line + 1, l.blockIndent(n.Line+1) + 1}
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		c.Pos.Col++
		c.Spots = l.quotedSpots(n, text)
	}
	return c
}

// quotedSpots finds the file position of each byte of a quoted scalar's value when the value
// is not the text as written, walking the file from the opening quote: an escape (\n, \")
// or a doubled ” stands for fewer bytes than it takes, and a line break folds with the
// whitespace around it into one space. nil when the value is the text as written, or when the
// walk loses its way (positions then count from the scalar's start, as before).
func (l *loader) quotedSpots(n *yaml.Node, text string) []script.Spot {
	line, src := n.Line, l.line(n.Line)
	j := n.Column // the byte after the opening quote
	if j < len(src) && strings.HasPrefix(src[j:], text) && !strings.ContainsAny(text, "\n\\'\"") {
		return nil
	}
	single := n.Style == yaml.SingleQuotedStyle
	spots := make([]script.Spot, len(text))
	for k := 0; k < len(text); {
		if j >= len(src) { // a line break: it folds into the space or newline the value has here
			if text[k] == ' ' || text[k] == '\n' {
				spots[k] = script.Spot{Line: line, Col: j + 1}
				k++
			}
			if line++; line > len(l.lines) {
				return nil
			}
			src, j = l.line(line), 0
			continue
		}
		switch c := src[j]; {
		case !single && c == '\\' && j+1 < len(src): // an escape: its bytes of the value are at the backslash
			spots[k] = script.Spot{Line: line, Col: j + 1}
			for k++; k < len(text) && !utf8.RuneStart(text[k]); k++ {
				spots[k] = spots[k-1]
			}
			j += escapeWidth(src[j+1])
		case !single && c == '\\': // an escaped line break: nothing of the value
			j++
		case c == text[k]:
			spots[k] = script.Spot{Line: line, Col: j + 1}
			k, j = k+1, j+1
			if single && c == '\'' {
				j++ // '' is one quote
			}
		case c == ' ' || c == '\t': // indentation or trailing space, not in the value
			j++
		default:
			return nil
		}
	}
	return spots
}

// escapeWidth is how many bytes a double-quoted YAML escape takes, by the byte after its
// backslash.
func escapeWidth(c byte) int {
	switch c {
	case 'x':
		return 4
	case 'u':
		return 6
	case 'U':
		return 10
	}
	return 2
}

// blockIndent is the indentation of a block scalar's content starting at line from: that of
// its first non-blank line.
func (l *loader) blockIndent(from int) int {
	for i := from; i <= len(l.lines); i++ {
		s := l.line(i)
		if t := strings.TrimLeft(s, " "); t != "" {
			return len(s) - len(t)
		}
	}
	return 0
}

// fn reads a function field and registers it in Funcs.
func (l *loader) fn(n *yaml.Node, field string) *Code {
	c := l.code(n, field)
	if c != nil {
		c.Index = len(l.p.Funcs)
		l.p.Funcs = append(l.p.Funcs, c)
	}
	return c
}
