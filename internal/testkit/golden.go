package testkit

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// update is the one flag that rewrites golden files: `go test ./pkg/ -update`.
var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// rewrite is the name data-driven test files (a case's input and expected output in one
// file, as compat's txtar cases) are refreshed by, as with cockroachdb/datadriven; -update
// refreshes them too, so one flag still refreshes everything.
var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of data-driven test files")

// Updating reports whether the tests run with -update.
func Updating() bool { return *update }

// Rewriting reports whether data-driven test files are to be rewritten: -rewrite or -update.
func Rewriting() bool { return *rewrite || *update }

// Golden compares got with the file at path, failing the test when they differ. With -update
// it writes got to path instead (creating its directory), to be reviewed with git diff.
func Golden[T ~string | ~[]byte](t testing.TB, path string, got T) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs (run the test with -update to rewrite it, then review the diff)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}
