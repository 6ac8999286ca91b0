package script

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/schema"
)

// The evaluator of simple functions must give what goja gives, or give up. Every function
// below runs through both on the same arguments: whenever the evaluator decides, goja must
// succeed with the same converted result (or the same truthiness).

// simpleInType is the record type of the first argument of every function below.
var simpleInType = schema.MustParse(
	"{type: string, room: int, time: int, temp: float, name: string?, on: bool, tags: list<string>, at: {x: int, y: float?}, raw: bytes, attrs: map<string, int>}")

// simpleStateType is the type of the second argument (undefined when absent).
var simpleStateType = schema.MustParse("(bool, int)")

// simpleCase is a function, what it is recognised as, and the type its result converts to:
// "filter" compares truthiness, a type compares As with FromJSAs, "state" splits the
// [outputs, newState] pair of flat_map_with_state.
type simpleCase struct {
	code string
	out  string
}

const (
	outFilter = "filter"
	outState  = "state"
)

// motionAlarmFn is the motion alarm's function, as in the bench workloads.
const motionAlarmFn = `(e, s) => {
        switch (e.type) {
          case "activate": return [[], [true, e.time]];
          case "deactivate": return [[], [false, e.time]];
          case "motion":
            if (s !== undefined && s !== null && s[0]) return [[{room: e.room, time: e.time}], s];
            return [[], s];
          default: return [[], s];
        }
      }`

var simpleCases = []simpleCase{
	{`e => e.type === "motion"`, outFilter},
	{`e => e.type !== "motion" && e.room > 3`, outFilter},
	{`e => e.room >= 5 || e.temp < 0.5`, outFilter},
	{`e => e.room <= e.time`, outFilter},
	{`e => e.room === e.time`, outFilter},
	{`e => e.room - e.time > 0 || e.temp / e.room`, outFilter},
	{`e => e.room * -1 === 0 * e.time`, outFilter},
	{`e => ({n: e.room + 1, t: e.temp * 2, d: e.time / 3, s: e.type + "!", m: e.room * e.time})`, "{n: int, t: float, d: float, s: string, m: float}"},
	{`e => ({n: e.room + e.time, m: e.room * e.room, z: 0 * e.room, q: e.room / e.time})`, "{n: float, m: float, z: float, q: float}"},
	{`e => ({v: e.temp - e.room, w: e.room - 1.5})`, "{v: int, w: float}"},
	{`(e, s) => [[], [true, (s ? s[1] : 0) + e.room]]`, outState},
	{`e => e.room === 4611686018427387905 || e.room === -9007199254740993`, outFilter},
	{`e => ({t: e.time})`, "{t: float}"},
	{`e => e.temp > e.room`, outFilter},
	{`e => !e.on`, outFilter},
	{`e => e.name`, outFilter},
	{`e => e.name == null`, outFilter},
	{`e => undefined != e.name`, outFilter},
	{`e => e.name === null`, outFilter},
	{`e => e.name === undefined`, outFilter},
	{`e => e.temp`, outFilter},
	{`e => e.type < "m"`, outFilter},
	{`e => e.type >= e.name`, outFilter},
	{`e => e.tags`, outFilter},
	{`e => e.tags[0] === "a"`, outFilter},
	{`e => e.tags[1]`, outFilter},
	{`e => e.at.x === 1`, outFilter},
	{`e => e.at.y`, outFilter},
	{`e => e["type"] === "noise"`, outFilter},
	{`e => e.attrs.k > 0`, outFilter},
	{`e => e.room === 3.0`, outFilter},
	{`e => e.temp === 3`, outFilter},
	{`e => e.room === -1`, outFilter},
	{`e => e.temp === -0`, outFilter},
	{`e => e.on ? e.room > 2 : e.temp`, outFilter},
	{`function (e) { return e.type === "motion" }`, outFilter},
	{`e => { if (e.on) { return e.room } else return e.temp }`, outFilter},
	{`e => ({room: e.room, time: e.time, motion: e.type === "motion"})`, "{room: int, time: int, motion: bool}"},
	{`e => ({room: e.room, t: e.temp})`, "{room: int, t: int}"},
	{`e => ({room: e.temp, t: e.room})`, "{room: float, t: float}"},
	{`e => ({name: e.name, extra: 1})`, "{name: string?}"},
	{`e => ({name: e.name})`, "{name: string}"},
	{`e => ({type: e.type, type: "x"})`, "{type: string}"},
	{`e => ({"room": e.room, tags: e.tags})`, "{room: int, tags: list<string>}"},
	{`e => ({room: e.room, at: e.at})`, "{room: int, at: {x: int, y: float?}}"},
	{`e => ({at: e.at})`, "{at: {x: float}}"},
	{`e => ({at: e.at})`, "{at: {x: int, y: float}}"},
	{`e => ({room: e.room, on: e.on || null})`, "{room: int, on: bool?}"},
	{`e => ({room: e.room, on: e.on && e.type})`, "{room: int, on: string?}"},
	{`e => ({room: e.room})`, "{room: int, more: int?}"},
	{`e => [e.room, e.type]`, "(int, string)"},
	{`e => [e.room, e.time]`, "list<int>"},
	{`e => e.tags`, "list<string>"},
	{`e => e.room`, "int"},
	{`e => e.temp`, "int"},
	{`e => e.type`, "string"},
	{`e => e.on`, "bool"},
	{`e => e.name`, "string?"},
	{`e => e.on ? {room: e.room} : null`, "{room: int}?"},
	{`e => e.on ? [1, 2.5] : [e.room]`, "list<float>"},
	{`e => [[], [e.on, e.time]]`, "(list<int>, (bool, int))"},
	{motionAlarmFn, outState},
	{`(e, s) => {
        switch (e.type) {
          case "activate":   return [[], [true, e.time]]
          case "deactivate": return [[], [false, e.time]]
          case "motion":
            if (s && s[0]) return [[{type: "ALARM", room: e.room, time: e.time}], s]
            return [[], s]
          default:
            return [[], s]
        }
      }`, outState},
	{`(e, s) => {
        switch (e.room) {
          case 1:
          case 2: return [[{room: e.room, time: 1}], s];
          default:
          case 3: if (s == null) break; return [[], [!s[0], s[1]]];
          case 4.5: return [[], undefined];
        }
        return [[{room: -1, time: e.time}], null];
      }`, outState},
	{`(e, s) => [s ? [] : [{room: e.room, time: e.time}], s || [false, 0]]`, outState},
	{`(e, s) => [null, [e.on, e.temp]]`, outState},
}

