package runtime

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/statebackend"
)

// genPipeline is a pipeline whose source `events` generates the given events (JS values) of
// the given schema in order, followed by operators and a stdout sink reading the uid `out`.
// ${PAR} sets its parallelism (default 1), ${COUNT} how many of the events the source
// generates (default all), ${MAXPAR} its max_parallelism (default 16). Its script defines
// show(v): v as JSON with sorted keys, "undefined" for undefined.
func genPipeline(schema string, events []string, operators string) string {
	return fmt.Sprintf(`name: ops
parallelism: ${PAR:-1}
max_parallelism: ${MAXPAR:-16}
state_backend: memory
script: |
  const events = [%s]
  const show = v => v === undefined ? "undefined" : JSON.stringify(v, v && typeof v === "object" ? Object.keys(v).sort() : null)
sources:
  - uid: events
    kind: generator
    count: ${COUNT:-%d}
    fn: i => events[i]
    schema: %s
operators:
%s
sinks:
  - {uid: sink, kind: stdout, input: out}
`, strings.Join(events, ", "), len(events), schema, operators)
}

// kv is the schema of most operator tests.
const kv = `"{k: string, v: int, tag: string}"`

// kvEvents is a keyed input: a, a, b, a, b.
var kvEvents = []string{
	`{k: "a", v: 5, tag: "x"}`, `{k: "a", v: 3, tag: "y"}`, `{k: "b", v: 7, tag: "z"}`,
	`{k: "a", v: 3, tag: "w"}`, `{k: "b", v: 9, tag: "q"}`,
}

// opCase is one operator run at parallelism 1: its output is in input order.
type opCase struct {
	name      string
	schema    string
	events    []string
	operators string
	want      []string
}

func TestStatelessOperators(t *testing.T) {
	runOpCases(t, []opCase{{
		name: "map converts to the output type", schema: kv, events: kvEvents[:2],
		operators: `
  - uid: out
    kind: map
    input: events
    fn: "e => ({k: e.k, twice: e.v * 2})"
    output: {k: string, twice: int}`,
		want: []string{`{"k":"a","twice":10}`, `{"k":"a","twice":6}`},
	}, {
		name: "filter keeps truthy records", schema: kv, events: kvEvents,
		operators: `
  - uid: out
    kind: filter
    input: events
    fn: e => e.v > 4`,
		want: []string{`{"k":"a","v":5,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`, `{"k":"b","v":9,"tag":"q"}`},
	}, {
		name: "flat_map emits zero or more records", schema: "int", events: []string{"0", "2", "1"},
		operators: `
  - uid: out
    kind: flat_map
    input: events
    fn: "n => Array.from({length: n}, (_, i) => [n, i])"
    output: "(int, int)"`,
		want: []string{`[2,0]`, `[2,1]`, `[1,0]`},
	}})
}

func TestUnionOfTwoSources(t *testing.T) {
	src := `name: union
parallelism: 1
state_backend: memory
sources:
  - {uid: evens, kind: generator, count: 3, fn: "i => 2 * i", schema: int}
  - {uid: odds, kind: generator, count: 3, fn: "i => 2 * i + 1", schema: int}
operators:
  - uid: all
    kind: union
    inputs: [evens, odds]
sinks:
  - {uid: sink, kind: stdout, input: all}
`
	got := newHarness(t, statebackend.KindMemory).mustRun(src, jobSpec{})
	diffLines(t, sorted(got), []string{"0", "1", "2", "3", "4", "5"})
}

