package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

func TestGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Golden(t, path, "same\n")
	Golden(t, path, []byte("same\n"))
}
