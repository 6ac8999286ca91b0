package pipetest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/internal/suggest"
	"github.com/pipectl/pipectl/pipeline"
)

// PosError is an error at a position of a test file: `file:line:col: msg`.
type PosError struct {
	File      string
	Line, Col int
	Msg       string
}

func (e *PosError) Error() string { return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg) }

// ReadError is a test file that cannot be read: missing, not YAML, or not the test format
// (an unknown key, a missing one, a value of the wrong shape). pipectl test exits 2 on it.
type ReadError struct{ Err error }

func (e *ReadError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ReadError) Unwrap() error { return e.Err }

// File is a parsed test file. Records and values stay YAML nodes until they are checked
// against the pipeline's types (bind.go).
type File struct {
	Path     string // as given, for messages
	Pipeline string // absolute path of the pipeline file
	Params   map[string]string
	Env      map[string]string
	Tests    []*Test
}

// Test is one test of a file.
type Test struct {
	Name    string
	Line    int
	Now     time.Time // start of the fake processing clock
	Steps   []Step    // the input, in the order it is fed
	State   []Entry   // initial state
	Output  []SinkExpect
	Ordered bool
	Expect  []Entry // expected final state
}

// Step is one input step: a record of a source, or an advance of processing time.
type Step struct {
	Source string // "" for an advance
	// Record is the record; nil for a source listed without records (a step that feeds
	// nothing).
	Record  *yaml.Node
	At      *yaml.Node // the record, or the source's key
	Advance time.Duration
}

// Entry is one key of a keyed state (initial or expected); Key and Value are nil for a
// state listed without entries.
type Entry struct {
	UID, State string
	Key, Value *yaml.Node
	At         *yaml.Node // the entry, for messages about its key or value
	UIDAt      *yaml.Node // the uid's key, for messages about the operator
	StateAt    *yaml.Node // the state's key, for messages about the state
}

// SinkExpect is the expected output of one sink.
type SinkExpect struct {
	UID     string
	At      *yaml.Node // the sink's key
	Records []*yaml.Node
}

// parser reads one test file.
type parser struct{ file string }

// errAt is a read error at node n.
func (p *parser) errAt(n *yaml.Node, format string, args ...any) error {
	return &ReadError{&PosError{File: p.file, Line: n.Line, Col: n.Column, Msg: fmt.Sprintf(format, args...)}}
}

// ReadFile reads and parses the test file at path; name is how messages call it (the path
// as the user wrote it).
func ReadFile(name, path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ReadError{fmt.Errorf("read test file %s: %w", name, errors.Unwrap(err))}
	}
	return Parse(name, filepath.Dir(path), data)
}

// Parse parses a test file's bytes; name is how messages call the file and dir is the
// directory `pipeline:` resolves from.
func Parse(name, dir string, data []byte) (*File, error) {
	path := name
	p := &parser{file: path}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ReadError{pipeline.YAMLError(path, data, err)}
	}
	if len(doc.Content) == 0 {
		return nil, &ReadError{fmt.Errorf("%s: the file is empty (a test file has `pipeline:` and `tests:`)", path)}
	}
	root := doc.Content[0]
	f := &File{Path: path}
	keys, err := p.mapping(root, "a test file", []string{"pipeline", "params", "env", "now", "tests"}, "pipeline", "tests")
	if err != nil {
		return nil, err
	}
	pl, err := p.str(keys["pipeline"], "pipeline")
	if err != nil {
		return nil, err
	}
	f.Pipeline = pl
	if !filepath.IsAbs(pl) {
		abs, err := filepath.Abs(filepath.Join(dir, pl))
		if err != nil {
			return nil, &ReadError{err}
		}
		f.Pipeline = abs
	}
	if f.Params, err = p.params(keys["params"]); err != nil {
		return nil, err
	}
	if f.Env, err = p.env(keys["env"]); err != nil {
		return nil, err
	}
	now := time.UnixMilli(0) // a file-level now: is the default of its tests
	if v := keys["now"]; v != nil {
		if now, err = p.now(v); err != nil {
			return nil, err
		}
	}
	if f.Tests, err = p.tests(keys["tests"], now); err != nil {
		return nil, err
	}
	return f, nil
}

// mapping checks that n is a mapping with only the allowed keys (and the required ones) and
// returns its values by key.
func (p *parser) mapping(n *yaml.Node, what string, allowed []string, required ...string) (map[string]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "%s must be a mapping, got %s", what, shape(n))
	}
	out := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			msg := fmt.Sprintf("unknown key %q in %s", k.Value, what)
			if s := suggest.Closest(k.Value, allowed, 0); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				msg += fmt.Sprintf(" (it takes %s)", strings.Join(allowed, ", "))
			}
			return nil, p.errAt(k, "%s", msg)
		}
		if _, dup := out[k.Value]; dup {
			return nil, p.errAt(k, "key %q written twice in %s", k.Value, what)
		}
		out[k.Value] = n.Content[i+1]
	}
	for _, r := range required {
		if out[r] == nil {
			return nil, p.errAt(n, "%s needs `%s:`", what, r)
		}
	}
	return out, nil
}

