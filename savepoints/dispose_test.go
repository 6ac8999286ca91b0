package savepoints

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestDispose(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, sp string) string // returns the path to dispose
	}{
		{"directory", func(t *testing.T, sp string) string { return sp }},
		{"metadata path", func(t *testing.T, sp string) string { return filepath.Join(sp, MetadataFile) }},
		{"damaged", func(t *testing.T, sp string) string {
			rewrite(t, filepath.Join(sp, "state-0001.bin"), func(b []byte) []byte { return b[:3] })
			return sp
		}},
		{"half disposed", func(t *testing.T, sp string) string {
			if err := os.Remove(filepath.Join(sp, MetadataFile)); err != nil {
				t.Fatal(err)
			}
			return sp
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			sp := writeSavepoint(t, parent, testMeta(), corruptData)
			if err := Dispose(tt.prepare(t, sp)); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(sp); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("savepoint still there after Dispose: %v", err)
			}
			if names := dirNames(t, parent); len(names) != 0 {
				t.Errorf("parent holds %v after Dispose", names)
			}
		})
	}
}

func TestDisposeRefusesForeignDirectories(t *testing.T) {
	tests := []struct {
		name  string
		files []string
	}{
		{"empty", nil},
		{"other files", []string{"notes.txt"}},
		{"metadata and other files", []string{MetadataFile, "notes.txt"}},
		{"empty metadata", []string{MetadataFile}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := Dispose(dir); !errors.Is(err, ErrInvalid) {
				t.Errorf("Dispose = %v, want ErrInvalid", err)
			}
			if names := dirNames(t, dir); len(names) != len(tt.files) {
				t.Errorf("Dispose touched the directory: it holds %v", names)
			}
		})
	}
}

// TestDisposeRefusesExtraFiles: a savepoint with anything its metadata does not name (a file,
// a directory under a data file's name) is refused and left whole.
func TestDisposeRefusesExtraFiles(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, sp string)
	}{
		{"unnamed data file", func(t *testing.T, sp string) {
			if err := os.WriteFile(filepath.Join(sp, "state-0099.bin"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"directory under a data file's name", func(t *testing.T, sp string) {
			if err := os.Remove(filepath.Join(sp, "state-0002.bin")); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(filepath.Join(sp, "state-0002.bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(sp, "state-0002.bin", "precious.txt"), []byte("x"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"metadata that is not a savepoint's", func(t *testing.T, sp string) {
			if err := os.WriteFile(filepath.Join(sp, MetadataFile), []byte("{}"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := writeSavepoint(t, t.TempDir(), testMeta(), corruptData)
			tt.prepare(t, sp)
			before := dirNames(t, sp)
			if err := Dispose(sp); !errors.Is(err, ErrInvalid) {
				t.Errorf("Dispose = %v, want ErrInvalid", err)
			}
			if after := dirNames(t, sp); len(after) != len(before) {
				t.Errorf("Dispose touched the savepoint: %v, was %v", after, before)
			}
		})
	}
}

func TestDisposeRefusesHiddenDirectory(t *testing.T) {
	w, err := Create(t.TempDir(), testJobID)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if err := Dispose(w.TempPath()); !errors.Is(err, ErrInvalid) {
		t.Errorf("Dispose(in-progress dir) = %v, want ErrInvalid", err)
	}
}
