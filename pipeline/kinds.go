package pipeline

import (
	"maps"
	"slices"

	"github.com/pipectl/pipectl/schema"
)

// OpKind is an operator kind as written in pipeline files (`kind: window`).
type OpKind string

// The operator kinds. Each is declared once, in Operators.
const (
	OpMap              OpKind = "map"
	OpFilter           OpKind = "filter"
	OpFlatMap          OpKind = "flat_map"
	OpUnion            OpKind = "union"
	OpFlatMapWithState OpKind = "flat_map_with_state"
	OpProcess          OpKind = "process"
	OpReduce           OpKind = "reduce"
	OpAggregate        OpKind = "aggregate"
	OpSum              OpKind = "sum"
	OpMin              OpKind = "min"
	OpMax              OpKind = "max"
	OpMinBy            OpKind = "min_by"
	OpMaxBy            OpKind = "max_by"
	OpWindow           OpKind = "window"
	OpWindowAll        OpKind = "window_all"
	OpWindowJoin       OpKind = "window_join"
	OpCoGroup          OpKind = "co_group"
)

// OutputRule says which type an operator kind emits.
type OutputRule uint8

// String describes the rule for the reference docs.
func (r OutputRule) String() string {
	switch r {
	case OutDeclared:
		return "the declared `output`"
	case OutInput:
		return "the input type"
	case OutUnion:
		return "the one type its inputs share"
	case OutAggregate:
		return "with `result`, the declared `output`; else the accumulator"
	case OutWindowBody:
		return "with `reduce`, the input type; with `aggregate`, its `result`'s declared `output`, else the accumulator; with `fn`, the declared `output`"
	}
	return "unknown"
}

// Output rules.
const (
	OutDeclared   OutputRule = iota + 1 // the declared `output:`
	OutInput                            // the input type
	OutUnion                            // the one type its inputs share
	OutAggregate                        // result's declared output, else the accumulator
	OutWindowBody                       // by the window's body: reduce keeps the input, aggregate as OutAggregate, fn its output
)

// FieldRule says what `field:` of a built-in aggregation must be.
type FieldRule uint8

// Field rules.
const (
	FieldNone    FieldRule = iota // no field
	FieldNumber                   // an int or float field (sum, min, max)
	FieldOrdered                  // an int, float or string field (min_by, max_by)
)

// TwoOrMore is OpSpec.Inputs of a kind that reads two or more streams (union).
const TwoOrMore = 0

// OpKey declares one key of an operator kind (besides uid, kind, parallelism, previous_uids
// and, for kinds that run JavaScript, function_timeout, on_error, dead_letter).
type OpKey struct {
	Name     string
	Required bool
	Doc      string // one line for the reference docs
}

// InternalState is a state an operator kind keeps by itself, without a declaration in the
// pipeline file.
type InternalState struct {
	Name string
	Doc  string // one line for the reference docs
	// of returns the state's schema and the position of what decides it, for a node whose
	// input types are known; a nil schema: this node does not keep the state.
	of func(n *Node) (*schema.Type, Pos)
}

// OpSpec declares an operator kind: the loader, the type checker, the JSON Schema, the
// checker and the runtime ask it instead of comparing kind names.
type OpSpec struct {
	Kind    OpKind
	Summary string // one sentence for the reference docs
	Keys    []OpKey
	JS      bool // runs JavaScript: takes function_timeout, on_error, dead_letter
	Keyed   bool // routes by key group and keeps keyed state
	// Windowed kinds assign records to windows (window, allowed_lateness, late_output) and
	// keep timers.
	Windowed bool
	// OneSubtask kinds run at parallelism 1, with one constant key (window_all).
	OneSubtask bool
	Inputs     int // 1, 2 ([left, right] with two key selectors) or TwoOrMore
	Output     OutputRule
	Field      FieldRule
	States     []InternalState // in the order nodes list them, after the declared states
}

