package progress

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fakeFile is a writer whose Stat reports a mode or fails.
type fakeFile struct {
	mode fs.FileMode
	err  error
}

func (f fakeFile) Write(p []byte) (int, error) { return len(p), nil }
func (f fakeFile) Stat() (fs.FileInfo, error)  { return fakeInfo{f.mode}, f.err }

// fakeInfo is the fs.FileInfo of a fakeFile.
type fakeInfo struct{ mode fs.FileMode }

func (fakeInfo) Name() string        { return "fake" }
func (fakeInfo) Size() int64         { return 0 }
func (i fakeInfo) Mode() fs.FileMode { return i.mode }
func (fakeInfo) ModTime() time.Time  { return time.Time{} }
func (i fakeInfo) IsDir() bool       { return i.mode.IsDir() }
func (fakeInfo) Sys() any            { return nil }

func TestIsTerminal(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
		want bool
	}{
		{"buffer", &bytes.Buffer{}, false},
		{"regular file", regular, false},
		{"pipe", w, false},
		{"character device", fakeFile{mode: fs.ModeDevice | fs.ModeCharDevice | 0o620}, true},
		{"stat fails", fakeFile{mode: fs.ModeCharDevice, err: errors.New("closed")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := IsTerminal(tc.w); got != tc.want {
				t.Errorf("IsTerminal = %v, want %v", got, tc.want)
			}
		})
	}
}
