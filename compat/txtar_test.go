package compat

import (
	"path/filepath"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// caseFiles reads the txtar case at path and writes each of its files into a new temporary
// directory, which it returns with the archive.
func caseFiles(t testing.TB, path string) (*testkit.Archive, string) {
	t.Helper()
	ar := testkit.ReadArchive(t, path)
	dir := t.TempDir()
	for _, f := range ar.Files {
		testkit.WriteFile(t, filepath.Join(dir, f.Name), f.Data)
	}
	return ar, dir
}