// The keys several kinds share.
var (
	keyInput      = OpKey{"input", true, "the uid of the stream it reads"}
	keyInputs     = OpKey{"inputs", true, "the uids of the streams it reads"}
	keyJoinInputs = OpKey{"inputs", true, "the uids of its two streams: [left, right]"}
	keyKeyBy      = OpKey{"key_by", true, "the key: a field path (room, user.id, 0) or a function of the record"}
	keyJoinKeyBy  = OpKey{"key_by", true, "the keys of both sides: [left, right], each a field path or a function"}
	keyKeyType    = OpKey{"key_type", false, "the type a key_by function returns (default string)"}
	keyOutput     = OpKey{"output", true, "the type of the records it emits"}
	keyWindow     = OpKey{"window", true, "{tumbling: D}, {sliding: {size: D, slide: D}} or {session: {gap: D}}"}
	keyLateness   = OpKey{"allowed_lateness", false, "how long after its end a window still takes late records"}
	keyLateOutput = OpKey{"late_output", false, "the uid of a stream of the records too late for their window"}
	keyField      = OpKey{"field", true, "the field it aggregates: a field path or a tuple position"}
	keyWindowBody = []OpKey{ // one of fn, reduce and aggregate
		{"fn", false, "(key, w, records) => outputs, once per window; w is {start, end}"},
		{"reduce", false, "(a, b) => c: folds the window's records as they come"},
		{"aggregate", false, "{init, fn, result, accumulator}: an accumulator per window"},
		{"output", false, "the type of the records it emits (required with fn, or with aggregate's result)"},
	}
	keyAggregation = []OpKey{keyInput, keyKeyBy, keyKeyType, keyField}
)

// The internal states several kinds share.
var (
	stateTimers = InternalState{StateTimers, "the pending event-time and processing-time timers per key", func(n *Node) (*schema.Type, Pos) {
		return TimersType, n.Pos
	}}
	stateContents = InternalState{StateContents, "per key and window: the records, the reduced value or the accumulator", func(n *Node) (*schema.Type, Pos) {
		switch {
		case n.WindowReduce != nil:
			return n.InTypes[0], n.Keys["reduce"]
		case n.Accumulator != nil && !n.AggregatesAtFire():
			return n.Accumulator, n.Keys["aggregate"]
		}
		return listOf(n.InTypes[0]), n.Keys["window"]
	}}
	stateAgg   = InternalState{StateAgg, "the running record per key (the input type)", func(n *Node) (*schema.Type, Pos) { return n.InTypes[0], n.Pos }}
	joinStates = []InternalState{
		{StateLeft, "per key and window: the records of the left input", func(n *Node) (*schema.Type, Pos) {
			return listOf(n.InTypes[0]), n.Keys["inputs"]
		}},
		{StateRight, "per key and window: the records of the right input", func(n *Node) (*schema.Type, Pos) {
			return listOf(n.InTypes[1]), n.Keys["inputs"]
		}},
		stateTimers,
	}
)

// aggregation declares one of the built-in keyed aggregations.
func aggregation(kind OpKind, summary string, field FieldRule) OpSpec {
	return OpSpec{Kind: kind, Summary: summary, Keys: keyAggregation, Keyed: true, Inputs: 1, Output: OutInput, Field: field, States: []InternalState{stateAgg}}
}