// simpleGivesUp are recognised functions the evaluator must leave to goja on every input
// below: a read of bytes or of a missing field, objects compared, results that do not fit.
var simpleGivesUp = []simpleCase{
	{`e => e.raw`, outFilter},
	{`e => e.type + e.room`, outFilter},
	{`e => e.on + 1`, outFilter},
	{`e => e.missing`, outFilter},
	{`e => e.tags === e.tags`, outFilter},
	{`e => ({raw: e.raw})`, "{raw: string}"},
	{`e => ({missing: e.nope})`, "{missing: int?}"},
	{`e => ({room: e.room})`, "{room: int, more: int}"},
	{`e => [e.room, e.type]`, "(int, string, int?)"},
	{`e => [e.room, e.time]`, "{room: int}"},
	{`e => e.room`, "string"},
	{`e => e`, "{room: int, type: string}"},
	{`e => e.attrs`, "map<string, int>"},
	{`(e, s) => [[{room: e.room}], s]`, outState},
}

// simpleRejected are functions the evaluator must leave to goja.
var simpleRejected = []string{
	`e => e.room % 2`,
	`e => -e.room`,
	`e => e.type == "motion"`,
	`e => x.type`,
	`e => params.limit`,
	`e => ({...e})`,
	`e => ({[e.type]: 1})`,
	`e => e[e.type]`,
	`e => ({__proto__: e})`,
	`e => e.__proto__`,
	`(e = 1) => e`,
	`(...e) => e`,
	`({room}) => room`,
	`async e => e`,
	`e => { const x = e.room; return x }`,
	`e => { for (;;) {} }`,
	`e => { e.room = 1; return e }`,
	`e => e.f()`,
	`e => [1, , 2]`,
	`e => ` + "`x`",
	`(a, b, c) => a`,
	`e => { switch (e.type) { case "a": break lbl; } }`,
}

