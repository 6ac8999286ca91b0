package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes data to the file at path, creating its directory, and fails the test when
// it cannot.
func WriteFile[T ~string | ~[]byte](t testing.TB, path string, data T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
