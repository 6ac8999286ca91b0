package script

import (
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/token"
)

// A simple function is one whose whole body the runtime can evaluate in Go, without the JS
// engine and so without its allocations: `e => e.type === "motion"`, field projections such
// as `e => ({room: e.room, motion: e.type === "motion"})`, and the state functions made of
// switch, if and return, such as the motion alarm's. It is recognised from the syntax tree
// when the function is compiled; everything outside the forms below is left to goja.
//
//   - parameters: plain names (no default, no rest, no destructuring), at most two;
//   - statements: a block, return, if/else, switch with break, an empty statement;
//   - expressions: a parameter, `undefined`, string, number, boolean and null literals (a
//     number may be negated), field reads `a.b`, `a["b"]`, `a[0]` starting at a parameter,
//     `===`, `!==`, `== null`, `!= null`, `<`, `<=`, `>`, `>=`, `&&`, `||`, `!`, `c ? a : b`,
//     `+`, `-`, `*`, `/` on numbers (and `+` on two strings), array literals and object
//     literals with plain keys.
//
// Evaluation keeps JS semantics exactly (strict equality, truthiness, what && and || return)
// and gives up (ok false) on anything it cannot decide the way goja would: a read of a
// missing field or of a property of null, bytes, a string that is not valid UTF-8, objects
// compared by identity, a number that does not fit the declared type. The caller then calls
// the function through goja with the same arguments, which is safe because evaluation has no
// side effects. simple_test.go runs both on the same inputs for every form.

// Simple is a function recognised as simple (see above), bound to no runtime: it is safe for
// concurrent use.
type Simple struct {
	body []stmt
}

// Simple returns the function as a simple function, or nil when it is not one (or when it is
// the name of a function of the script).
func (f *Func) Simple() *Simple { return f.simple }

// maxSimpleParams is the number of parameters a simple function may have.
const maxSimpleParams = 2

// recognise returns the simple function of a parsed function piece, or nil.
func recognise(prg *ast.Program) *Simple {
	if len(prg.Body) != 1 {
		return nil
	}
	es, ok := prg.Body[0].(*ast.ExpressionStatement)
	if !ok {
		return nil
	}
	var (
		params *ast.ParameterList
		body   []ast.Statement
	)
	switch fn := es.Expression.(type) {
	case *ast.ArrowFunctionLiteral:
		if fn.Async {
			return nil
		}
		params = fn.ParameterList
		switch b := fn.Body.(type) {
		case *ast.ExpressionBody:
			body = []ast.Statement{&ast.ReturnStatement{Argument: b.Expression}}
		case *ast.BlockStatement:
			body = b.List
		default:
			return nil
		}
	case *ast.FunctionLiteral:
		if fn.Async || fn.Generator || fn.Name != nil {
			return nil
		}
		params, body = fn.ParameterList, fn.Body.List
	default:
		return nil
	}
	c := &recogniser{}
	if params == nil || params.Rest != nil || len(params.List) > maxSimpleParams {
		return nil
	}
	for _, b := range params.List {
		id, ok := b.Target.(*ast.Identifier)
		if !ok || b.Initializer != nil || c.param(id.Name.String()) >= 0 {
			return nil
		}
		c.params = append(c.params, id.Name.String())
	}
	stmts, ok := c.stmts(body, false)
	if !ok {
		return nil
	}
	return &Simple{body: stmts}
}

// recogniser turns a syntax tree into the evaluator's statements and expressions.
type recogniser struct {
	params []string
}

// param is the index of a parameter, or -1.
func (c *recogniser) param(name string) int {
	for i, p := range c.params {
		if p == name {
			return i
		}
	}
	return -1
}

func (c *recogniser) stmts(list []ast.Statement, inSwitch bool) ([]stmt, bool) {
	out := make([]stmt, 0, len(list))
	for _, s := range list {
		st, ok := c.stmt(s, inSwitch)
		if !ok {
			return nil, false
		}
		if st != nil {
			out = append(out, st)
		}
	}
	return out, true
}

