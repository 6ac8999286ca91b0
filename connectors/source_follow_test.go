package connectors

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

func TestFileSourceFollow(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	writeFiles(t, dir, map[string]string{"a.jsonl": `{"type":"motion","room":1,"time":1}` + "\n"})
	src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: filepath.Join(dir, "*.jsonl"), Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	if src.Bounded() {
		t.Fatal("a follow source is bounded")
	}
	ctx := &fakeCtx{}
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()

	count := func(n int) func() bool { return func() bool { return len(ctx.records()) >= n } }
	testkit.Eventually(t, waitTimeout, "the first record", count(1))

	appendFile(t, a, `{"type":"motion","room":1,"time":2}`+"\n")
	testkit.Eventually(t, waitTimeout, "an appended record", count(2))

	// A line without its newline is not read, however many polls go by.
	appendFile(t, a, `{"type":"motion","room":1,`)
	idles := ctx.idles.Load()
	testkit.Eventually(t, waitTimeout, "several polls", func() bool { return ctx.idles.Load() > idles+3*int64(pollInterval/idleStep) })
	if got := len(ctx.records()); got != 2 {
		t.Fatalf("a partial line was emitted: %v", ctx.records())
	}
	if got := src.Offsets()[a]; got != 72 {
		t.Errorf("offset with a partial line: got %d, want 72", got)
	}
	appendFile(t, a, `"time":3}`+"\n")
	testkit.Eventually(t, waitTimeout, "the completed line", count(3))

	// A new file matched by the glob is read from its start.
	writeFiles(t, dir, map[string]string{"b.jsonl": `{"type":"motion","room":2,"time":1}` + "\n"})
	testkit.Eventually(t, waitTimeout, "a new file", count(4))

	want := []any{motion(1, 1), motion(1, 2), motion(1, 3), motion(2, 1)}
	if got := ctx.records(); !reflect.DeepEqual(got, want) {
		t.Errorf("records: got %v, want %v", got, want)
	}
	if got, want := positions(src.Offsets()), (Offsets{a: 108, b: 36}); !reflect.DeepEqual(got, want) {
		t.Errorf("offsets: got %v, want %v", got, want)
	}

	ctx.stopped.Store(true)
	select {
	case err := <-done:
		if !errors.Is(err, ErrStopped) {
			t.Fatalf("Run returned %v, want ErrStopped", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after ErrStopped")
	}
}

// TestFileSourceFollowRotation: like tail -F, a follow source finishes a rotated file (lines
// appended before the rotation, a last one without newline included), then reads the new
// file from its start; a file truncated in place is read again from its start; the rotated
// file found again by the glob under its new name is not read twice.
func TestFileSourceFollowRotation(t *testing.T) {
	rec := func(i int) string { return fmt.Sprintf(`{"type":"motion","room":1,"time":%d}`, i) }
	tests := []struct {
		name, glob string
		rotate     func(t *testing.T, a string)
	}{
		{"mv and create", "a.jsonl", func(t *testing.T, a string) {
			appendFile(t, a, rec(4)+"\n"+rec(5)) // written just before the rotation
			if err := os.Rename(a, a+".1"); err != nil {
				t.Fatal(err)
			}
			appendFile(t, a, rec(6)+"\n"+rec(7)+"\n")
		}},
		{"mv and create, both matched", "a.jsonl*", func(t *testing.T, a string) {
			appendFile(t, a, rec(4)+"\n"+rec(5)+"\n")
			if err := os.Rename(a, a+".1"); err != nil {
				t.Fatal(err)
			}
			appendFile(t, a, rec(6)+"\n"+rec(7)+"\n")
		}},
		{"copytruncate", "a.jsonl", func(t *testing.T, a string) {
			appendFile(t, a, rec(4)+"\n"+rec(5)+"\n")
			if err := os.WriteFile(a, []byte(rec(6)+"\n"+rec(7)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a := filepath.Join(dir, "a.jsonl")
			writeFiles(t, dir, map[string]string{"a.jsonl": rec(1) + "\n" + rec(2) + "\n" + rec(3) + "\n"})
			src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: filepath.Join(dir, tt.glob), Follow: true})
			if err != nil {
				t.Fatal(err)
			}
			ctx := &fakeCtx{}
			done := make(chan error, 1)
			go func() { done <- src.Run(ctx) }()
			defer func() {
				ctx.stopped.Store(true)
				<-done
			}()
			testkit.Eventually(t, waitTimeout, "the first records", func() bool { return len(ctx.records()) == 3 })
			tt.rotate(t, a)
			want := []any{motion(1, 1), motion(1, 2), motion(1, 3), motion(1, 4), motion(1, 5), motion(1, 6), motion(1, 7)}
			if tt.name == "copytruncate" {
				// The truncation may come before the appended lines were read: they are lost,
				// as with tail -F; what was read is never read twice.
				testkit.Eventually(t, waitTimeout, "the new file's records", func() bool {
					r := ctx.records()
					return len(r) >= 5 && reflect.DeepEqual(r[len(r)-2:], want[5:])
				})
				return
			}
			testkit.Eventually(t, waitTimeout, "every record", func() bool { return len(ctx.records()) >= len(want) })
			idles := ctx.idles.Load()
			testkit.Eventually(t, waitTimeout, "several polls", func() bool { return ctx.idles.Load() > idles+3*int64(pollInterval/idleStep) })
			if got := ctx.records(); !reflect.DeepEqual(got, want) {
				t.Errorf("records: got %v, want %v", got, want)
			}
			if got := positions(src.Offsets())[a]; got != int64(2*len(rec(6))+2) {
				t.Errorf("offset of the new file: %d", got)
			}
		})
	}
}

// TestFileSourceRestoreRotated: offsets carry each file's identity, so a file rotated while
// the job was down is recognised: the new file starts at 0, and the old one, matched under
// its new name, resumes at its offset.
func TestFileSourceRestoreRotated(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.jsonl")
	line := `{"type":"motion","room":1,"time":1}` + "\n"
	writeFiles(t, dir, map[string]string{"a.jsonl": line})
	first, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: filepath.Join(dir, "a.jsonl*")})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Run(&fakeCtx{}); err != nil {
		t.Fatal(err)
	}
	saved := first.Offsets()
	appendFile(t, a, `{"type":"motion","room":1,"time":2}`+"\n")
	if err := os.Rename(a, a+".1"); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"a.jsonl": `{"type":"motion","room":2,"time":3}` + "\n"})
	second, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: filepath.Join(dir, "a.jsonl*")})
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Restore(saved); err != nil {
		t.Fatal(err)
	}
	ctx := &fakeCtx{}
	if err := second.Run(ctx); err != nil {
		t.Fatal(err)
	}
	want := []any{motion(2, 3), motion(1, 2)}
	if got := ctx.records(); !reflect.DeepEqual(got, want) {
		t.Errorf("records: got %v, want %v", got, want)
	}
}

