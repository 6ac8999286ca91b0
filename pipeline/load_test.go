package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// minimal is a valid pipeline with a placeholder for extra top-level keys.
const minimal = `name: t
%s
sources:
  - uid: events
    kind: generator
    schema: int
    fn: i => i
sinks:
  - uid: out
    kind: stdout
    input: events
`

func load(t *testing.T, top string, env map[string]string) (*Pipeline, error) {
	t.Helper()
	src := strings.Replace(minimal, "%s", top, 1)
	return Parse("p.yaml", []byte(src), LoadOptions{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
}

func TestDefaults(t *testing.T) {
	p, err := load(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := min(runtime.NumCPU(), DefaultMaxParallelism); p.Parallelism != want {
		t.Errorf("Parallelism = %d, want %d", p.Parallelism, want)
	}
	if p.MaxParallelism != 128 || p.StateBackend != "badger" || p.Memory != 512<<20 || p.FunctionTimeout != 5*time.Second ||
		p.SavepointDir != "" || p.CheckpointInterval != 0 || p.BufferTimeout != 100*time.Millisecond {
		t.Errorf("defaults: %+v", p)
	}
	src := p.Nodes["events"]
	if src.Parallelism != 1 || src.Count != -1 || src.OnError != "fail" || src.Format != "jsonl" {
		t.Errorf("source defaults: %+v", src)
	}
}

func TestTopLevel(t *testing.T) {
	tests := []struct {
		top   string
		env   map[string]string
		check func(*Pipeline) bool
	}{
		{"parallelism: 3", nil, func(p *Pipeline) bool { return p.Parallelism == 3 }},
		{"parallelism: ${PAR}", map[string]string{"PAR": "7"}, func(p *Pipeline) bool { return p.Parallelism == 7 }},
		{"parallelism: ${PAR:-5}", nil, func(p *Pipeline) bool { return p.Parallelism == 5 }},
		{"max_parallelism: 4", nil, func(p *Pipeline) bool { return p.MaxParallelism == 4 && p.Parallelism <= 4 }},
		{"function_timeout: 250ms", nil, func(p *Pipeline) bool { return p.FunctionTimeout == 250*time.Millisecond }},
		{"buffer_timeout: 20ms", nil, func(p *Pipeline) bool { return p.BufferTimeout == 20*time.Millisecond }},
		{"state_backend: memory", nil, func(p *Pipeline) bool { return p.StateBackend == "memory" }},
		{"memory: 256MiB", nil, func(p *Pipeline) bool { return p.Memory == 256<<20 }},
		{"memory: ${MEM:-1GiB}", nil, func(p *Pipeline) bool { return p.Memory == 1<<30 }},
		{"checkpoint: {interval: 2d}", nil, func(p *Pipeline) bool { return p.CheckpointInterval == 48*time.Hour }},
		{"params: {a: 1, b: 1.5, c: x, d: [1, true], e: {f: null}}", nil, func(p *Pipeline) bool {
			d, _ := p.Params["d"].([]any)
			e, _ := p.Params["e"].(map[string]any)
			return p.Params["a"] == int64(1) && p.Params["b"] == 1.5 && p.Params["c"] == "x" &&
				len(d) == 2 && d[0] == int64(1) && d[1] == true && e != nil && e["f"] == nil &&
				strings.Join(p.ParamOrder, ",") == "a,b,c,d,e"
		}},
		{"params: {region: \"${REGION:-eu}\", n: \"${N:-1}\"}", nil, func(p *Pipeline) bool {
			return p.Params["region"] == "eu" && p.Params["n"] == "1" // quoted stays a string
		}},
		{"script: |\n  const x = `${y}`\n  function f() { return x }", nil, func(p *Pipeline) bool {
			return p.Script != nil && strings.Contains(p.Script.Text, "`${y}`") && p.Script.Pos == Pos{3, 3}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.top, func(t *testing.T) {
			p, err := load(t, tt.top, tt.env)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(p) {
				t.Errorf("unexpected pipeline: %+v", p)
			}
		})
	}
}

func TestTopLevelErrors(t *testing.T) {
	tests := []struct{ top, want string }{
		{"parallelism: 0", "p.yaml:2:14: parallelism must be between 1 and 128, got 0"},
		{"parallelism: two", `p.yaml:2:14: parallelism must be an integer, got "two"`},
		{"max_parallelism: 4\nparallelism: 8", "p.yaml:3:14: parallelism must be between 1 and 4, got 8"},
		{"state_backend: badgr", `p.yaml:2:16: state_backend must be one of badger, memory, got "badgr" (did you mean "badger"?)`},
		{"function_timeout: 5", `p.yaml:2:19: function_timeout: "5" needs a unit, e.g. 5s or 5ms`},
		{"function_timeout: soon", `p.yaml:2:19: function_timeout: "soon" is not a duration (write e.g. 500ms, 5s, 1m, 24h or 7d)`},
		{"memory: 32MiB", `p.yaml:2:9: memory: "32MiB" is below the minimum of 64MiB`},
		{"memory: 512MB", `p.yaml:2:9: memory: "512MB" is not a memory size (write e.g. 256MiB, 512MiB or 2GiB; units KiB, MiB, GiB)`},
		{"memory: 536870912", `p.yaml:2:9: memory: "536870912" is not a memory size`},
		{"memory: {size: 1GiB}", `p.yaml:2:9: memory must be a value, got a mapping`},
		{"checkpoint: {intervall: 1s}", `p.yaml:2:14: unknown key "intervall" in checkpoint (did you mean "interval"?)`},
		{"parallelism: ${PAR}", "p.yaml:2:14: environment variable PAR is not set (give a default with ${PAR:-value})"},
		{"name2: ${1X}", "p.yaml:2:8: bad variable reference ${1X}: write ${NAME} or ${NAME:-default}"},
		{"params: {my-param: 1}", `p.yaml:2:10: param name "my-param" must be a JavaScript identifier (it is read as params.NAME)`},
		{"name: dup", `p.yaml:2:1: duplicate key "name" in the pipeline`},
	}
	for _, tt := range tests {
		t.Run(tt.top, func(t *testing.T) {
			_, err := load(t, tt.top, nil)
			var ds Diagnostics
			if !errors.As(err, &ds) {
				t.Fatalf("err = %v, want diagnostics", err)
			}
			if !strings.Contains(ds.Error(), tt.want) {
				t.Errorf("got:\n%s\nwant a line:\n%s", ds.Error(), tt.want)
			}
		})
	}
}

// TestRelativePaths checks that paths resolve against the pipeline file's directory, not the
// working directory.
func TestRelativePaths(t *testing.T) {
	dir := t.TempDir()
	src := `name: paths
savepoint_dir: ./sp
sources:
  - uid: in
    kind: file
    path: data/*.jsonl
    schema: int
    on_error: dead_letter
    dead_letter: ../dead.jsonl
sinks:
  - uid: out
    kind: file
    path: /tmp/abs.jsonl
    input: in
`
	file := filepath.Join(dir, "sub", "p.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(file, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		p.File:                      file,
		p.Dir:                       filepath.Join(dir, "sub"),
		p.SavepointDir:              filepath.Join(dir, "sub", "sp"),
		p.Nodes["in"].Path:          filepath.Join(dir, "sub", "data", "*.jsonl"),
		p.Nodes["in"].DeadLetter:    filepath.Join(dir, "dead.jsonl"),
		p.Nodes["out"].Path:         "/tmp/abs.jsonl",
		string(p.Raw[:len("name")]): "name",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), LoadOptions{})
	var re *ReadError
	if !errors.As(err, &re) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: err = %v, want *ReadError wrapping fs.ErrNotExist", err)
	}
	_, err = Parse("p.yaml", []byte(strings.Replace(minimal, "%s", "", 1)), LoadOptions{Params: map[string]string{"x": "1"}})
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Name != "x" {
		t.Errorf("unknown param: err = %v, want *ParamError for x", err)
	}
	_, err = Parse("p.yaml", nil, LoadOptions{})
	if err == nil || err.Error() != "p.yaml:1:1: the pipeline file is empty" {
		t.Errorf("empty file: err = %v", err)
	}
}

func TestDiagnosticError(t *testing.T) {
	ds := Diagnostics{
		{File: "p.yaml", Line: 3, Col: 5, Msg: "bad"},
		{File: "p.yaml", Line: 4, Col: 1, Severity: SeverityWarning, Msg: "meh"},
	}
	if got, want := ds.Error(), "p.yaml:3:5: bad\np.yaml:4:1: warning: meh"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if !ds.HasErrors() || ds[1:].HasErrors() {
		t.Error("HasErrors is wrong")
	}
}

func TestWarningsDoNotFail(t *testing.T) {
	src := strings.Replace(strings.Replace(minimal, "%s", "", 1), "kind: generator", "kind: stdin", 1)
	src = strings.Replace(src, "    fn: i => i\n", "", 1)
	p, err := Parse("p.yaml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].Code != CodeReplay {
		t.Errorf("warnings = %v, want one not-replayable warning", p.Warnings)
	}
}

func TestParamValue(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"5000", int64(5000)}, {"1.5", 1.5}, {"true", true}, {"eu", "eu"}, {"", nil},
		{"a: b: c", "a: b: c"}, {`"5"`, "5"},
	}
	for _, tt := range tests {
		if got := ParamValue(tt.in); got != tt.want {
			t.Errorf("ParamValue(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"5s", 5 * time.Second, true}, {"1m30s", 90 * time.Second, true},
		{"7d", 7 * 24 * time.Hour, true}, {"5", 0, false}, {"x", 0, false}, {"1.5h", 90 * time.Minute, true},
	}
	for _, tt := range tests {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestCompileOnce(t *testing.T) {
	p, err := load(t, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	a, errA := p.Compile()
	b, errB := p.Compile()
	if errA != nil || errB != nil || a == nil || a != b {
		t.Errorf("Compile: %p %v, %p %v; want one program", a, errA, b, errB)
	}
	if len(p.Funcs) != 1 || p.Funcs[0].Index != 0 || p.Funcs[0].Field != "events.fn" || p.Funcs[0].Pos != (Pos{7, 9}) {
		t.Errorf("Funcs = %+v", p.Funcs[0])
	}
}

func TestStream(t *testing.T) {
	src := `name: late
sources:
  - {uid: in, kind: generator, schema: {t: int}, fn: "i => i", timestamp: "e => e.t"}
operators:
  - uid: w
    kind: window_all
    input: in
    window: {tumbling: 1s}
    late_output: late
    reduce: (a, b) => b
sinks:
  - {uid: out, kind: stdout, input: late}
`
	p, err := Parse("p.yaml", []byte(src), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n, late := p.Stream("late"); n != p.Nodes["w"] || !late {
		t.Errorf("Stream(late) = %v, %v", n, late)
	}
	if n, late := p.Stream("in"); n != p.Nodes["in"] || late {
		t.Errorf("Stream(in) = %v, %v", n, late)
	}
	if n, _ := p.Stream("out"); n != nil {
		t.Errorf("Stream(out) = %v, want nil (a sink)", n)
	}
	if got := p.Nodes["out"].InTypes[0].String(); got != "{t: int}" {
		t.Errorf("late stream type = %s", got)
	}
}

func TestParamTypes(t *testing.T) {
	src := strings.Replace(minimal, "%s", "params: {tolerance: 0, ratio: 0.5, region: eu, on: true, ids: [1], any: null}", 1)
	tests := []struct {
		name, value string
		want        any    // the param's value
		err         string // or the error
	}{
		{"tolerance", "5000", int64(5000), ""},
		{"tolerance", "2.5", 2.5, ""},
		{"ratio", "1", int64(1), ""},
		{"region", "5000", "5000", ""},
		{"on", "false", false, ""},
		{"ids", "[2, 3]", []any{int64(2), int64(3)}, ""},
		{"any", "x", "x", ""},
		{"tolerance", "abc", nil, `param "tolerance": "abc" is not a number, the type of its value in the pipeline's params`},
		{"on", "yes please", nil, `param "on": "yes please" is not a boolean (true or false), the type of its value in the pipeline's params`},
		{"ids", "3", nil, `param "ids": "3" is not a list, the type of its value in the pipeline's params`},
		{"tolerance", "9007199254740991", int64(9007199254740991), ""},
		{"tolerance", "9007199254740993", nil, `param "tolerance": "9007199254740993" is not a number within ±(2^53-1) (JavaScript would round it), the type of its value in the pipeline's params`},
		{"region", "9007199254740993", "9007199254740993", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(src), LoadOptions{Params: map[string]string{tc.name: tc.value}})
			var pe *ParamError
			switch {
			case tc.err != "":
				if !errors.As(err, &pe) || err.Error() != tc.err {
					t.Errorf("got %v, want the *ParamError %s", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case fmt.Sprint(p.Params[tc.name]) != fmt.Sprint(tc.want):
				t.Errorf("got %#v, want %#v", p.Params[tc.name], tc.want)
			}
		})
	}
}
