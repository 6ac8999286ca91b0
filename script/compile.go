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
}

// identRE matches a bare identifier: the name of a function defined in the script.
var identRE = regexp.MustCompile(`^[\p{L}_$][\p{L}\p{N}_$]*$`)

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
		prg, es := p.script.compile()
		if prg != nil {
			declared = topLevelNames(prg)
		}
		errs = append(errs, es...)
	}
	for i, src := range fns {
		p.fns[i] = &piece{src: src, fn: true}
		if name := strings.TrimSpace(src.Code); identRE.MatchString(name) && !declared[name] {
			if shared == nil || declared != nil {
				errs = append(errs, errorAt(&src, src.Line, src.Col,
					fmt.Sprintf("%q is not a function defined in script", name)))
			}
			continue
		}
		_, es := p.fns[i].compile()
		errs = append(errs, es...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// compile parses and compiles the piece, returning its syntax tree (nil when it does not
// parse) and its errors.
func (pc *piece) compile() (*ast.Program, ErrorList) {
	prg, err := parser.ParseFile(nil, pc.src.File, pc.text(), 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, pc.syntaxErrors(err)
	}
	if pc.fn {
		if e := pc.checkExpression(prg); e != nil {
			return prg, ErrorList{e}
		}
	}
	pc.prg, err = goja.CompileAST(prg, false)
	if err != nil {
		return prg, ErrorList{pc.compileError(err)}
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
	if line <= pc.src.Line {
		return line, col + pc.shift
	}
	return line, col + pc.src.Col - 1
}

// syntaxErrors converts the parser's errors, every distinct one of them.
func (pc *piece) syntaxErrors(err error) ErrorList {
	var list parser.ErrorList
	if !errors.As(err, &list) {
		return ErrorList{errorAt(&pc.src, pc.src.Line, pc.src.Col, "SyntaxError: "+err.Error())}
	}
	var errs ErrorList
	for _, e := range list {
		line, col := pc.filePos(e.Position.Line, e.Position.Column)
		err := errorAt(&pc.src, line, col, "SyntaxError: "+e.Message)
		if len(errs) == 0 || *errs[len(errs)-1] != *err { // the parser repeats itself at the end
			errs = append(errs, err)
		}
	}
	return errs
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