// positions leaves out the identity keys of offsets.
func positions(o Offsets) Offsets {
	out := Offsets{}
	for k, v := range o {
		if !isIdentityKey(k) {
			out[k] = v
		}
	}
	return out
}

// TestFileSourceFollowSplit: the subtasks of a followed source read every file exactly once,
// the files there at the start and one that appears later, whatever the parallelism (a file
// was read twice when the first listing was shared by index and later ones by hash).
func TestFileSourceFollowSplit(t *testing.T) {
	for _, par := range []int{2, 3, 4} {
		t.Run(fmt.Sprint(par), func(t *testing.T) {
			dir := t.TempDir()
			line := func(room int) string { return fmt.Sprintf(`{"type":"motion","room":%d,"time":1}`+"\n", room) }
			writeFiles(t, dir, map[string]string{"a.jsonl": line(1), "b.jsonl": line(2), "c.jsonl": line(3)})
			ctxs := make([]*fakeCtx, par)
			dones := make([]chan error, par)
			for i := range par {
				src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType),
					Path: filepath.Join(dir, "*.jsonl"), Follow: true, Subtask: i, Parallelism: par})
				if err != nil {
					t.Fatal(err)
				}
				ctxs[i], dones[i] = &fakeCtx{}, make(chan error, 1)
				go func() { dones[i] <- src.Run(ctxs[i]) }()
			}
			writeFiles(t, dir, map[string]string{"d.jsonl": line(4)})
			var got []any
			testkit.Eventually(t, waitTimeout, "every subtask polled the new file", func() bool {
				for _, c := range ctxs {
					if c.idles.Load() < 3*int64(pollInterval/idleStep) {
						return false
					}
				}
				got = nil
				for _, c := range ctxs {
					got = append(got, c.records()...)
				}
				return len(got) >= 4
			})
			for _, c := range ctxs {
				c.stopped.Store(true)
			}
			for _, d := range dones {
				<-d
			}
			room := func(r any) int64 { return r.(map[string]any)["room"].(int64) }
			slices.SortFunc(got, func(a, b any) int { return cmp.Compare(room(a), room(b)) })
			if want := []any{motion(1, 1), motion(2, 1), motion(3, 1), motion(4, 1)}; !reflect.DeepEqual(got, want) {
				t.Errorf("records of all subtasks: %v, want each file's once: %v", got, want)
			}
		})
	}
}

// TestFileSourceRestoreReplaced: a file replaced by another (a new inode under its path, the
// old one matched nowhere) is an error on restore when it is shorter than the stored offset,
// as a truncated one is; one at least as long is read as a new file.
func TestFileSourceRestoreReplaced(t *testing.T) {
	long := `{"type":"motion","room":1,"time":1}` + "\n" + `{"type":"motion","room":1,"time":2}` + "\n"
	tests := []struct {
		name, replacement, wantErr string
	}{
		{"shorter", `{"type":"motion","room":9,"time":9}` + "\n", "shorter than its stored offset 72: it was truncated or replaced"},
		{"as long", long, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			a := filepath.Join(dir, "a.jsonl")
			writeFiles(t, dir, map[string]string{"a.jsonl": long})
			cfg := SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: a}
			first, err := NewSource(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := first.Run(&fakeCtx{}); err != nil {
				t.Fatal(err)
			}
			saved := first.Offsets()
			// The old file stays open, so that its inode is not given to the replacement.
			old, err := os.Open(a)
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			tmp := filepath.Join(t.TempDir(), "new")
			if err := os.WriteFile(tmp, []byte(tt.replacement), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, a); err != nil {
				t.Fatal(err)
			}
			second, err := NewSource(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = second.Restore(saved)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Restore = %v, want an error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ctx := &fakeCtx{}
			if err := second.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(ctx.records()); got != 2 {
				t.Errorf("read %d records of the replacement, want its 2", got)
			}
		})
	}
}
