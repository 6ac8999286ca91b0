package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// keyValues reads `K=V` lines.
func keyValues(s string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(s) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), "="); ok {
			m[k] = v
		}
	}
	return m
}

// TestValidateGolden loads testdata/validate/*.txtar: each holds pipeline.yaml (and any other
// files), optional `env` and `params` sections (K=V lines), and `want`: the diagnostics, or
// a summary of the loaded pipeline. Run `go test ./pipeline -update` to rewrite `want`.
func TestValidateGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/validate/*.txtar")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, path := range cases {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a := testkit.ReadArchive(t, path)
			a.Set("want", []byte(runCase(t, a)))
			testkit.Golden(t, path, a.Format())
		})
	}
}

// runCase writes the case's files into a temporary directory, loads pipeline.yaml and
// describes the outcome with the directory's path cut out.
func runCase(t *testing.T, a *testkit.Archive) string {
	dir := t.TempDir()
	for _, f := range a.Files {
		if f.Name == "want" || f.Name == "env" || f.Name == "params" {
			continue
		}
		testkit.WriteFile(t, filepath.Join(dir, f.Name), f.Data)
	}
	envText, _ := a.File("env")
	env := keyValues(envText)
	paramText, _ := a.File("params")
	opts := LoadOptions{Params: keyValues(paramText), LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
	p, err := Load(filepath.Join(dir, "pipeline.yaml"), opts)
	var out string
	var diags Diagnostics
	var pe *ParamError
	switch {
	case errors.As(err, &diags):
		out = diags.Error() + "\n"
	case errors.As(err, &pe):
		out = "param error: " + pe.Error() + "\n"
	case err != nil:
		out = "error: " + err.Error() + "\n"
	default:
		out = summary(p)
	}
	return strings.ReplaceAll(out, dir+string(filepath.Separator), "")
}

// summary describes a loaded pipeline: its settings, each node in order with its types, key
// and states, its functions and warnings.
func summary(p *Pipeline) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "ok %s: max_parallelism=%d state_backend=%s function_timeout=%s savepoint_dir=%q checkpoint=%s\n",
		p.Name, p.MaxParallelism, p.StateBackend, p.FunctionTimeout, p.SavepointDir, p.CheckpointInterval)
	for _, name := range p.ParamOrder {
		fmt.Fprintf(&b, "param %s = %v (%T)\n", name, p.Params[name], p.Params[name])
	}
	for _, n := range p.Order {
		fmt.Fprintf(&b, "%s %s (%s) @%d:%d parallelism=%d", roles[n.Role].name, n.UID, n.Kind, n.Pos.Line, n.Pos.Col, n.Parallelism)
		if len(n.Inputs) > 0 {
			fmt.Fprintf(&b, " inputs=%v in=%v", n.Inputs, n.InTypes)
		}
		if n.OutType != nil {
			fmt.Fprintf(&b, " out=%s", n.OutType)
		}
		for _, kb := range n.KeyBy {
			if kb.Fn != nil {
				fmt.Fprintf(&b, " key=fn:%s", kb.Type)
			} else {
				fmt.Fprintf(&b, " key=%s:%s", strings.Join(kb.Path, "."), kb.Type)
			}
		}
		if n.Path != "" {
			fmt.Fprintf(&b, " path=%s", n.Path)
		}
		if n.Window != nil {
			w := n.Window
			fmt.Fprintf(&b, " window=%v/%v/%v/%v processing_time=%v", w.Tumbling, w.SlidingSize, w.SlidingSlide, w.SessionGap, w.ProcessingTime)
		}
		b.WriteString("\n")
		for _, s := range n.States {
			fmt.Fprintf(&b, "  state %s %s %s @%d:%d\n", s.Name, s.Kind, s.Schema, s.Pos.Line, s.Pos.Col)
		}
	}
	for _, c := range p.Funcs {
		fmt.Fprintf(&b, "func %d %s @%d:%d\n", c.Index, c.Field, c.Pos.Line, c.Pos.Col)
	}
	for _, w := range p.Warnings {
		fmt.Fprintf(&b, "%s\n", w.Error())
	}
	return b.String()
}