// stmt converts one statement (nil for an empty one); inSwitch allows break.
func (c *recogniser) stmt(s ast.Statement, inSwitch bool) (stmt, bool) {
	switch s := s.(type) {
	case *ast.EmptyStatement:
		return nil, true
	case *ast.BlockStatement:
		list, ok := c.stmts(s.List, inSwitch)
		return &blockStmt{list}, ok
	case *ast.ReturnStatement:
		if s.Argument == nil {
			return &returnStmt{undefinedExpr{}}, true
		}
		e, ok := c.expr(s.Argument)
		return &returnStmt{e}, ok
	case *ast.BranchStatement:
		return breakStmt{}, inSwitch && s.Token == token.BREAK && s.Label == nil
	case *ast.IfStatement:
		test, ok := c.expr(s.Test)
		if !ok {
			return nil, false
		}
		then, ok := c.stmt(s.Consequent, inSwitch)
		if !ok {
			return nil, false
		}
		var alt stmt
		if s.Alternate != nil {
			if alt, ok = c.stmt(s.Alternate, inSwitch); !ok {
				return nil, false
			}
		}
		return &ifStmt{test, then, alt}, true
	case *ast.SwitchStatement:
		disc, ok := c.expr(s.Discriminant)
		if !ok {
			return nil, false
		}
		sw := &switchStmt{disc: disc, dflt: -1}
		for i, cs := range s.Body {
			var cl switchCase
			if cs.Test == nil {
				sw.dflt = i
			} else if cl.test, ok = c.expr(cs.Test); !ok {
				return nil, false
			}
			if cl.body, ok = c.stmts(cs.Consequent, true); !ok {
				return nil, false
			}
			sw.cases = append(sw.cases, cl)
		}
		return sw, true
	}
	return nil, false
}

// expr converts one expression.
func (c *recogniser) expr(e ast.Expression) (expr, bool) {
	switch e := e.(type) {
	case *ast.StringLiteral:
		return &constExpr{e.Value.String()}, true
	case *ast.NumberLiteral:
		switch v := e.Value.(type) {
		case int64:
			return &constExpr{jsInt(v, v)}, true
		case float64:
			return &constExpr{v}, true
		}
	case *ast.BooleanLiteral:
		return &constExpr{e.Value}, true
	case *ast.NullLiteral:
		return &constExpr{nil}, true
	case *ast.Identifier:
		if i := c.param(e.Name.String()); i >= 0 {
			return &pathExpr{param: i}, true
		}
		if e.Name == "undefined" {
			return undefinedExpr{}, true
		}
	case *ast.DotExpression, *ast.BracketExpression:
		return c.path(e)
	case *ast.UnaryExpression:
		return c.unary(e)
	case *ast.BinaryExpression:
		return c.binary(e)
	case *ast.ConditionalExpression:
		test, ok1 := c.expr(e.Test)
		then, ok2 := c.expr(e.Consequent)
		alt, ok3 := c.expr(e.Alternate)
		return &condExpr{test, then, alt}, ok1 && ok2 && ok3
	case *ast.ArrayLiteral:
		a := &arrayExpr{elems: make([]expr, len(e.Value))}
		for i, x := range e.Value {
			if x == nil { // a hole
				return nil, false
			}
			var ok bool
			if a.elems[i], ok = c.expr(x); !ok {
				return nil, false
			}
		}
		return a, true
	case *ast.ObjectLiteral:
		return c.object(e)
	}
	return nil, false
}

// path converts a chain of field reads starting at a parameter.
func (c *recogniser) path(e ast.Expression) (expr, bool) {
	var steps []step
	for {
		switch x := e.(type) {
		case *ast.DotExpression:
			name := x.Identifier.Name.String()
			if name == "__proto__" {
				return nil, false
			}
			steps = append(steps, step{field: name, index: -1})
			e = x.Left
			continue
		case *ast.BracketExpression:
			switch m := x.Member.(type) {
			case *ast.StringLiteral:
				if m.Value == "__proto__" {
					return nil, false
				}
				steps = append(steps, step{field: m.Value.String(), index: -1})
			case *ast.NumberLiteral:
				i, ok := m.Value.(int64)
				if !ok || i < 0 {
					return nil, false
				}
				steps = append(steps, step{index: int(i)})
			default:
				return nil, false
			}
			e = x.Left
			continue
		case *ast.Identifier:
			i := c.param(x.Name.String())
			if i < 0 {
				return nil, false
			}
			for l, r := 0, len(steps)-1; l < r; l, r = l+1, r-1 {
				steps[l], steps[r] = steps[r], steps[l]
			}
			return &pathExpr{param: i, steps: steps}, true
		}
		return nil, false
	}
}

