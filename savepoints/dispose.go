package savepoints

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dispose deletes a savepoint: its _metadata.json first (and the directory synced), so that
// a half-deleted savepoint is never taken for valid, then the rest. path is the directory or
// its _metadata.json. A damaged savepoint can be disposed of, and so can one whose disposal
// was interrupted (only data files left); a directory that holds anything else is refused
// (ErrInvalid) and left alone.
func Dispose(path string) error {
	dir, err := savepointDir(path)
	if err != nil {
		return fmt.Errorf("dispose: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("dispose savepoint %s: %w", dir, err)
	}
	hasMeta := false
	for _, e := range entries {
		switch {
		case e.Name() == MetadataFile:
			hasMeta = true
		case !dataFileName.MatchString(e.Name()):
			return fmt.Errorf("dispose: %w", notASavepoint(dir, "it holds "+e.Name()))
		}
	}
	if !hasMeta && len(entries) == 0 {
		return fmt.Errorf("dispose: %w", notASavepoint(dir, "empty directory"))
	}
	if hasMeta {
		if err := os.Remove(filepath.Join(dir, MetadataFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("dispose savepoint %s: %w", dir, err)
		}
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("dispose savepoint %s: %w", dir, err)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("dispose savepoint %s: %w", dir, err)
	}
	return syncDir(filepath.Dir(dir))
}
