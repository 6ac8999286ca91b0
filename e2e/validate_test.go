package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestValidate runs `pipectl validate` (and `run` on invalid input) over the files of
// testdata/validate: findings as `file:line:col: message` on stdout with exit 1, usage and
// read errors with exit 2 and nothing on stdout.
func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		code int
		// firstLines are prefixes of the first stdout lines (the positions that matter).
		firstLines []string
		golden     string // golden file of stdout; "" when stdout must be empty
	}{
		{"ok", []string{"validate", "ok.yaml"}, 0, []string{"ok"}, "validate/ok.golden"},
		{"typo'd key", []string{"validate", "typo-key.yaml"}, 1,
			[]string{`typo-key.yaml:6:5: `}, "validate/typo-key.golden"},
		{"JS syntax error at the file's line", []string{"validate", "js-syntax.yaml"}, 1,
			[]string{`js-syntax.yaml:16:`}, "validate/js-syntax.golden"},
		{"cycle", []string{"validate", "cycle.yaml"}, 1,
			[]string{`cycle.yaml:`}, "validate/cycle.golden"},
		{"key_by field and aggregation field of the wrong type, both reported", []string{"validate", "key-by-type.yaml"}, 1,
			[]string{`key-by-type.yaml:12:13: `, `key-by-type.yaml:18:12: `}, "validate/key-by-type.golden"},
		{"several files", []string{"validate", "ok.yaml", "typo-key.yaml", "cycle.yaml"}, 1,
			[]string{`typo-key.yaml:6:5: `, `cycle.yaml:`}, "validate/several.golden"},
		{"flag after the files", []string{"validate", "ok.yaml", "--bogus"}, 2, nil, ""},
		{"unknown flag", []string{"validate", "--bogus", "ok.yaml"}, 2, nil, ""},
		{"missing file", []string{"validate", "missing.yaml"}, 2, nil, ""},
		{"unreadable file (a directory)", []string{"validate", "adir"}, 2, nil, ""},
		{"run: unknown --param", []string{"run", "ok.yaml", "--param", "nope=1"}, 2, nil, ""},
		{"run: --param without a value", []string{"run", "ok.yaml", "--param", "tolerance"}, 2, nil, ""},
		{"run: invalid pipeline", []string{"run", "typo-key.yaml"}, 1, nil, ""},
		{"run: unknown flag", []string{"run", "ok.yaml", "--bogus"}, 2, nil, ""},
		{"unknown command", []string{"frobnicate"}, 2, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			copyDir(t, filepath.Join("testdata", "validate"), h.dir, ".yaml")
			if err := os.Mkdir(h.path("adir"), 0o755); err != nil {
				t.Fatal(err)
			}
			res := h.mustRun(c.code, c.args...)
			lines := nonEmptyLines(res.stdout)
			for i, prefix := range c.firstLines {
				if i >= len(lines) || !strings.HasPrefix(lines[i], prefix) {
					t.Errorf("stdout line %d: want prefix %q; stdout:\n%s", i+1, prefix, res.stdout)
				}
			}
			if c.golden == "" {
				if res.stdout != "" {
					t.Errorf("stdout %q, want nothing", res.stdout)
				}
			} else {
				testkit.Golden(t, filepath.Join("testdata", c.golden), res.stdout)
			}
			if c.code != 0 && c.golden == "" && strings.TrimSpace(res.stderr) == "" {
				t.Errorf("exit %d with nothing on stderr", c.code)
			}
		})
	}
}

// copyDir copies the files of src whose names end with ext into dst.
func copyDir(t *testing.T, src, dst, ext string) {
	t.Helper()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ext) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