func (c *recogniser) unary(e *ast.UnaryExpression) (expr, bool) {
	if e.Postfix {
		return nil, false
	}
	switch e.Operator {
	case token.NOT:
		x, ok := c.expr(e.Operand)
		return &notExpr{x}, ok
	case token.MINUS:
		if n, ok := e.Operand.(*ast.NumberLiteral); ok {
			switch v := n.Value.(type) {
			case int64:
				if v == 0 {
					return &constExpr{negZero}, true // -0 is a float in JS
				}
				return &constExpr{jsInt(-v, -v)}, true
			case float64:
				return &constExpr{-v}, true
			}
		}
	}
	return nil, false
}

func (c *recogniser) binary(e *ast.BinaryExpression) (expr, bool) {
	var op binOp
	switch e.Operator {
	case token.STRICT_EQUAL:
		op = opStrictEq
	case token.STRICT_NOT_EQUAL:
		op = opStrictNe
	case token.EQUAL, token.NOT_EQUAL:
		return c.nullCompare(e)
	case token.LESS:
		op = opLess
	case token.LESS_OR_EQUAL:
		op = opLessEq
	case token.GREATER:
		op = opGreater
	case token.GREATER_OR_EQUAL:
		op = opGreaterEq
	case token.PLUS:
		op = opAdd
	case token.MINUS:
		op = opSub
	case token.MULTIPLY:
		op = opMul
	case token.SLASH:
		op = opDiv
	case token.LOGICAL_AND:
		op = opAnd
	case token.LOGICAL_OR:
		op = opOr
	default:
		return nil, false
	}
	l, ok1 := c.expr(e.Left)
	r, ok2 := c.expr(e.Right)
	return &binExpr{op, l, r}, ok1 && ok2
}

// nullCompare converts `x == null` and `x != null` (either side, null or undefined): the only
// loose equalities recognised.
func (c *recogniser) nullCompare(e *ast.BinaryExpression) (expr, bool) {
	x := e.Left
	if !isNullish(e.Right) {
		if !isNullish(e.Left) {
			return nil, false
		}
		x = e.Right
	}
	v, ok := c.expr(x)
	return &nullishExpr{x: v, negate: e.Operator == token.NOT_EQUAL}, ok
}

// isNullish reports whether an expression is the literal null or the identifier undefined.
func isNullish(e ast.Expression) bool {
	switch e := e.(type) {
	case *ast.NullLiteral:
		return true
	case *ast.Identifier:
		return e.Name == "undefined"
	}
	return false
}

func (c *recogniser) object(e *ast.ObjectLiteral) (expr, bool) {
	o := &objectExpr{}
	for _, p := range e.Value {
		var (
			key string
			val ast.Expression
		)
		switch p := p.(type) {
		case *ast.PropertyShort:
			if p.Initializer != nil {
				return nil, false
			}
			key, val = p.Name.Name.String(), &p.Name
		case *ast.PropertyKeyed:
			if p.Kind != ast.PropertyKindValue || p.Computed {
				return nil, false
			}
			switch k := p.Key.(type) {
			case *ast.Identifier:
				key = k.Name.String()
			case *ast.StringLiteral:
				key = k.Value.String()
			default:
				return nil, false
			}
			val = p.Value
		default:
			return nil, false
		}
		if key == "__proto__" {
			return nil, false
		}
		x, ok := c.expr(val)
		if !ok {
			return nil, false
		}
		o.keys, o.vals = append(o.keys, key), append(o.vals, x)
	}
	return o, true
}