func TestSimpleRecognised(t *testing.T) {
	for _, tc := range append(slices.Clone(simpleCases), simpleGivesUp...) {
		if newRuntime(t, nil, nil, fn(tc.code)).Func(0, 0).Simple() == nil {
			t.Errorf("%s: not recognised", tc.code)
		}
	}
	for _, code := range simpleRejected {
		p, err := Compile(nil, nil, []Source{fn(code)})
		if err != nil {
			continue // not even JS
		}
		if p.fns[0].simple != nil {
			t.Errorf("%s: recognised, but it is not simple", code)
		}
	}
}

// TestSimpleAgreesWithGoja runs every function on generated records and states.
func TestSimpleAgreesWithGoja(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := append(slices.Clone(simpleCases), simpleGivesUp...)
	for i, tc := range all {
		never := i >= len(simpleCases)
		t.Run(tc.code, func(t *testing.T) {
			c := newSimpleChecker(t, tc)
			decided := 0
			for range 400 {
				if c.check(randomRecord(rng), randomState(rng)) {
					decided++
				}
			}
			switch {
			case never && decided > 0:
				t.Errorf("the evaluator decided %d times, it should leave these to goja", decided)
			case !never && decided == 0:
				t.Errorf("the evaluator never decided")
			}
		})
	}
}

// FuzzSimpleAgreesWithGoja checks the motion alarm and a projection on fuzzed fields.
func FuzzSimpleAgreesWithGoja(f *testing.F) {
	f.Add("motion", int64(3), 1.5, true, "a", false)
	f.Add("activate", int64(1<<60), math.Copysign(0, -1), false, "\xff", true)
	var checkers []*simpleChecker
	for _, tc := range []simpleCase{
		{motionAlarmFn, outState},
		{`e => e.type !== "motion" && e.room > 3`, outFilter},
		{`e => e.room >= 5 || e.temp < 0.5`, outFilter},
		{`e => ({room: e.room, time: e.time, motion: e.type === "motion"})`, "{room: int, time: int, motion: bool}"},
		{`e => ({name: e.name, t: e.temp})`, "{name: string?, t: int}"},
		{`e => ({n: e.room + e.time, t: e.temp * e.room, d: e.temp / e.time, s: e.room - e.temp})`, "{n: float, t: float, d: float, s: int}"},
	} {
		checkers = append(checkers, newSimpleChecker(f, tc))
	}
	f.Fuzz(func(t *testing.T, typ string, room int64, temp float64, on bool, name string, nullName bool) {
		e := randomRecord(rand.New(rand.NewPCG(uint64(room), 7)))
		e["type"], e["room"], e["time"], e["temp"], e["on"], e["name"] = typ, room, room/2, temp, on, name
		if nullName {
			e["name"] = nil
		}
		for _, c := range checkers {
			c.t = t
			c.check(e, []any{on, room})
			c.check(e, Undefined)
		}
	})
}

// simpleChecker runs one case through the evaluator and through goja.
type simpleChecker struct {
	t   testing.TB
	tc  simpleCase
	r   *Runtime
	f   *Func
	out *schema.Type
}

func newSimpleChecker(t testing.TB, tc simpleCase) *simpleChecker {
	c := &simpleChecker{t: t, tc: tc, r: newRuntime(t, nil, nil, fn(tc.code))}
	c.f = c.r.Func(0, 0)
	if c.f.Simple() == nil {
		t.Fatalf("not recognised")
	}
	switch tc.out {
	case outFilter:
	case outState:
		c.out = schema.MustParse("(list<{room: int, time: int}>?, (bool, int)?)")
	default:
		c.out = schema.MustParse(tc.out)
	}
	return c
}