func TestKeyedOperators(t *testing.T) {
	runOpCases(t, []opCase{{
		name: "flat_map_with_state: a null newState deletes the state", schema: kv, events: kvEvents,
		operators: `
  - uid: out
    kind: flat_map_with_state
    input: events
    key_by: k
    state: int
    output: {k: string, seen: string}
    fn: |
      (e, s) => [[{k: e.k, seen: s === undefined ? "undefined" : String(s)}], s === undefined ? e.v : null]`,
		want: []string{
			`{"k":"a","seen":"undefined"}`, `{"k":"a","seen":"5"}`, `{"k":"b","seen":"undefined"}`,
			`{"k":"a","seen":"undefined"}`, `{"k":"b","seen":"7"}`,
		},
	}, {
		name: "reduce emits the first record as is", schema: kv, events: kvEvents,
		operators: `
  - uid: out
    kind: reduce
    input: events
    key_by: k
    fn: "(a, b) => ({k: a.k, v: a.v + b.v, tag: a.tag + b.tag})"`,
		want: []string{
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":8,"tag":"xy"}`, `{"k":"b","v":7,"tag":"z"}`,
			`{"k":"a","v":11,"tag":"xyw"}`, `{"k":"b","v":16,"tag":"zq"}`,
		},
	}, {
		name: "aggregate without result emits the accumulator", schema: kv, events: kvEvents,
		operators: `
  - uid: out
    kind: aggregate
    input: events
    key_by: k
    init: () => 100
    fn: (acc, e) => acc + e.v
    accumulator: int`,
		want: []string{"105", "108", "107", "111", "116"},
	}, {
		name: "aggregate with result", schema: kv, events: kvEvents,
		operators: `
  - uid: out
    kind: aggregate
    input: events
    key_by: k
    init: "() => ({n: 0, total: 0})"
    fn: "(acc, e) => ({n: acc.n + 1, total: acc.total + e.v})"
    result: "acc => ({n: acc.n, mean: acc.total / acc.n})"
    accumulator: {n: int, total: int}
    output: {n: int, mean: float}`,
		want: []string{
			`{"n":1,"mean":5}`, `{"n":2,"mean":4}`, `{"n":1,"mean":7}`,
			`{"n":3,"mean":3.6666666666666665}`, `{"n":2,"mean":8}`,
		},
	}, {
		name: "sum keeps the first record's other fields", schema: kv, events: kvEvents,
		operators: `
  - {uid: out, kind: sum, input: events, key_by: k, field: v}`,
		want: []string{
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":8,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`,
			`{"k":"a","v":11,"tag":"x"}`, `{"k":"b","v":16,"tag":"z"}`,
		},
	}, {
		name: "min keeps the first record's other fields", schema: kv, events: kvEvents,
		operators: `
  - {uid: out, kind: min, input: events, key_by: k, field: v}`,
		want: []string{
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":3,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`,
			`{"k":"a","v":3,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`,
		},
	}, {
		name: "max keeps the first record's other fields", schema: kv, events: kvEvents,
		operators: `
  - {uid: out, kind: max, input: events, key_by: k, field: v}`,
		want: []string{
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":5,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`,
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"b","v":9,"tag":"z"}`,
		},
	}, {
		name: "min_by keeps the whole record, the first on ties", schema: kv, events: kvEvents,
		operators: `
  - {uid: out, kind: min_by, input: events, key_by: k, field: v}`,
		want: []string{
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":3,"tag":"y"}`, `{"k":"b","v":7,"tag":"z"}`,
			`{"k":"a","v":3,"tag":"y"}`, `{"k":"b","v":7,"tag":"z"}`,
		},
	}, {
		name: "max_by keeps the whole record, the first on ties", schema: kv,
		events: append(append([]string(nil), kvEvents...), `{k: "b", v: 9, tag: "tie"}`),
		operators: `
  - {uid: out, kind: max_by, input: events, key_by: k, field: v}`,
		want: []string{
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":5,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`,
			`{"k":"a","v":5,"tag":"x"}`, `{"k":"b","v":9,"tag":"q"}`, `{"k":"b","v":9,"tag":"q"}`,
		},
	}, {
		name: "sum over a float field", schema: `"{k: string, x: float}"`,
		events: []string{`{k: "a", x: 0.5}`, `{k: "a", x: 1.25}`},
		operators: `
  - {uid: out, kind: sum, input: events, key_by: k, field: x}`,
		want: []string{`{"k":"a","x":0.5}`, `{"k":"a","x":1.75}`},
	}})
}

