package pipeline

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// FuzzLoad feeds arbitrary pipeline files to the loader: whatever the YAML (aliases of
// aliases, tabs, broken flow collections, odd types, JS that does not parse), Parse returns a
// pipeline or diagnostics, without panicking and without a memory blow-up. The seeds are the
// golden cases' pipeline files plus a few alias shapes.
//
//	go test -fuzz FuzzLoad -fuzztime 20s ./pipeline/
func FuzzLoad(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "validate", "*.txtar"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if p, ok := testkit.ParseArchive(data).File("pipeline.yaml"); ok {
			f.Add([]byte(p))
		}
	}
	for _, seed := range []string{
		"a: &a [1, 2]\nb: &b [*a, *a]\nc: [*b, *b]\n",
		"name: x\nparams: &p {a: *p}\n",
		"name: x\nparams:\n  a: &a {x: 1}\n  b: {<<: *a, y: 2}\n",
		"name: x\n\tsources: []\n",
	} {
		f.Add([]byte(seed))
	}
	noEnv := func(string) (string, bool) { return "", false }
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yaml", data, LoadOptions{LookupEnv: noEnv})
		if p == nil && err == nil {
			t.Fatal("neither a pipeline nor an error")
		}
	})
}