// pairs returns the key and value nodes of a mapping whose keys are free (uids, names).
func (p *parser) pairs(n *yaml.Node, what string) ([][2]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return nil, p.errAt(n, "%s must be a mapping, got %s", what, shape(n))
	}
	var out [][2]*yaml.Node
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			return nil, p.errAt(k, "%s: a key must be a name, got %s", what, shape(k))
		}
		if seen[k.Value] {
			return nil, p.errAt(k, "key %q written twice in %s", k.Value, what)
		}
		seen[k.Value] = true
		out = append(out, [2]*yaml.Node{k, deref(n.Content[i+1])})
	}
	return out, nil
}

// seq checks that n is a sequence and returns its items.
func (p *parser) seq(n *yaml.Node, what string) ([]*yaml.Node, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, p.errAt(n, "%s must be a list, got %s", what, shape(n))
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = deref(c)
	}
	return items, nil
}

// str reads a non-empty string scalar.
func (p *parser) str(n *yaml.Node, what string) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
		return "", p.errAt(n, "%s must be a non-empty string, got %s", what, shape(n))
	}
	return n.Value, nil
}

// params reads `params:`: each value is kept as YAML text, as `run --param` takes it.
func (p *parser) params(n *yaml.Node) (map[string]string, error) {
	if n == nil {
		return nil, nil
	}
	kv, err := p.pairs(n, "params")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range kv {
		b, err := yaml.Marshal(flowStyle(e[1]))
		if err != nil {
			return nil, p.errAt(e[1], "params.%s: %v", e[0].Value, err)
		}
		out[e[0].Value] = strings.TrimSpace(string(b))
	}
	return out, nil
}

// env reads `env:`: variable names to scalar values.
func (p *parser) env(n *yaml.Node) (map[string]string, error) {
	if n == nil {
		return nil, nil
	}
	kv, err := p.pairs(n, "env")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range kv {
		if e[1].Kind != yaml.ScalarNode {
			return nil, p.errAt(e[1], "env.%s must be a scalar (the text of the variable), got %s", e[0].Value, shape(e[1]))
		}
		out[e[0].Value] = e[1].Value
	}
	return out, nil
}

// tests reads `tests:`; now is the fake clock's start of a test that sets none.
func (p *parser) tests(n *yaml.Node, now time.Time) ([]*Test, error) {
	items, err := p.seq(n, "tests")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, p.errAt(n, "tests is empty: a test file holds at least one test")
	}
	var out []*Test
	names := map[string]int{}
	for _, item := range items {
		t, err := p.test(item, now)
		if err != nil {
			return nil, err
		}
		if line, dup := names[t.Name]; dup {
			return nil, p.errAt(item, "a second test named %q (the first is at line %d)", t.Name, line)
		}
		names[t.Name] = t.Line
		out = append(out, t)
	}
	return out, nil
}