func TestKeySelectors(t *testing.T) {
	nested := `"{user: {id: int, name: string}, stats: {n: int}}"`
	nestedEvents := []string{
		`{user: {id: 1, name: "x"}, stats: {n: 1}}`, `{user: {id: 2, name: "y"}, stats: {n: 10}}`,
		`{user: {id: 1, name: "z"}, stats: {n: 2}}`,
	}
	runOpCases(t, []opCase{{
		name: "key_by a nested field path, sum of a nested field", schema: nested, events: nestedEvents,
		operators: `
  - {uid: out, kind: sum, input: events, key_by: user.id, field: stats.n}`,
		want: []string{
			`{"user":{"id":1,"name":"x"},"stats":{"n":1}}`, `{"user":{"id":2,"name":"y"},"stats":{"n":10}}`,
			`{"user":{"id":1,"name":"x"},"stats":{"n":3}}`,
		},
	}, {
		name: "key_by a tuple position", schema: `"(string, int)"`,
		events: []string{`["a", 1]`, `["b", 2]`, `["a", 3]`},
		operators: `
  - {uid: out, kind: sum, input: events, key_by: 0, field: 1}`,
		want: []string{`["a",1]`, `["b",2]`, `["a",4]`},
	}, {
		name: "ctx.key has the key type of a path", schema: nested, events: nestedEvents,
		operators: `
  - uid: out
    kind: process
    input: events
    key_by: user.id
    output: {key: int, type: string}
    fn: "(e, ctx) => ctx.emit({key: ctx.key, type: typeof ctx.key})"`,
		want: []string{`{"key":1,"type":"number"}`, `{"key":2,"type":"number"}`, `{"key":1,"type":"number"}`},
	}, {
		name: "JS key_by with key_type int", schema: kv, events: kvEvents,
		operators: `
  - uid: out
    kind: process
    input: events
    key_by: e => e.v % 2
    key_type: int
    states:
      n: int
    output: {key: int, n: int}
    fn: |
      (e, ctx) => {
        const n = (ctx.state.n.get() || 0) + 1
        ctx.state.n.set(n)
        ctx.emit({key: ctx.key, n})
      }`,
		want: []string{`{"key":1,"n":1}`, `{"key":1,"n":2}`, `{"key":1,"n":3}`, `{"key":1,"n":4}`, `{"key":1,"n":5}`},
	}, {
		name: "JS key_by defaults to key_type string", schema: kv, events: kvEvents[:3],
		operators: `
  - uid: out
    kind: reduce
    input: events
    key_by: e => e.k + "!"
    fn: "(a, b) => ({k: a.k, v: a.v + b.v, tag: a.tag})"`,
		want: []string{`{"k":"a","v":5,"tag":"x"}`, `{"k":"a","v":8,"tag":"x"}`, `{"k":"b","v":7,"tag":"z"}`},
	}})
}

func TestKeyOfWrongTypeFails(t *testing.T) {
	src := genPipeline(kv, kvEvents, `
  - uid: out
    kind: reduce
    input: events
    key_by: e => e.k
    key_type: int
    fn: (a, b) => a`)
	_, err := newHarness(t, statebackend.KindMemory).run(src, jobSpec{})
	wantErrContaining(t, err, `"out"`, "key_by", "int", `"a"`)
}

