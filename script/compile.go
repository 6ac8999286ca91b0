package script

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"
)

// Program is the compiled JavaScript of one pipeline. It is safe for concurrent use.
type Program struct {
	params map[string]any
	script *piece   // nil when the pipeline has no script
	fns    []*piece // in the order of Compile's fns
}

// piece is one compiled Source with what maps goja's positions back to the file.
type piece struct {
	src   Source
	fn    bool // a function expression, compiled in parentheses
	prg   *goja.Program
	shift int // columns to add on the first line (-1 when the wrapper had to precede Code)
	// simple is the function evaluated without goja when it is simple enough (simple.go).
	simple *Simple
}

// identRE matches a bare identifier: the name of a function defined in the script.
var identRE = regexp.MustCompile(`^[\p{L}_$][\p{L}\p{N}_$]*$`)

// literals are the words that look like identifiers but are values.
var literals = map[string]bool{"true": true, "false": true, "null": true, "this": true}

// Compile compiles the shared script (nil when absent) and every function once. Params are
// made visible as the global `params`. A syntax error in any piece is returned as []*Error
// wrapped in an ErrorList, all of them, with file positions. A function that is a bare
// identifier must be declared at the top level of the script.
func Compile(shared *Source, params map[string]any, fns []Source) (*Program, error) {
	p := &Program{params: params, fns: make([]*piece, len(fns))}
	var errs ErrorList
	var declared map[string]bool // nil: no script, or a script that does not parse
	if shared != nil {
		p.script = &piece{src: *shared}
		prg, err := p.script.compile()
		if prg != nil {
			declared = topLevelNames(prg)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	for i, src := range fns {
		p.fns[i] = &piece{src: src, fn: true}
		if name := strings.TrimSpace(src.Code); identRE.MatchString(name) && !literals[name] && !declared[name] {
			if shared == nil || declared != nil {
				errs = append(errs, errorAt(&src, src.Line, src.Col,
					fmt.Sprintf("%q is not a function defined in script", name)))
			}
			continue
		}
		if _, err := p.fns[i].compile(); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// compile parses and compiles the piece, returning its syntax tree (nil when it does not
// parse) and its error.
func (pc *piece) compile() (*ast.Program, *Error) {
	prg, err := parser.ParseFile(nil, pc.src.File, pc.text(), 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, pc.syntaxError(err)
	}
	if pc.fn {
		if e := pc.checkExpression(prg); e != nil {
			return prg, e
		}
	}
	pc.prg, err = goja.CompileAST(prg, false)
	if err != nil {
		return prg, pc.compileError(err)
	}
	if pc.fn {
		pc.simple = recognise(prg)
	}
	return prg, nil
}

// text is the source goja compiles: Code padded to its file position, a function wrapped in
// parentheses (the opening one in the padding, the closing one on a line of its own so a
// trailing `//` comment cannot swallow it).
func (pc *piece) text() string {
	var b strings.Builder
	line, col := max(pc.src.Line, 1), max(pc.src.Col, 1)
	switch {
	case !pc.fn:
		b.WriteString(strings.Repeat("\n", line-1))
		b.WriteString(strings.Repeat(" ", col-1))
	case line > 1:
		b.WriteString("(")
		b.WriteString(strings.Repeat("\n", line-1))
		b.WriteString(strings.Repeat(" ", col-1))
	case col > 1:
		b.WriteString(strings.Repeat(" ", col-2))
		b.WriteString("(")
	default:
		b.WriteString("(")
		pc.shift = -1
	}
	b.WriteString(pc.src.Code)
	if pc.fn {
		b.WriteString("\n)")
	}
	return b.String()
}

// covers reports whether a line of the file belongs to the piece (its wrapper's closing line
// included).
func (pc *piece) covers(line int) bool {
	return line >= pc.src.Line && line <= pc.src.Line+strings.Count(pc.src.Code, "\n")+1
}

// filePos maps a goja position of the piece to the file: the first line is padded exactly,
// later lines are shifted by the block scalar's indentation.
func (pc *piece) filePos(line, col int) (int, int) {
	if pc.src.Spots != nil {
		return pc.spot(line, col)
	}
	if line <= pc.src.Line {
		return line, col + pc.shift
	}
	return line, col + pc.src.Col - 1
}

// spot maps a goja position of the piece to the file through Spots: the position of the
// byte of Code it names (the nearest one past either end).
func (pc *piece) spot(line, col int) (int, int) {
	first := max(pc.src.Line, 1)
	off := 0 // the offset in Code of the position's line
	for l := first; l < line; l++ {
		i := strings.IndexByte(pc.src.Code[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	if line <= first {
		col += pc.shift - max(pc.src.Col, 1) + 1 // the first line is padded to the file's column
	}
	s := pc.src.Spots[min(max(off+col-1, 0), len(pc.src.Spots)-1)]
	return s.Line, s.Col
}

// syntaxError converts the parser's error. Only the first error of a piece is kept: goja's
// parser goes on after it, and what it reports then is mostly the same mistake seen again. An
// error at the wrapper's closing parenthesis is the end of the user's code.
func (pc *piece) syntaxError(err error) *Error {
	var list parser.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		return errorAt(&pc.src, pc.src.Line, pc.src.Col, "SyntaxError: "+err.Error())
	}
	pos := list[0].Position
	if pc.fn && pos.Line > pc.src.Line+strings.Count(pc.src.Code, "\n") {
		line, col := pc.end()
		return errorAt(&pc.src, line, col, "SyntaxError: Unexpected end of input")
	}
	line, col := pc.filePos(pos.Line, pos.Column)
	return errorAt(&pc.src, line, col, "SyntaxError: "+list[0].Message)
}

// end is the file position just after the last non-blank character of Code.
func (pc *piece) end() (int, int) {
	code := strings.TrimRight(pc.src.Code, " \t\r\n")
	last := strings.LastIndex(code, "\n")
	line := pc.src.Line + strings.Count(code, "\n")
	col := len(code) - last // the column after the last character, on the padded line
	if last < 0 {
		col += max(pc.src.Col, 1) - 1
	}
	return pc.filePos(line, col)
}

// compileError converts an error of goja's compiler (an early error such as a redeclared let).
func (pc *piece) compileError(err error) *Error {
	var syn *goja.CompilerSyntaxError
	if errors.As(err, &syn) && syn.File != nil {
		pos := syn.File.Position(syn.Offset)
		line, col := pc.filePos(pos.Line, pos.Column)
		return errorAt(&pc.src, line, col, "SyntaxError: "+syn.Message)
	}
	return errorAt(&pc.src, pc.src.Line, pc.src.Col, err.Error())
}

// checkExpression rejects, before anything runs, a function piece that is not one expression
// or is a literal that cannot be a function.
func (pc *piece) checkExpression(prg *ast.Program) *Error {
	if len(prg.Body) != 1 {
		return errorAt(&pc.src, pc.src.Line, pc.src.Col, "expected one function expression")
	}
	stmt, ok := prg.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return errorAt(&pc.src, pc.src.Line, pc.src.Col, "expected one function expression")
	}
	got := ""
	switch stmt.Expression.(type) {
	case *ast.NumberLiteral:
		got = "number"
	case *ast.StringLiteral, *ast.TemplateLiteral:
		got = "string"
	case *ast.BooleanLiteral:
		got = "boolean"
	case *ast.NullLiteral:
		got = "null"
	case *ast.ArrayLiteral:
		got = "array"
	case *ast.ObjectLiteral, *ast.RegExpLiteral:
		got = "object"
	default:
		return nil
	}
	return notAFunction(&pc.src, got)
}

// notAFunction is the error of a function piece whose value is not a function.
func notAFunction(src *Source, got string) *Error {
	return errorAt(src, src.Line, src.Col, "expected a function, got "+got)
}

// topLevelNames lists what the script declares at its top level.
func topLevelNames(prg *ast.Program) map[string]bool {
	names := map[string]bool{}
	bindings := func(list []*ast.Binding) {
		for _, b := range list {
			if id, ok := b.Target.(*ast.Identifier); ok {
				names[id.Name.String()] = true
			}
		}
	}
	for _, stmt := range prg.Body {
		switch s := stmt.(type) {
		case *ast.FunctionDeclaration:
			names[s.Function.Name.Name.String()] = true
		case *ast.ClassDeclaration:
			names[s.Class.Name.Name.String()] = true
		case *ast.VariableStatement:
			bindings(s.List)
		case *ast.LexicalDeclaration:
			bindings(s.List)
		}
	}
	return names
}
