package connectors

import (
	"errors"
	"path/filepath"
	"testing"
)

// failingCtx fails the Emit of its n-th record (1-based).
type failingCtx struct {
	fakeCtx
	n, seen int
	err     error
}

func (c *failingCtx) Emit(rec any) error {
	if c.seen++; c.seen == c.n {
		return c.err
	}
	return c.fakeCtx.Emit(rec)
}

// A record that fails downstream of a file source (in an operator chained to it) is named by
// its file and line; a stop is not.
func TestFileSourceEmitFailureNamesTheLine(t *testing.T) {
	content := `{"type":"motion","room":1,"time":1}` + "\n\n" + `{"type":"motion","room":2,"time":2}` + "\n"
	boom := errors.New(`operator "m": boom`)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"failure", boom, ":3: " + boom.Error()},
		{"stop", ErrStopped, ErrStopped.Error()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"a.jsonl": content})
			path := filepath.Join(dir, "a.jsonl")
			src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: path})
			if err != nil {
				t.Fatal(err)
			}
			err = src.Run(&failingCtx{n: 2, err: tc.err})
			want := tc.want
			if tc.err == boom {
				want = path + want
			}
			if err == nil || err.Error() != want || !errors.Is(err, tc.err) {
				t.Errorf("got %v, want %s", err, want)
			}
		})
	}
}
