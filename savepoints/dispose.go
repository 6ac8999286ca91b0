package savepoints

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Dispose deletes a savepoint: its _metadata.json first (and the directory synced), so that
// a half-deleted savepoint is never taken for valid, then the data files the metadata names,
// then the directory once it is empty. path is the directory or its _metadata.json. A
// savepoint whose data files are damaged can be disposed of, and so can one whose disposal
// was interrupted (only data files left). Everything else is refused (ErrInvalid) before
// anything is deleted: metadata that does not read as a savepoint's, and a directory holding
// anything the metadata does not name or that is not a regular file.
func Dispose(path string) error {
	dir, err := savepointDir(path)
	if err != nil {
		return fmt.Errorf("dispose: %w", err)
	}
	files, hasMeta, err := disposable(dir)
	if err != nil {
		return fmt.Errorf("dispose: %w", err)
	}
	if hasMeta {
		if err := os.Remove(filepath.Join(dir, MetadataFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("dispose savepoint %s: %w", dir, err)
		}
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("dispose savepoint %s: %w", dir, err)
		}
	}
	for _, f := range files {
		if err := os.Remove(filepath.Join(dir, f)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("dispose savepoint %s: %w", dir, err)
		}
	}
	if err := os.Remove(dir); err != nil {
		return fmt.Errorf("dispose savepoint %s: %w", dir, err)
	}
	return syncDir(filepath.Dir(dir))
}

// disposable checks that dir holds a savepoint and nothing else, and returns the data files
// to delete and whether _metadata.json is there. Without metadata (an interrupted disposal)
// the directory may hold only regular files with data file names.
func disposable(dir string) (files []string, hasMeta bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("savepoint %s: %w", dir, err)
	}
	named := map[string]bool{}
	for _, e := range entries {
		if e.Name() == MetadataFile {
			hasMeta = true
		}
	}
	if hasMeta {
		meta, err := readMetadata(dir)
		if err != nil {
			return nil, false, err
		}
		for _, op := range meta.Operators {
			for _, st := range op.States {
				named[st.File] = true
			}
		}
	} else if len(entries) == 0 {
		return nil, false, notASavepoint(dir, "empty directory")
	}
	for _, e := range entries {
		switch {
		case e.Name() == MetadataFile:
			continue
		case hasMeta && !named[e.Name()], !hasMeta && !dataFileName.MatchString(e.Name()):
			return nil, false, notASavepoint(dir, "it holds "+e.Name()+", which its metadata does not name")
		}
		if err := checkRegularEntry(dir, e); err != nil {
			return nil, false, err
		}
		files = append(files, e.Name())
	}
	return files, hasMeta, nil
}