// check compares one evaluation and reports whether the evaluator decided.
func (c *simpleChecker) check(e map[string]any, s any) bool {
	t := c.t
	t.Helper()
	res, ok := c.f.Simple().Eval(e, s)
	if !ok {
		return false
	}
	st := goja.Undefined()
	if s != Undefined {
		st = c.r.ToJSTyped(s, simpleStateType)
	}
	v, err := c.f.Call(c.r.ToJSTyped(e, simpleInType), st)
	where := fmt.Sprintf("%s\non %#v, %#v", c.tc.code, e, s)
	if err != nil {
		t.Fatalf("%s: the evaluator decided but goja failed: %v", where, err)
	}
	switch c.tc.out {
	case outFilter:
		got, ok := res.Truthy()
		if ok && got != v.ToBoolean() {
			t.Fatalf("%s: truthy %v, goja %v", where, got, v.ToBoolean())
		}
		return ok
	case outState:
		outs, ns, ok := res.Pair()
		if !ok {
			return false
		}
		pair, isPair, err := c.r.Elems(v, 2)
		if err != nil || !isPair {
			t.Fatalf("%s: goja returned %s (%v)", where, Describe(v), err)
		}
		if ns.IsArg(1) && s != Undefined && (pair[1] != st || !Unchanged(st)) {
			t.Fatalf("%s: IsArg(1), but goja did not return the state passed in, unchanged", where)
		}
		return c.same(where+" (outputs)", outs, pair[0], c.out.Elems[0]) &&
			c.same(where+" (new state)", ns, pair[1], c.out.Elems[1])
	}
	return c.same(where, res, v, c.out)
}

// same compares a result's conversion with goja's; a conversion the evaluator gives up does
// not count as decided.
func (c *simpleChecker) same(where string, res SimpleResult, v goja.Value, typ *schema.Type) bool {
	got, ok := res.As(typ)
	if !ok {
		return false
	}
	want, err := c.r.FromJSAs(v, typ)
	if err != nil {
		c.t.Fatalf("%s: evaluator %#v, goja's result does not convert: %v", where, got, err)
	}
	if g, w := fmt.Sprintf("%#v", got), fmt.Sprintf("%#v", want); g != w {
		c.t.Fatalf("%s:\nevaluator %s\ngoja      %s", where, g, w)
	}
	return true
}

// randomRecord is a record of simpleInType with values near the edges JS treats specially.
func randomRecord(rng *rand.Rand) map[string]any {
	pick := func(vs ...any) any { return vs[rng.IntN(len(vs))] }
	strs := []any{"", "motion", "activate", "noise", "m", "a", "é", "\uffff", "😀", "\xff", "null"}
	nums := []any{int64(0), int64(1), int64(3), int64(-1), int64(5), int64(1 << 53), int64(-(1 << 53) + 1), int64(1<<62 + 1), int64(1 << 62)}
	floats := []any{0.0, math.Copysign(0, -1), 0.5, 3.0, -2.5, 1e300, float64(1 << 53), 9007199254740993.0}
	return map[string]any{
		"type":  pick(strs...),
		"room":  pick(nums...),
		"time":  pick(nums...),
		"temp":  pick(floats...),
		"name":  pick(append(strs, nil, nil)...),
		"on":    pick(true, false),
		"tags":  pick([]any{}, []any{"a"}, []any{"a", "b"}, []any{"", "é"}),
		"at":    pick(map[string]any{"x": int64(1), "y": nil}, map[string]any{"x": int64(-4), "y": 2.5}),
		"raw":   pick([]byte{}, []byte("hi")),
		"attrs": pick(map[string]any{}, map[string]any{"k": int64(2)}, map[string]any{"k": int64(0)}),
	}
}

// randomState is a state of simpleStateType, or Undefined.
func randomState(rng *rand.Rand) any {
	switch rng.IntN(3) {
	case 0:
		return Undefined
	case 1:
		return []any{true, int64(rng.IntN(5))}
	}
	return []any{false, int64(1 << 60)}
}
