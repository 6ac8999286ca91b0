package connectors

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pipectl/pipectl/schema"
)

// Role says whether a connector kind reads records into a pipeline or writes them out.
type Role int

// The two roles of a connector.
const (
	RoleSource Role = iota
	RoleSink
)

// String is the role's name in pipeline files ("source", "sink").
func (r Role) String() string {
	if r == RoleSink {
		return "sink"
	}
	return "source"
}

// KeyType is the YAML shape of one option of a connector kind. The pipeline loader checks
// every option against its KeyType (with the option's file:line:col) and hands the connector
// the decoded value in Options; the JSON Schema of the pipeline file and the reference docs
// are generated from the same declarations.
type KeyType int

// Option types and the Go type of their decoded value in Options.
const (
	TypeString         KeyType = iota // string
	TypeBool                          // bool
	TypeInt                           // int64
	TypeNumber                        // float64 (an integer or a float)
	TypeDuration                      // time.Duration ("500ms", "10s", "1m", "7d")
	TypeEnum                          // string, one of Key.Enum
	TypePath                          // string: a file path, resolved against the pipeline file's directory
	TypeStringList                    // []string: a sequence, or one comma-separated string ("a:9092,b:9092")
	TypeObject                        // Options: a mapping of the sub-keys Key.Keys
	TypeFunction                      // a JS function (the loader compiles it; the runtime calls it)
	TypePathOrFunction                // a field path (`room`, `user.id`) or a JS function
)

// Key declares one option of a connector kind.
type Key struct {
	Name     string
	Type     KeyType
	Required bool
	Default  string   // shown in docs and the JSON Schema; the connector applies it
	Enum     []string // the allowed values of a TypeEnum
	Keys     []Key    // the sub-keys of a TypeObject
	Doc      string   // one line for the reference docs
}

// Spec declares a connector kind: its options, its delivery or replay guarantees, and how to
// make its instances. Each connector registers its Spec once, from the file that implements
// it; everything else (validation, docs, the JSON Schema, the runtime) asks the registry.
type Spec struct {
	Kind    string
	Role    Role
	Summary string // one line for the reference docs
	Keys    []Key
	// Replayable reports whether a source can read its input again from stored offsets.
	Replayable bool
	// OneSubtask, when set, says why the kind runs as one subtask whatever parallelism the
	// pipeline gives it (the loader warns and uses 1).
	OneSubtask string
	// Offsets describes, for the docs, what a source stores in snapshots (or what a sink
	// stores as its committed state).
	Offsets string
	// StoresPosition reports, for a sink, whether one with these options stores a committed
	// state in snapshots, given the scalar value of each option as the pipeline file writes
	// it ("" when absent). nil: it stores nothing. (A source stores offsets when it is
	// Replayable.) check-compat asks it when the old side is a pipeline file, which has no
	// offsets to show.
	StoresPosition func(option func(key string) string) bool
	// Check validates the decoded options together (a key that needs another, a value with
	// a syntax of its own); each returned error names the key it is about.
	Check func(o Options) []OptionError
	// CheckInput validates the options against the record type: a source's schema (its
	// metadata fields must be declared with their types), a sink's input type (a key field
	// must be a field of it). Each returned error names the key it is about. nil: any type
	// will do.
	CheckInput func(o Options, in *schema.Type) []OptionError
	// RouteKey returns the input fields by which a sink's records are routed to its subtasks,
	// so that records with equal values reach the same subtask; none: not routed.
	RouteKey func(o Options) []string
	// NewSource makes one subtask's instance of a source kind; NewSink of a sink kind.
	NewSource func(cfg SourceConfig) (Source, error)
	NewSink   func(cfg SinkConfig) (Sink, error)
}

// OptionError is a finding about one option; the loader reports it at that key's position
// (the item's position when Key is empty).
type OptionError struct {
	Key string
	Msg string
}

// Options are a connector's decoded options by key: only the keys the pipeline file sets
// (defaults are the connector's to apply). Values have the Go types listed at KeyType.
type Options map[string]any

// String returns a string option, or def when it is not set.
func (o Options) String(key, def string) string {
	if v, ok := o[key].(string); ok {
		return v
	}
	return def
}

// Bool returns a bool option, or def when it is not set.
func (o Options) Bool(key string, def bool) bool {
	if v, ok := o[key].(bool); ok {
		return v
	}
	return def
}

// Int returns an int option, or def when it is not set.
func (o Options) Int(key string, def int64) int64 {
	if v, ok := o[key].(int64); ok {
		return v
	}
	return def
}

// Number returns a number option, or def when it is not set.
func (o Options) Number(key string, def float64) float64 {
	if v, ok := o[key].(float64); ok {
		return v
	}
	return def
}

// Duration returns a duration option, or def when it is not set.
func (o Options) Duration(key string, def time.Duration) time.Duration {
	if v, ok := o[key].(time.Duration); ok {
		return v
	}
	return def
}

// Strings returns a string-list option, or nil when it is not set.
func (o Options) Strings(key string) []string {
	v, _ := o[key].([]string)
	return v
}

// Object returns an object option, or nil when it is not set.
func (o Options) Object(key string) Options {
	v, _ := o[key].(Options)
	return v
}

var registry = struct {
	sync.RWMutex
	kinds [2]map[string]Spec
}{kinds: [2]map[string]Spec{{}, {}}}

// Register adds a connector kind. It panics on a duplicate kind or a spec without its
// constructor: both are programming errors found by any test run.
func Register(s Spec) {
	registry.Lock()
	defer registry.Unlock()
	if _, dup := registry.kinds[s.Role][s.Kind]; dup {
		panic(fmt.Sprintf("connectors: %s kind %q registered twice", s.Role, s.Kind))
	}
	if (s.Role == RoleSource && s.NewSource == nil) || (s.Role == RoleSink && s.NewSink == nil) {
		panic(fmt.Sprintf("connectors: %s kind %q has no constructor", s.Role, s.Kind))
	}
	registry.kinds[s.Role][s.Kind] = s
}

// Lookup returns the spec of a kind of the given role.
func Lookup(role Role, kind string) (Spec, bool) {
	registry.RLock()
	defer registry.RUnlock()
	s, ok := registry.kinds[role][kind]
	return s, ok
}

// Kinds returns every registered spec of a role, sorted by kind.
func Kinds(role Role) []Spec {
	registry.RLock()
	defer registry.RUnlock()
	var out []Spec
	for _, k := range slices.Sorted(maps.Keys(registry.kinds[role])) {
		out = append(out, registry.kinds[role][k])
	}
	return out
}

// KeyNames lists the names of a spec's options in declaration order.
func (s Spec) KeyNames() []string {
	names := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		names[i] = k.Name
	}
	return names
}
