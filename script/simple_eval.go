package script

import (
	"math"
	"unicode/utf8"
)

// Values while a simple function runs are canonical Go values (nil is null) plus Undefined.
// Records and lists are those of the arguments, never copied; array and object literals are
// not built as values: a literal that is returned is converted straight to its declared type
// (SimpleResult.As), and one that is only tested is an object, truthy.

// undefinedValue is the type of Undefined.
type undefinedValue struct{}

// Undefined is JS undefined among the values of a simple function (an argument that is
// undefined, such as a flat_map_with_state's absent state).
var Undefined any = undefinedValue{}

// negZero is JS -0.
var negZero = math.Copysign(0, -1)

// literalObject is what an array or object literal evaluates to when it is tested rather than
// returned: an object, whose only property that matters is that it is truthy.
type literalObject struct{}

// args are the arguments of one evaluation.
type args [maxSimpleParams]any

// SimpleResult is the value a simple function returned: a value, or a literal still to be
// converted.
type SimpleResult struct {
	lit  expr // an *arrayExpr or *objectExpr, or nil: v is the value
	v    any
	args args
	arg  int8 // the result is argument arg-1 itself (0: it is not)
}

// Eval evaluates the function with canonical Go arguments (Undefined for undefined). ok false
// means that it cannot decide for these arguments as goja would: call the function through
// JS instead.
func (s *Simple) Eval(a0, a1 any) (res SimpleResult, ok bool) {
	a := args{a0, a1}
	ret, ctl, ok := runStmts(s.body, a)
	if !ok {
		return SimpleResult{}, false
	}
	if ctl != ctlReturn {
		return SimpleResult{v: Undefined}, true
	}
	return resolve(ret, a)
}

// control is how a statement ended.
type control uint8

const (
	ctlNormal control = iota
	ctlReturn
	ctlBreak
)

// stmt is a statement of a simple function; run returns the expression of a return.
type stmt interface {
	run(a args) (ret expr, ctl control, ok bool)
}

func runStmts(list []stmt, a args) (expr, control, bool) {
	for _, s := range list {
		ret, ctl, ok := s.run(a)
		if !ok || ctl != ctlNormal {
			return ret, ctl, ok
		}
	}
	return nil, ctlNormal, true
}

type blockStmt struct{ list []stmt }

func (s *blockStmt) run(a args) (expr, control, bool) { return runStmts(s.list, a) }

type returnStmt struct{ x expr }

func (s *returnStmt) run(args) (expr, control, bool) { return s.x, ctlReturn, true }

type breakStmt struct{}

func (breakStmt) run(args) (expr, control, bool) { return nil, ctlBreak, true }

type ifStmt struct {
	test      expr
	then, alt stmt
}

func (s *ifStmt) run(a args) (expr, control, bool) {
	v, ok := s.test.eval(a)
	if !ok {
		return nil, 0, false
	}
	t, ok := truthy(v)
	switch {
	case !ok:
		return nil, 0, false
	case t:
		return s.then.run(a)
	case s.alt != nil:
		return s.alt.run(a)
	}
	return nil, ctlNormal, true
}

type switchCase struct {
	test expr // nil: default
	body []stmt
}

type switchStmt struct {
	disc  expr
	cases []switchCase
	dflt  int // index of the default case, or -1
}

// run matches the cases with === in order, default last, and falls through from there.
func (s *switchStmt) run(a args) (expr, control, bool) {
	d, ok := s.disc.eval(a)
	if !ok {
		return nil, 0, false
	}
	start := s.dflt
	for i, c := range s.cases {
		if c.test == nil {
			continue
		}
		v, ok := c.test.eval(a)
		if !ok {
			return nil, 0, false
		}
		eq, ok := strictEqual(d, v)
		if !ok {
			return nil, 0, false
		}
		if eq {
			start = i
			break
		}
	}
	if start < 0 {
		return nil, ctlNormal, true
	}
	for _, c := range s.cases[start:] {
		ret, ctl, ok := runStmts(c.body, a)
		switch {
		case !ok || ctl == ctlReturn:
			return ret, ctl, ok
		case ctl == ctlBreak:
			return nil, ctlNormal, true
		}
	}
	return nil, ctlNormal, true
}

// expr is an expression of a simple function.
type expr interface {
	eval(a args) (any, bool)
}

type constExpr struct{ v any }

func (e *constExpr) eval(args) (any, bool) { return e.v, true }

type undefinedExpr struct{}

func (undefinedExpr) eval(args) (any, bool) { return Undefined, true }

// step is one field read: a field by name, or a position (index >= 0).
type step struct {
	field string
	index int
}

// pathExpr is a parameter and the fields read from it.
type pathExpr struct {
	param int
	steps []step
}