func TestProcessStates(t *testing.T) {
	process := `
  - uid: out
    kind: process
    input: events
    key_by: k
    states:
      last: "{v: int, tag: string}"
      vs: {kind: list, type: int}
      tags: {kind: map, map_key: string, type: int}
      counts: {kind: map, map_key: int, type: string}
    output: {key: string, prev: "int?", vs: list<int>, has: bool, tagv: "int?", keys: list<string>, entries: list<string>, ikeys: list<string>}
    fn: |
      (e, ctx) => {
        const s = ctx.state
        const prev = s.last.get()
        s.last.set({v: e.v, tag: e.tag})
        s.vs.add(e.v)
        if (s.vs.get().length > 2) s.vs.update(s.vs.get().slice(1))
        const has = s.tags.has(e.tag)
        s.tags.put(e.tag, e.v)
        if (e.tag === "w") s.tags.remove("x")
        if (e.v === 9) { s.last.clear(); s.vs.clear(); s.tags.clear() }
        s.counts.put(e.v, e.tag)
        s.counts.put(10 + e.v, e.tag)
        ctx.emit({
          key: ctx.key,
          prev: prev === undefined ? null : prev.v,
          vs: s.vs.get(),
          has,
          tagv: s.tags.get(e.tag) === undefined ? null : s.tags.get(e.tag),
          keys: s.tags.keys(),
          entries: s.tags.entries().map(([k, v]) => k + "=" + v),
          ikeys: s.counts.keys(), // int map keys are decimal strings, in numeric order
        })
      }`
	runOpCases(t, []opCase{{
		name: "value, list and map states per key", schema: kv,
		events:    append(append([]string(nil), kvEvents...), `{k: "a", v: 1, tag: "x"}`),
		operators: process,
		want: []string{
			`{"key":"a","prev":null,"vs":[5],"has":false,"tagv":5,"keys":["x"],"entries":["x=5"],"ikeys":["5","15"]}`,
			`{"key":"a","prev":5,"vs":[5,3],"has":false,"tagv":3,"keys":["x","y"],"entries":["x=5","y=3"],"ikeys":["3","5","13","15"]}`,
			`{"key":"b","prev":null,"vs":[7],"has":false,"tagv":7,"keys":["z"],"entries":["z=7"],"ikeys":["7","17"]}`,
			`{"key":"a","prev":3,"vs":[3,3],"has":false,"tagv":3,"keys":["w","y"],"entries":["w=3","y=3"],"ikeys":["3","5","13","15"]}`,
			`{"key":"b","prev":7,"vs":[],"has":false,"tagv":null,"keys":[],"entries":[],"ikeys":["7","9","17","19"]}`,
			`{"key":"a","prev":3,"vs":[3,1],"has":false,"tagv":1,"keys":["w","x","y"],"entries":["w=3","x=1","y=3"],"ikeys":["1","3","5","11","13","15"]}`,
		},
	}})
}

// TestProcessStateFieldOrder: records read from a process's states reach JS with their fields
// in declared order (Object.keys, JSON.stringify), as the input record does, in value, list
// and map states.
func TestProcessStateFieldOrder(t *testing.T) {
	process := `
  - uid: out
    kind: process
    input: events
    key_by: k
    states:
      last: "{zeta: int, alpha: string}"
      all: {kind: list, type: "{zeta: int, alpha: string}"}
      byTag: {kind: map, map_key: string, type: "{zeta: int, alpha: string}"}
    output: {s: string}
    fn: |
      (e, ctx) => {
        const s = ctx.state
        s.last.set({alpha: e.tag, zeta: e.v})
        s.all.add({alpha: e.tag, zeta: e.v})
        s.byTag.put(e.tag, {alpha: e.tag, zeta: e.v})
        ctx.emit({s: [JSON.stringify(s.last.get()), Object.keys(s.all.get()[0]).join(","),
          JSON.stringify(s.byTag.get(e.tag)), JSON.stringify(s.byTag.entries())].join(" ")})
      }`
	runOpCases(t, []opCase{{
		name: "declared order", schema: kv, events: kvEvents[:1], operators: process,
		want: []string{`{"s":"{\"zeta\":5,\"alpha\":\"x\"} zeta,alpha {\"zeta\":5,\"alpha\":\"x\"} [[\"x\",{\"zeta\":5,\"alpha\":\"x\"}]]"}`},
	}})
}