// Operators declares every operator kind, once.
var Operators = byKind([]OpSpec{
	{Kind: OpMap, Summary: "One output record per input record.", JS: true, Inputs: 1, Output: OutDeclared,
		Keys: []OpKey{keyInput, {"fn", true, "record => output record"}, keyOutput}},
	{Kind: OpFilter, Summary: "Keeps the records its function accepts.", JS: true, Inputs: 1, Output: OutInput,
		Keys: []OpKey{keyInput, {"fn", true, "record => a truthy value to keep it"}}},
	{Kind: OpFlatMap, Summary: "Zero or more output records per input record.", JS: true, Inputs: 1, Output: OutDeclared,
		Keys: []OpKey{keyInput, {"fn", true, "record => an array of output records (null or undefined: none)"}, keyOutput}},
	{Kind: OpUnion, Summary: "Merges streams of one type.", Inputs: TwoOrMore, Output: OutUnion,
		Keys: []OpKey{keyInputs}},
	{Kind: OpFlatMapWithState, Summary: "A function of each record and one value state per key (Flink's flatMapWithState).", JS: true, Keyed: true, Inputs: 1, Output: OutDeclared,
		Keys: []OpKey{keyInput, keyKeyBy, keyKeyType, {"fn", true, "(record, state) => [outputs, new state]; state is undefined for a new key, a null new state deletes it"}, {"state", true, "the type (or declaration) of its value state"}, keyOutput}},
	{Kind: OpProcess, Summary: "A function with named states and timers per key.", JS: true, Keyed: true, Inputs: 1, Output: OutDeclared,
		Keys: []OpKey{keyInput, keyKeyBy, keyKeyType, {"fn", true, "(record, ctx) => …: ctx.key, ctx.state, ctx.emit, ctx.timers"}, {"states", false, "name: declaration of each state"}, keyOutput, {"on_timer", false, "(t, ctx) => …, when a timer of the key fires"}},
		States: []InternalState{{StateTimers, stateTimers.Doc + " (only with on_timer)", func(n *Node) (*schema.Type, Pos) {
			// Without on_timer ctx.timers is unusable, and a timers state would only be
			// noise in reports and dumps.
			if n.OnTimer == nil {
				return nil, Pos{}
			}
			return TimersType, n.Keys["on_timer"]
		}}}},
	{Kind: OpReduce, Summary: "A running value per key, emitted on every record.", JS: true, Keyed: true, Inputs: 1, Output: OutInput,
		Keys:   []OpKey{keyInput, keyKeyBy, keyKeyType, {"fn", true, "(stored, record) => the new value, emitted and stored"}},
		States: []InternalState{{StateReduce, "the running value per key (the input type)", func(n *Node) (*schema.Type, Pos) { return n.InTypes[0], n.Pos }}}},
	{Kind: OpAggregate, Summary: "An accumulator per key, emitted on every record.", JS: true, Keyed: true, Inputs: 1, Output: OutAggregate,
		Keys: []OpKey{keyInput, keyKeyBy, keyKeyType, {"init", true, "() => the accumulator of a new key"}, {"fn", true, "(acc, record) => the new accumulator"},
			{"result", false, "acc => the record to emit (default: the accumulator)"}, {"accumulator", true, "the type of the accumulator"}, {"output", false, "the type of result's records (required with result)"}},
		States: []InternalState{{StateAcc, "the accumulator per key", func(n *Node) (*schema.Type, Pos) { return n.Accumulator, n.Keys["accumulator"] }}}},
	aggregation(OpSum, "The running sum of a field per key.", FieldNumber),
	aggregation(OpMin, "The running minimum of a field per key.", FieldNumber),
	aggregation(OpMax, "The running maximum of a field per key.", FieldNumber),
	aggregation(OpMinBy, "The record with the smallest field per key.", FieldOrdered),
	aggregation(OpMaxBy, "The record with the largest field per key.", FieldOrdered),
	{Kind: OpWindow, Summary: "Keyed windows with a window function, a reduce or an aggregate.", JS: true, Keyed: true, Windowed: true, Inputs: 1, Output: OutWindowBody,
		Keys:   append([]OpKey{keyInput, keyKeyBy, keyKeyType, keyWindow, keyLateness, keyLateOutput}, keyWindowBody...),
		States: []InternalState{stateContents, stateTimers}},
	{Kind: OpWindowAll, Summary: "Windows over the whole stream, at parallelism 1.", JS: true, Windowed: true, OneSubtask: true, Inputs: 1, Output: OutWindowBody,
		Keys:   append([]OpKey{keyInput, keyWindow, keyLateness, keyLateOutput}, keyWindowBody...),
		States: []InternalState{stateContents, stateTimers}},
	{Kind: OpWindowJoin, Summary: "Pairs the records of two streams with equal keys in one window.", JS: true, Keyed: true, Windowed: true, Inputs: 2, Output: OutDeclared,
		Keys:   []OpKey{keyJoinInputs, keyJoinKeyBy, keyKeyType, keyWindow, keyLateness, {"fn", true, "(l, r) => one output record, for every pair of a key and window"}, keyOutput},
		States: joinStates},
	{Kind: OpCoGroup, Summary: "Both inputs' records of a key and window, in one call.", JS: true, Keyed: true, Windowed: true, Inputs: 2, Output: OutDeclared,
		Keys:   []OpKey{keyJoinInputs, keyJoinKeyBy, keyKeyType, keyWindow, keyLateness, {"fn", true, "(key, ls, rs) => outputs, once per key and window with records on either side"}, keyOutput},
		States: joinStates},
})

// byKind indexes specs by kind.
func byKind(specs []OpSpec) map[OpKind]OpSpec {
	m := make(map[OpKind]OpSpec, len(specs))
	for _, s := range specs {
		m[s.Kind] = s
	}
	return m
}

// OpKinds lists the operator kinds, sorted.
func OpKinds() []OpKind { return slices.Sorted(maps.Keys(Operators)) }

// operatorKinds is the kindSpec of every operator kind, for the loader and the JSON Schema.
var operatorKinds = func() map[string]kindSpec {
	kinds := map[string]kindSpec{}
	for kind, s := range Operators {
		ks := kindSpec{js: s.JS}
		for _, k := range s.Keys {
			ks.keys = append(ks.keys, k.Name)
			if k.Required {
				ks.required = append(ks.required, k.Name)
			}
		}
		kinds[string(kind)] = ks
	}
	return kinds
}()