// eval reads the path. It gives up on a missing field (goja would look it up on the
// prototype), a read from anything but a record, map or list, and a value JS would see
// differently (bytes, a string that is not valid UTF-8).
func (e *pathExpr) eval(a args) (any, bool) {
	v := a[e.param]
	for _, s := range e.steps {
		switch c := v.(type) {
		case map[string]any:
			if s.index >= 0 {
				return nil, false
			}
			var ok bool
			if v, ok = c[s.field]; !ok {
				return nil, false
			}
		case []any:
			if s.index < 0 || s.index >= len(c) {
				return nil, false
			}
			v = c[s.index]
		default:
			return nil, false
		}
	}
	switch x := v.(type) {
	case int64:
		return jsInt(x, v), true
	case nil, bool, float64, map[string]any, []any, undefinedValue:
		return v, true
	case string:
		return v, utf8.ValidString(x)
	}
	return nil, false
}

// maxExactInt is the largest integer goja keeps as an integer: beyond it, a number is a float.
const maxExactInt = 1 << 53

// jsInt is the number JS sees for an integer: boxed, as it is when within ±2^53, else the
// nearest float (as goja converts it).
func jsInt(i int64, boxed any) any {
	if i >= -maxExactInt && i <= maxExactInt {
		return boxed
	}
	return float64(i)
}

type notExpr struct{ x expr }

func (e *notExpr) eval(a args) (any, bool) {
	v, ok := e.x.eval(a)
	if !ok {
		return nil, false
	}
	t, ok := truthy(v)
	return !t, ok
}

type nullishExpr struct {
	x      expr
	negate bool
}

func (e *nullishExpr) eval(a args) (any, bool) {
	v, ok := e.x.eval(a)
	if !ok {
		return nil, false
	}
	return (v == nil || v == Undefined) != e.negate, true
}

type condExpr struct{ test, then, alt expr }

func (e *condExpr) eval(a args) (any, bool) {
	x, ok := e.pick(a)
	if !ok {
		return nil, false
	}
	return x.eval(a)
}

// pick is the branch the test chooses.
func (e *condExpr) pick(a args) (expr, bool) {
	v, ok := e.test.eval(a)
	if !ok {
		return nil, false
	}
	t, ok := truthy(v)
	if t {
		return e.then, ok
	}
	return e.alt, ok
}

type arrayExpr struct{ elems []expr }

func (e *arrayExpr) eval(args) (any, bool) { return literalObject{}, true }

type objectExpr struct {
	keys []string
	vals []expr
}

func (e *objectExpr) eval(args) (any, bool) { return literalObject{}, true }

// field is the expression of the last property named key (the one JS keeps), or nil.
func (e *objectExpr) field(key string) expr {
	for i := len(e.keys) - 1; i >= 0; i-- {
		if e.keys[i] == key {
			return e.vals[i]
		}
	}
	return nil
}

type binOp uint8

const (
	opStrictEq binOp = iota
	opStrictNe
	opLess
	opLessEq
	opGreater
	opGreaterEq
	opAnd
	opOr
	opAdd
	opSub
	opMul
	opDiv
)

type binExpr struct {
	op   binOp
	l, r expr
}

func (e *binExpr) eval(a args) (any, bool) {
	if e.op == opAnd || e.op == opOr {
		x, v, ok := e.logical(a)
		if !ok || x == nil {
			return v, ok
		}
		return x.eval(a)
	}
	l, ok := e.l.eval(a)
	if !ok {
		return nil, false
	}
	r, ok := e.r.eval(a)
	if !ok {
		return nil, false
	}
	switch e.op {
	case opStrictEq:
		return strictEqual(l, r)
	case opStrictNe:
		eq, ok := strictEqual(l, r)
		return !eq, ok
	case opAdd, opSub, opMul, opDiv:
		return arith(e.op, l, r)
	}
	return compare(e.op, l, r)
}

// arith is +, -, * and / as goja computes them: on two integers (always within ±2^53 here)
// in int64 when the result is exact, else in float64; + of two strings concatenates. Any
// other operand (a conversion to number or string) gives up.
func arith(op binOp, l, r any) (any, bool) {
	if ls, ok := l.(string); ok && op == opAdd {
		rs, ok := r.(string)
		return ls + rs, ok
	}
	li, lInt := l.(int64)
	ri, rInt := r.(int64)
	if lInt && rInt {
		switch op {
		case opAdd:
			return jsInt(li+ri, li+ri), true
		case opSub:
			return jsInt(li-ri, li-ri), true
		case opMul:
			if li == 0 && ri == -1 || li == -1 && ri == 0 { // goja's only integer -0
				return negZero, true
			}
			if p := li * ri; li == 0 || p/li == ri {
				return jsInt(p, p), true
			}
		}
	}
	lf, ok1 := toNumber(l)
	rf, ok2 := toNumber(r)
	if !ok1 || !ok2 {
		return nil, false
	}
	switch op {
	case opAdd:
		return lf + rf, true
	case opSub:
		return lf - rf, true
	case opMul:
		return lf * rf, true
	}
	return lf / rf, true
}