// A process without on_timer keeps no timers state (pipeline declares none) and still runs.
func TestProcessWithoutOnTimer(t *testing.T) {
	src := genPipeline(kv, kvEvents[:2], `
  - uid: out
    kind: process
    input: events
    key_by: k
    output: string
    fn: "(e, ctx) => ctx.emit(ctx.key + e.v)"`)
	diffLines(t, newHarness(t, statebackend.KindMemory).mustRun(src, jobSpec{}), []string{`"a5"`, `"a3"`})
}

// runOpCases runs every case at parallelism 1, where outputs come in input order.
func runOpCases(t *testing.T, cases []opCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := newHarness(t, statebackend.KindMemory).mustRun(genPipeline(c.schema, c.events, c.operators), jobSpec{})
			diffLines(t, got, c.want)
		})
	}
}

// parallelPipeline keys 600 generated records by 7 rooms through a chain of stateless and
// keyed operators, so that each output line carries its key and its per-key sequence.
const parallelPipeline = `name: par
parallelism: ${PAR}
max_parallelism: 32
state_backend: memory
sources:
  - uid: events
    kind: generator
    count: 600
    fn: "i => ({room: 'r' + (i * 7919 % 7), i})"
    schema: {room: string, i: int}
operators:
  - uid: tagged
    kind: map
    input: events
    fn: "e => ({room: e.room, i: e.i, n: 1})"
    output: {room: string, i: int, n: int}
  - uid: counted
    kind: reduce
    input: tagged
    key_by: room
    fn: "(a, b) => ({room: a.room, i: b.i, n: a.n + 1})"
  - uid: seq
    kind: flat_map_with_state
    input: counted
    key_by: e => e.room
    state: "(int, int)"
    output: {room: string, i: int, n: int, prev: int}
    fn: |
      (e, s) => [[{room: e.room, i: e.i, n: e.n, prev: s ? s[1] : -1}], [e.n, e.i]]
  - uid: out
    kind: filter
    input: seq
    fn: e => e.i % 3 != 1
sinks:
  - {uid: sink, kind: stdout, input: out}
`

func TestParallelismKeepsPerKeyOrder(t *testing.T) {
	var base []string
	for _, c := range []struct {
		backend string
		par     string
	}{
		{statebackend.KindMemory, "1"}, {statebackend.KindMemory, "2"}, {statebackend.KindMemory, "3"},
		{statebackend.KindBadger, "3"},
	} {
		t.Run(c.backend+"/parallelism="+c.par, func(t *testing.T) {
			got := newHarness(t, c.backend).mustRun(parallelPipeline, jobSpec{vars: map[string]string{"PAR": c.par}})
			if len(got) != 400 {
				t.Fatalf("got %d records, want 400", len(got))
			}
			byKey := perKey(t, got, "room")
			for room, lines := range byKey {
				for k := 1; k < len(lines); k++ {
					if jsonInt(t, lines[k], "i") <= jsonInt(t, lines[k-1], "i") {
						t.Fatalf("room %s: %s came after %s", room, lines[k], lines[k-1])
					}
				}
			}
			if base == nil {
				base = got
				return
			}
			baseByKey := perKey(t, base, "room")
			for room, lines := range byKey {
				diffLines(t, lines, baseByKey[room])
			}
			diffLines(t, sorted(got), sorted(base))
		})
	}
}

// perKey groups JSON lines by the string field key, keeping their order.
func perKey(t *testing.T, lines []string, key string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		k, _ := m[key].(string)
		out[k] = append(out[k], l)
	}
	return out
}

// jsonInt returns an integer field of a JSON line.
func jsonInt(t *testing.T, line, field string) int64 {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	var n int64
	if err := json.Unmarshal(m[field], &n); err != nil {
		t.Fatalf("%q: field %s: %v", line, field, err)
	}
	return n
}
