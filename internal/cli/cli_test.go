package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
)

// testState is a GlobalState with captured streams, a temp PIPECTL_HOME and working dir.
func testState(t *testing.T, args ...string) (*GlobalState, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	env := map[string]string{"PIPECTL_HOME": filepath.Join(dir, "home")}
	gs := &GlobalState{
		Args:   append([]string{"pipectl"}, args...),
		Stdin:  strings.NewReader(""),
		Stdout: &stdout, Stderr: &stderr,
		LookupEnv: func(k string) (string, bool) {
			v, ok := env[k]
			return v, ok
		},
		Environ: func() []string { return nil },
		Getwd:   func() (string, error) { return dir, nil },
		Signals: func() (<-chan os.Signal, func()) { return make(chan os.Signal), func() {} },
		Exit:    func(code int) { t.Fatalf("exit %d", code) },
	}
	return gs, &stdout, &stderr
}

// writeFile writes a file under the state's working directory.
func writeFile(t *testing.T, gs *GlobalState, name, content string) string {
	t.Helper()
	wd, _ := gs.Getwd()
	p := filepath.Join(wd, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

const motionV1 = `name: motion
parallelism: 1
state_backend: memory
sources:
  - uid: events
    kind: file
    path: events.jsonl
    format: jsonl
    schema: {type: string, room: int, time: int}
operators:
  - uid: alarm
    kind: flat_map_with_state
    input: events
    key_by: room
    state: [bool, int]
    output: {room: int, time: int}
    fn: |
      (e, s) => e.type === "activate" ? [[], [true, e.time]]
        : e.type === "motion" && s && s[0] ? [[{room: e.room, time: e.time}], s] : [[], s]
sinks:
  - uid: out
    kind: stdout
    input: alarm
`

const events = `{"type":"activate","room":1,"time":1}
{"type":"motion","room":1,"time":2}
{"type":"motion","room":2,"time":3}
`

func TestReorderArgs(t *testing.T) {
	app := newApp(&GlobalState{})
	tests := []struct {
		in, want string
	}{
		{"pipectl run p.yaml -d", "pipectl run -d -- p.yaml"},
		{"pipectl run -d p.yaml", "pipectl run -d -- p.yaml"},
		{"pipectl run p.yaml --param a=1 --param b=2", "pipectl run --param a=1 --param b=2 -- p.yaml"},
		{"pipectl run p.yaml --from-savepoint sp -d", "pipectl run --from-savepoint sp -d -- p.yaml"},
		{"pipectl savepoint ID dir", "pipectl savepoint -- ID dir"},
		{"pipectl dump sp --uid a --state=b", "pipectl dump --uid a --state=b -- sp"},
		{"pipectl list --all", "pipectl list --all"},
		{"pipectl nope x -y", "pipectl nope x -y"},
	}
	for _, tt := range tests {
		got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{errors.New("job failed"), 1},
		{usagef("bad flag"), 2},
		{&pipeline.ReadError{Path: "p.yaml", Err: os.ErrNotExist}, 2},
		{&pipeline.ParamError{Name: "x"}, 2},
		{fmt.Errorf("find: %w", jobs.ErrUnknownJob), 2},
		{fmt.Errorf("open: %w", savepoints.ErrInvalid), 2},
		{fmt.Errorf("%w x", errUnreadableSavepoint), 2},
		{silentExit(1), 1},
		{pipeline.Diagnostics{{Msg: "x"}}, 1},
	}
	for _, tt := range tests {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

func TestCommands(t *testing.T) {
	tests := []struct {
		name       string
		files      map[string]string
		args       []string
		code       int
		stdout     string // substring expected on stdout ("" : stdout must be empty)
		stderrHas  string
		stdoutNone bool
	}{
		{name: "validate ok", files: map[string]string{"p.yaml": motionV1}, args: []string{"validate", "p.yaml"}, code: 0, stdout: "ok\n"},
		{name: "validate typo", files: map[string]string{"p.yaml": strings.Replace(motionV1, "    input: alarm", "    inputt: alarm", 1)},
			args: []string{"validate", "p.yaml"}, code: 1, stdout: `p.yaml:23:5: unknown key "inputt" in sink "out" (kind stdout) (did you mean "input"?)`},
		{name: "validate missing file", args: []string{"validate", "nope.yaml"}, code: 2, stderrHas: "nope.yaml", stdoutNone: true},
		{name: "unknown flag", files: map[string]string{"p.yaml": motionV1}, args: []string{"run", "p.yaml", "--nope"}, code: 2, stdoutNone: true},
		{name: "unknown param", files: map[string]string{"p.yaml": motionV1, "events.jsonl": events}, args: []string{"run", "p.yaml", "--param", "nope=1"}, code: 2, stdoutNone: true},
		{name: "run foreground", files: map[string]string{"p.yaml": motionV1, "events.jsonl": events}, args: []string{"run", "p.yaml"}, code: 0,
			stdout: `{"room":1,"time":2}` + "\n", stderrHas: "(motion) started"},
		{name: "check-compat against itself", files: map[string]string{"p.yaml": motionV1}, args: []string{"check-compat", "p.yaml", "--against", "p.yaml"}, code: 0,
			stdout: "3 compatible, 0 after migration, 0 incompatible, 0 dropped, 0 new"},
		{name: "check-compat incompatible", files: map[string]string{"old.yaml": motionV1, "new.yaml": strings.Replace(motionV1, "state: [bool, int]", "state: [bool, int, string]", 1)},
			args: []string{"check-compat", "new.yaml", "--against", "old.yaml", "--format", "json"}, code: 1, stdout: `"compatible": false`},
		{name: "check-compat needs one side", files: map[string]string{"p.yaml": motionV1}, args: []string{"check-compat", "p.yaml"}, code: 2, stdoutNone: true},
		{name: "unknown job", args: []string{"savepoint", "0123456789abcdef0123456789abcdef"}, code: 2, stdoutNone: true},
		{name: "list empty json", args: []string{"list", "--output", "json"}, code: 0, stdout: "[]"},
		{name: "inspect not a savepoint", args: []string{"inspect", "."}, code: 2, stdoutNone: true},
		{name: "dump without a savepoint", args: []string{"dump"}, code: 2, stdoutNone: true, stderrHas: "dump takes one savepoint path"},
		{name: "dump without --uid", args: []string{"dump", "."}, code: 2, stdoutNone: true, stderrHas: "dump needs --uid UID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gs, stdout, stderr := testState(t, tt.args...)
			for name, content := range tt.files {
				writeFile(t, gs, name, content)
			}
			code := Main(gs)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if tt.stdoutNone && stdout.Len() != 0 {
				t.Errorf("stdout = %q, want nothing", stdout)
			}
			if tt.stdout != "" && !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout = %q, want it to contain %q", stdout, tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderrHas) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.stderrHas)
			}
		})
	}
}

// TestFinalSavepointInspectDump runs a bounded job with --final-savepoint in process, then
// reads the savepoint back with inspect and dump.
func TestFinalSavepointInspectDump(t *testing.T) {
	gs, stdout, stderr := testState(t, "run", "p.yaml", "--final-savepoint", "--savepoint-dir", "sps")
	writeFile(t, gs, "p.yaml", motionV1)
	writeFile(t, gs, "events.jsonl", events)
	if code := Main(gs); code != 0 {
		t.Fatalf("run: exit %d: %s", code, stderr)
	}
	line := ""
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.HasPrefix(l, "savepoint: ") {
			line = strings.TrimPrefix(l, "savepoint: ")
		}
	}
	if line == "" {
		t.Fatalf("no savepoint line on stderr: %s", stderr)
	}
	if !strings.Contains(stdout.String(), `{"room":1,"time":2}`) {
		t.Errorf("stdout = %q", stdout)
	}

	gs2, out2, err2 := testState(t, "dump", line, "--uid", "alarm")
	if code := Main(gs2); code != 0 {
		t.Fatalf("dump: exit %d: %s", code, err2)
	}
	if want := `{"key":1,"value":[true,1]}` + "\n"; out2.String() != want {
		t.Errorf("dump = %q, want %q", out2, want)
	}
	gs3, out3, err3 := testState(t, "inspect", line, "--output", "json")
	if code := Main(gs3); code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, err3)
	}
	var ins struct {
		Trigger   string `json:"trigger"`
		Operators []struct {
			UID     string           `json:"uid"`
			Offsets map[string]int64 `json:"offsets"`
			States  []struct {
				Name    string `json:"name"`
				Entries int64  `json:"entries"`
			} `json:"states"`
		} `json:"operators"`
	}
	if err := json.Unmarshal(out3.Bytes(), &ins); err != nil {
		t.Fatalf("inspect json: %v: %s", err, out3)
	}
	if ins.Trigger != "final" || len(ins.Operators) != 3 {
		t.Fatalf("inspect = %+v", ins)
	}
	if src := ins.Operators[0]; src.UID != "events" || len(src.Offsets) != 1 {
		t.Errorf("source offsets = %+v", src)
	}
	if op := ins.Operators[1]; op.UID != "alarm" || len(op.States) != 1 || op.States[0].Entries != 1 {
		t.Errorf("alarm state = %+v", op)
	}
}