// logical evaluates the left side of && or ||: either the left value is the result (x nil),
// or the right expression x is.
func (e *binExpr) logical(a args) (x expr, v any, ok bool) {
	l, ok := e.l.eval(a)
	if !ok {
		return nil, nil, false
	}
	t, ok := truthy(l)
	if !ok {
		return nil, nil, false
	}
	if t == (e.op == opAnd) {
		return e.r, nil, true
	}
	return nil, l, true
}

// truthy is JS ToBoolean.
func truthy(v any) (bool, bool) {
	switch x := v.(type) {
	case nil, undefinedValue:
		return false, true
	case bool:
		return x, true
	case int64:
		return x != 0, true
	case float64:
		return x != 0 && !math.IsNaN(x), true
	case string:
		return x != "", true
	case map[string]any, []any, literalObject:
		return true, true
	}
	return false, false
}

// strictEqual is JS ===; ok false when both sides are objects (compared by identity).
func strictEqual(l, r any) (bool, bool) {
	switch x := l.(type) {
	case nil:
		return r == nil, true
	case undefinedValue:
		return r == Undefined, true
	case bool:
		y, ok := r.(bool)
		return ok && x == y, true
	case string:
		y, ok := r.(string)
		return ok && x == y, true
	case int64:
		switch y := r.(type) {
		case int64:
			return x == y, true
		case float64:
			return float64(x) == y, true
		}
	case float64:
		switch y := r.(type) {
		case int64:
			return x == float64(y), true
		case float64:
			return x == y, true
		}
	}
	if isObject(l) && isObject(r) {
		return false, false
	}
	return false, true // different kinds
}

// isObject reports whether a value is an object in JS.
func isObject(v any) bool {
	switch v.(type) {
	case map[string]any, []any, literalObject:
		return true
	}
	return false
}

// compare is <, <=, > and >= between two numbers, or two ASCII strings (JS compares UTF-16
// code units, which orders other strings differently from Go); anything else gives up.
func compare(op binOp, l, r any) (any, bool) {
	if ls, ok := l.(string); ok {
		rs, ok := r.(string)
		if !ok || !isASCII(ls) || !isASCII(rs) {
			return nil, false
		}
		c := 0
		switch {
		case ls < rs:
			c = -1
		case ls > rs:
			c = 1
		}
		return cmpResult(op, c), true
	}
	if li, ok := l.(int64); ok {
		if ri, ok := r.(int64); ok {
			c := 0
			switch {
			case li < ri:
				c = -1
			case li > ri:
				c = 1
			}
			return cmpResult(op, c), true
		}
	}
	lf, ok1 := toNumber(l)
	rf, ok2 := toNumber(r)
	if !ok1 || !ok2 {
		return nil, false
	}
	switch op {
	case opLess:
		return lf < rf, true
	case opLessEq:
		return lf <= rf, true
	case opGreater:
		return lf > rf, true
	}
	return lf >= rf, true
}

// cmpResult is the result of op for a comparison c (-1, 0, 1) of two values that are ordered.
func cmpResult(op binOp, c int) bool {
	switch op {
	case opLess:
		return c < 0
	case opLessEq:
		return c <= 0
	case opGreater:
		return c > 0
	}
	return c >= 0
}

// toNumber is a number as float64; ok false for anything else.
func toNumber(v any) (float64, bool) {
	switch x := v.(type) {
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// resolve follows the expression a function returned through ?:, && and || down to a value
// or a literal.
func resolve(x expr, a args) (SimpleResult, bool) {
	for {
		switch e := x.(type) {
		case *arrayExpr, *objectExpr:
			return SimpleResult{lit: e, args: a}, true
		case *condExpr:
			next, ok := e.pick(a)
			if !ok {
				return SimpleResult{}, false
			}
			x = next
			continue
		case *binExpr:
			if e.op == opAnd || e.op == opOr {
				next, v, ok := e.logical(a)
				if !ok {
					return SimpleResult{}, false
				}
				if next == nil {
					return SimpleResult{v: v, arg: argOf(e.l)}, true
				}
				x = next
				continue
			}
		}
		v, ok := x.eval(a)
		return SimpleResult{v: v, arg: argOf(x)}, ok
	}
}

// argOf is SimpleResult.arg for a value x evaluated to: i+1 when x is argument i itself.
func argOf(x expr) int8 {
	if p, ok := x.(*pathExpr); ok && len(p.steps) == 0 {
		return int8(p.param + 1)
	}
	return 0
}