// test reads one item of `tests:`. `ordered:` may stand in the test as well as in its expect.
func (p *parser) test(n *yaml.Node, now time.Time) (*Test, error) {
	keys, err := p.mapping(n, "a test", []string{"name", "input", "now", "state", "ordered", "expect"}, "name")
	if err != nil {
		return nil, err
	}
	t := &Test{Line: n.Line, Now: now}
	if v := keys["ordered"]; v != nil {
		if err := deref(v).Decode(&t.Ordered); err != nil || deref(v).Tag != "!!bool" {
			return nil, p.errAt(v, "ordered must be true or false, got %s", shape(v))
		}
	}
	if t.Name, err = p.str(keys["name"], "name"); err != nil {
		return nil, err
	}
	if v := keys["now"]; v != nil {
		if t.Now, err = p.now(v); err != nil {
			return nil, err
		}
	}
	if v := keys["input"]; v != nil {
		if t.Steps, err = p.input(v); err != nil {
			return nil, err
		}
	}
	if v := keys["state"]; v != nil {
		if t.State, err = p.entries(v, "state"); err != nil {
			return nil, err
		}
	}
	if keys["expect"] == nil {
		return t, nil // the test checks only that the job runs through its input
	}
	ex, err := p.mapping(keys["expect"], "expect", []string{"output", "ordered", "state"})
	if err != nil {
		return nil, err
	}
	if v := ex["ordered"]; v != nil {
		if err := deref(v).Decode(&t.Ordered); err != nil || deref(v).Tag != "!!bool" {
			return nil, p.errAt(v, "expect.ordered must be true or false, got %s", shape(v))
		}
	}
	if v := ex["output"]; v != nil {
		kv, err := p.pairs(v, "expect.output")
		if err != nil {
			return nil, err
		}
		for _, e := range kv {
			recs, err := p.seq(e[1], "expect.output."+e[0].Value)
			if err != nil {
				return nil, err
			}
			t.Output = append(t.Output, SinkExpect{UID: e[0].Value, At: e[0], Records: recs})
		}
	}
	if v := ex["state"]; v != nil {
		if t.Expect, err = p.entries(v, "expect.state"); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// now reads `now:`: epoch milliseconds or an RFC 3339 time.
func (p *parser) now(n *yaml.Node) (time.Time, error) {
	n = deref(n)
	var ms int64
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" && n.Decode(&ms) == nil {
		return time.UnixMilli(ms), nil
	}
	if n.Kind == yaml.ScalarNode {
		if t, err := time.Parse(time.RFC3339Nano, n.Value); err == nil {
			return t, nil
		}
	}
	return time.Time{}, p.errAt(n, "now must be epoch milliseconds or an RFC 3339 time, got %s", shape(n))
}

// input reads `input:`, either a mapping of source uid to entries (fed source after source,
// as written) or a sequence of single-key steps (fed as written).
func (p *parser) input(n *yaml.Node) ([]Step, error) {
	n = deref(n)
	var steps []Step
	if n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			item = deref(item)
			if item.Kind != yaml.MappingNode || len(item.Content) != 2 {
				return nil, p.errAt(item, "an input step is `- SOURCE_UID: record` or `- advance: DURATION`, got %s", shape(item))
			}
			k, v := item.Content[0], deref(item.Content[1])
			if k.Value == "advance" {
				s, err := p.advance(v)
				if err != nil {
					return nil, err
				}
				steps = append(steps, s)
				continue
			}
			steps = append(steps, Step{Source: k.Value, Record: v, At: v})
		}
		return steps, nil
	}
	kv, err := p.pairs(n, "input")
	if err != nil {
		return nil, err
	}
	for _, e := range kv {
		items, err := p.seq(e[1], "input."+e[0].Value)
		if err != nil {
			return nil, err
		}
		if len(items) == 0 {
			// No record, but the uid must still be a source.
			steps = append(steps, Step{Source: e[0].Value, At: e[0]})
		}
		for _, item := range items {
			if item.Kind == yaml.MappingNode && len(item.Content) == 2 && item.Content[0].Value == "advance" {
				s, err := p.advance(deref(item.Content[1]))
				if err != nil {
					return nil, err
				}
				steps = append(steps, s)
				continue
			}
			steps = append(steps, Step{Source: e[0].Value, Record: item, At: item})
		}
	}
	return steps, nil
}

// advance reads the duration of an `advance:` step.
func (p *parser) advance(n *yaml.Node) (Step, error) {
	if n.Kind != yaml.ScalarNode {
		return Step{}, p.errAt(n, "advance takes a duration (e.g. 5s, 1m), got %s", shape(n))
	}
	d, err := pipeline.ParseDuration(n.Value)
	if err != nil {
		return Step{}, p.errAt(n, "advance: %v", err)
	}
	if d < 0 {
		return Step{}, p.errAt(n, "advance: processing time never goes back, got %s", n.Value)
	}
	return Step{Advance: d}, nil
}

// entries reads a state mapping: uid -> state name -> [{key, value}].
func (p *parser) entries(n *yaml.Node, what string) ([]Entry, error) {
	uids, err := p.pairs(n, what)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, u := range uids {
		states, err := p.pairs(u[1], what+"."+u[0].Value)
		if err != nil {
			return nil, err
		}
		for _, s := range states {
			where := what + "." + u[0].Value + "." + s[0].Value
			items, err := p.seq(s[1], where)
			if err != nil {
				return nil, err
			}
			if len(items) == 0 {
				// No entry, but uid and state must still exist.
				out = append(out, Entry{UID: u[0].Value, State: s[0].Value, At: s[0], UIDAt: u[0], StateAt: s[0]})
			}
			for _, item := range items {
				kv, err := p.mapping(item, "an entry of "+where, []string{"key", "value"}, "key", "value")
				if err != nil {
					return nil, err
				}
				out = append(out, Entry{UID: u[0].Value, State: s[0].Value, Key: deref(kv["key"]), Value: deref(kv["value"]), At: item,
					UIDAt: u[0], StateAt: s[0]})
			}
		}
	}
	return out, nil
}

// deref follows an alias.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// flowStyle returns a copy of n written in flow style (a one-line YAML value).
func flowStyle(n *yaml.Node) *yaml.Node {
	c := *n
	c.Style |= yaml.FlowStyle
	return &c
}

// shape names what a node is, for messages.
func shape(n *yaml.Node) string {
	n = deref(n)
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}
