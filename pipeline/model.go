package pipeline

import (
	"time"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// Pos is a 1-based line and column in the pipeline file.
type Pos struct{ Line, Col int }

// Code is a JavaScript function field (fn, key_by, timestamp, init, migrate, …) or the
// shared `script` block, with the position of its first character in the pipeline file.
type Code struct {
	Text string
	Pos  Pos
	// Spots is the file position of each byte of Text when Text is not the file's text as
	// written (a quoted scalar with escapes or over several lines); nil otherwise.
	Spots []script.Spot
	// Field names the field for messages: "alarm-evaluator.fn", "script".
	Field string
	// Index is the function's index in Pipeline.Funcs and in the program of
	// Pipeline.Compile (script.Runtime.Func(Index, …)); -1 for the shared script.
	Index int
}

// Role says whether a node is a source, an operator or a sink.
type Role uint8

// Node roles.
const (
	RoleSource Role = iota + 1
	RoleOperator
	RoleSink
)

// String is the role as messages name it: source, operator or sink.
func (r Role) String() string { return roles[r].name }

// Pipeline is a loaded and validated pipeline file.
type Pipeline struct {
	File string // absolute path of the pipeline file
	Dir  string // its directory: relative paths resolve against it
	Raw  []byte // the file's bytes as read
	// Env holds the environment variables the file's ${…} references read, with the values
	// they had (nil: unset, so a default applied): with Raw, what the pipeline was loaded from.
	Env map[string]*string

	Name           string
	Parallelism    int // resolved default (number of CPUs when absent)
	MaxParallelism int // default 128
	StateBackend   string
	// Memory is the job's memory budget in bytes (default DefaultMemory; run --memory
	// overrides it).
	Memory          int64
	FunctionTimeout time.Duration // default 5s
	// BufferTimeout bounds how long a partly filled batch or sink buffer waits while records
	// flow (default 100ms); a sink may set its own.
	BufferTimeout time.Duration
	SavepointDir  string // absolute; "" when not set in the file
	// CheckpointInterval is checkpoint.interval; 0 means no periodic checkpoints.
	CheckpointInterval time.Duration
	// Restart is the restart policy of a failed job (zero: none).
	Restart    Restart
	Params     map[string]any // canonical JSON-like values (int64, float64, string, …)
	ParamOrder []string       // param names in file order
	Script     *Code          // nil when absent
	// Funcs is every function field of the file in file order; Funcs[i].Index == i, and
	// function i of the program that Compile returns is Funcs[i].
	Funcs []*Code

	Sources   []*Node
	Operators []*Node
	Sinks     []*Node

	// Nodes holds every node by uid; Order lists them in topological order.
	// Warnings are findings that do not fail the load (e.g. a stdin source is not replayable).
	Warnings Diagnostics

	Nodes map[string]*Node
	Order []*Node

	compiled *compiled // the one compilation of Compile; nil for a Pipeline built by hand
}

// KeyBy is a key selector: a field path into the input type (no JS) or a JS function.
type KeyBy struct {
	Path []string     // field path: ["user", "id"] or ["0"] for a tuple position; nil for Fn
	Fn   *Code        // JS key function; nil for Path
	Type *schema.Type // the key type: from the input type for a path, key_type for a function
	Pos  Pos
}

// StateKind is how a state stores its values per key.
type StateKind string

// State kinds as written in savepoints and reports.
const (
	StateValue    StateKind = "value"
	StateList     StateKind = "list"
	StateMap      StateKind = "map"
	StateInternal StateKind = "internal"
)

// StateDesc describes one named state of a keyed operator: user-declared (process states,
// flat_map_with_state's `value`) or internal (reduce, aggregate, aggregations, windows, joins).
type StateDesc struct {
	Name string
	Kind StateKind
	// Type is the declared type: the value type, the element type of a list, the value type of
	// a map.
	Type   *schema.Type
	MapKey *schema.Type // map states: string or int
	// Schema is the type of the whole value stored per key: Type, list<Type> or
	// map<MapKey, Type>. This is what savepoints record and what check-compat compares.
	Schema      *schema.Type
	TTL         time.Duration
	Migrate     *Code
	MigrateFrom string
	Pos         Pos // the declaration that decides it (for reports)
}

// Window is a window specification (docs/pipelines.md, Event time and windows).
type Window struct {
	Tumbling       time.Duration
	SlidingSize    time.Duration
	SlidingSlide   time.Duration
	SessionGap     time.Duration
	ProcessingTime bool // windows on processing time (no `timestamp:` upstream)
	Pos            Pos
}

// Node is a source, an operator or a sink.
type Node struct {
	Role Role
	UID  string
	Kind string
	Pos  Pos            // position of the item's mapping (its first key)
	Keys map[string]Pos // position of each key written in the item, for diagnostics

	Inputs      []string // upstream uids (operators and sinks)
	Parallelism int      // resolved: own value, else the pipeline's (1 for sources and sinks)
	// PreviousUIDs are the uids its state may be stored under from before a rename, in the
	// order a restore looks for them (after its own uid).
	PreviousUIDs []string

	// Options are a source's or sink's kind-specific options, decoded as its connector
	// declares them (connectors.Spec.Keys). The fields below them are the ones the runtime
	// reads of the built-in kinds.
	Options connectors.Options

	// Sources.
	Schema    *schema.Type
	Path      string // file source: absolute glob; file sink: absolute path
	Format    string // jsonl | csv
	Follow    bool
	Count     int64 // generator: -1 when unbounded
	Rate      float64
	Timestamp *Code
	// ConnectorTime is `timestamp: kafka`: event time is the time the connector reads with
	// each record (Kafka's record timestamps); Timestamp is nil then.
	ConnectorTime     bool
	MaxOutOfOrderness time.Duration
	IdleTimeout       time.Duration

	// Operators.
	Fn, Init, Result, OnTimer *Code
	KeyBy                     []KeyBy // one for keyed kinds, two for window_join/co_group
	Output                    *schema.Type
	Field                     []string     // sum/min/max/min_by/max_by: field path or tuple position
	States                    []*StateDesc // declared (process, flat_map_with_state) and internal
	Window                    *Window
	AllowedLateness           time.Duration
	LateOutput                string
	WindowReduce              *Code // window `reduce:`
	// Accumulator is the accumulator type of an aggregate, or of a window's `aggregate:`
	// (whose init, fn and result are then Init, Fn and Result; Fn is the window function
	// only when neither Accumulator nor WindowReduce is set).
	Accumulator     *schema.Type
	FunctionTimeout time.Duration // resolved: own value, else the pipeline's
	// BufferTimeout is a sink's own buffer_timeout (0: the pipeline's).
	BufferTimeout time.Duration

	// Error policy for bad records (sources) and throwing functions (operators).
	OnError    string // fail (default) | skip | dead_letter
	DeadLetter string // absolute path of the dead-letter JSONL file

	// Derived by validation.
	InTypes []*schema.Type // type of each input, in Inputs order
	OutType *schema.Type   // type of the records this node emits (nil for sinks)
}

// OpKind is the kind of an operator node ("" for sources and sinks).
func (n *Node) OpKind() OpKind {
	if n.Role != RoleOperator {
		return ""
	}
	return OpKind(n.Kind)
}

// Op is the declaration of an operator node's kind (the zero OpSpec for sources, sinks and
// unknown kinds).
func (n *Node) Op() OpSpec { return Operators[n.OpKind()] }

// Keyed reports whether the node's kind is keyed (routes by key group and keeps keyed state).
func (n *Node) Keyed() bool { return n.Op().Keyed }

// Stateful reports whether the node keeps state: the keyed kinds, and window_all with its one
// key.
func (n *Node) Stateful() bool { return n.Op().Keyed || n.Op().Windowed }

// KeyType is the type of the node's keys (nil for unkeyed nodes).
func (n *Node) KeyType() *schema.Type {
	if len(n.KeyBy) == 0 {
		return nil
	}
	return n.KeyBy[0].Type
}

// AggregatesAtFire reports whether a window's aggregate keeps the window's records and folds
// them when it fires, instead of a running accumulator: event-time session windows, whose
// sessions an out-of-order record can join, and two accumulators cannot be combined.
func (n *Node) AggregatesAtFire() bool {
	return n.Accumulator != nil && n.Window != nil && n.Window.SessionGap > 0 && !n.Window.ProcessingTime
}
