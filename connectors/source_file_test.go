package connectors

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// runFile runs a bounded file source over files written to a temp dir and returns the context.
func runFile(t *testing.T, cfg SourceConfig, files map[string]string, restore Offsets) (*fakeCtx, string, error) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	cfg.Kind = "file"
	cfg.Path = filepath.Join(dir, cfg.Path)
	src, err := NewSource(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if restore != nil {
		if err := src.Restore(prefixOffsets(dir, restore)); err != nil {
			return nil, dir, err
		}
		// Before Run, Offsets are the restored ones of matched files.
		for p, off := range positions(src.Offsets()) {
			if want, ok := restore[filepath.Base(p)]; !ok || off != want {
				t.Errorf("offsets after Restore: %s at %d, restored %v", p, off, restore)
			}
		}
	}
	ctx := &fakeCtx{src: src}
	return ctx, dir, src.Run(ctx)
}

// prefixOffsets makes the file names of o absolute under dir.
func prefixOffsets(dir string, o Offsets) Offsets {
	out := Offsets{}
	for name, off := range o {
		out[filepath.Join(dir, name)] = off
	}
	return out
}

func TestFileSourceFormats(t *testing.T) {
	tests := []struct {
		name   string
		format string
		schema string
		files  map[string]string
		want   []any
	}{
		{
			name: "jsonl", format: "jsonl", schema: motionType,
			files: map[string]string{"a.jsonl": `{"type":"motion","room":1,"time":10}` + "\n" +
				"\n  \n" + // blank lines are skipped
				`{"time":20,"room":2,"type":"motion"}` + "\r\n" +
				`{"type":"motion","room":3,"time":30}`}, // last line without newline: read at EOF
			want: []any{motion(1, 10), motion(2, 20), motion(3, 30)},
		},
		{
			name: "csv types", format: "csv", schema: "{name: string, n: int, x: float, ok: bool, note: string?}",
			files: map[string]string{"a.csv": "ok,n,name,x,extra\ntrue,1,\"a, b\",1.5,zz\nfalse,-2,\"say \"\"hi\"\"\",0,\n"},
			want: []any{
				map[string]any{"name": "a, b", "n": int64(1), "x": 1.5, "ok": true, "note": nil},
				map[string]any{"name": `say "hi"`, "n": int64(-2), "x": 0.0, "ok": false, "note": nil},
			},
		},
		{
			name: "csv with a byte order mark and blank lines before its header", format: "csv", schema: "{name: string, n: int}",
			files: map[string]string{"a.csv": "\ufeff\n \r\nname,n\na,1\n"},
			want:  []any{map[string]any{"name": "a", "n": int64(1)}},
		},
		{
			name: "csv with a byte order mark", format: "csv", schema: "{name: string, n: int}",
			files: map[string]string{"a.csv": "\ufeffname,n\na,1\n"},
			want:  []any{map[string]any{"name": "a", "n": int64(1)}},
		},
		{
			name: "jsonl with a byte order mark", format: "jsonl", schema: motionType,
			files: map[string]string{"a.jsonl": "\ufeff" + `{"type":"motion","room":1,"time":10}` + "\n"},
			want:  []any{motion(1, 10)},
		},
		{
			name: "glob in lexical order", format: "jsonl", schema: motionType,
			files: map[string]string{
				"b.jsonl":         `{"type":"motion","room":2,"time":1}` + "\n",
				"a.jsonl":         `{"type":"motion","room":1,"time":1}` + "\n" + `{"type":"motion","room":1,"time":2}` + "\n",
				"c.jsonl":         `{"type":"motion","room":3,"time":1}` + "\n",
				"d.jsonl/x.jsonl": `{"type":"motion","room":9,"time":9}` + "\n", // a directory matches: skipped
				"e.txt":           "not matched\n",
			},
			want: []any{motion(1, 1), motion(1, 2), motion(2, 1), motion(3, 1)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "*." + tt.format
			ctx, _, err := runFile(t, SourceConfig{Format: tt.format, Schema: mustType(t, tt.schema), Path: path}, tt.files, nil)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if got := ctx.records(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestFileSourceParallelSplit(t *testing.T) {
	files := map[string]string{}
	for i := range 5 {
		files[fmt.Sprintf("%d.jsonl", i)] = fmt.Sprintf(`{"type":"motion","room":%d,"time":0}`+"\n", i)
	}
	tests := []struct {
		subtask int
		want    []any
	}{
		{0, []any{motion(0, 0), motion(2, 0), motion(4, 0)}},
		{1, []any{motion(1, 0), motion(3, 0)}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.subtask), func(t *testing.T) {
			cfg := SourceConfig{Format: "jsonl", Schema: mustType(t, motionType), Path: "*.jsonl", Subtask: tt.subtask, Parallelism: 2}
			ctx, dir, err := runFile(t, cfg, files, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := ctx.records(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records: got %v, want %v", got, tt.want)
			}
			want := Offsets{}
			for _, r := range tt.want {
				want[filepath.Join(dir, fmt.Sprintf("%d.jsonl", r.(map[string]any)["room"]))] = 36
			}
			if got := positions(ctx.src.Offsets()); !reflect.DeepEqual(got, want) {
				t.Errorf("offsets: got %v, want %v", got, want)
			}
		})
	}
}

func TestFileSourceBadRecords(t *testing.T) {
	content := `{"type":"motion","room":1,"time":1}` + "\n" + // 36 bytes
		`{"type":"motion","room":"x","time":2}` + "\n" + // wrong type, line 2 at 36
		"\n" +
		`{"type":` + "\n" + // bad JSON, line 4 at 75
		`{"type":"motion","room":5,"time":5}` + "\n"
	fail := errors.New("fail policy")
	tests := []struct {
		name    string
		badErr  error
		wantErr string
		want    []any
		wantBad []BadRecord
	}{
		{
			name: "skip", want: []any{motion(1, 1), motion(5, 5)},
			wantBad: []BadRecord{
				{Record: `{"type":"motion","room":"x","time":2}`, Line: 2, Offset: 36},
				{Record: `{"type":`, Line: 4, Offset: 75},
			},
		},
		{
			name: "fail", badErr: fail, want: []any{motion(1, 1)},
			wantErr: "a.jsonl:2 (byte offset 36): fail policy",
			wantBad: []BadRecord{{Record: `{"type":"motion","room":"x","time":2}`, Line: 2, Offset: 36}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"a.jsonl": content})
			src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: filepath.Join(dir, "a.jsonl")})
			if err != nil {
				t.Fatal(err)
			}
			ctx := &fakeCtx{badErr: tt.badErr}
			err = src.Run(ctx)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.HasSuffix(err.Error(), tt.wantErr) || !errors.Is(err, fail)) {
				t.Fatalf("Run error %v, want %q", err, tt.wantErr)
			}
			if got := ctx.records(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records: got %v, want %v", got, tt.want)
			}
			if len(ctx.bad) != len(tt.wantBad) {
				t.Fatalf("bad records: got %v, want %v", ctx.bad, tt.wantBad)
			}
			for i, b := range ctx.bad {
				w := tt.wantBad[i]
				w.File = filepath.Join(dir, "a.jsonl")
				if b.Err == nil {
					t.Errorf("bad record %d has no error", i)
				}
				b.Err = nil
				if b != w {
					t.Errorf("bad record %d: got %+v, want %+v", i, b, w)
				}
			}
		})
	}
}

func TestFileSourceCSVHeaderErrors(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{"missing field", "name\nx\n", `no column for field "n"`},
		{"twice", "name,n,n\nx,1,1\n", `column "n" appears twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := SourceConfig{Format: "csv", Schema: mustType(t, "{name: string, n: int}"), Path: "a.csv"}
			_, _, err := runFile(t, cfg, map[string]string{"a.csv": tt.content}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFileSourceCSVBadCell(t *testing.T) {
	cfg := SourceConfig{Format: "csv", Schema: mustType(t, "{name: string, n: int}"), Path: "a.csv"}
	ctx, _, err := runFile(t, cfg, map[string]string{"a.csv": "name,n\na,1\nb,x\nc\n\"d,2\n"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{map[string]any{"name": "a", "n": int64(1)}}
	if got := ctx.records(); !reflect.DeepEqual(got, want) {
		t.Errorf("records: got %v, want %v", got, want)
	}
	var lines []int64
	for _, b := range ctx.bad {
		lines = append(lines, b.Line)
	}
	if !reflect.DeepEqual(lines, []int64{3, 4, 5}) {
		t.Errorf("bad lines: got %v, want [3 4 5] (%v)", lines, ctx.bad)
	}
	if len(ctx.bad) > 0 && !strings.Contains(ctx.bad[0].Err.Error(), `column "n"`) {
		t.Errorf("bad cell error %q does not name the column", ctx.bad[0].Err)
	}
}

func TestFileSourceRestore(t *testing.T) {
	const (
		l1 = `{"type":"motion","room":1,"time":1}` + "\n" // 36 bytes each
		l2 = `{"type":"motion","room":1,"time":2}` + "\n"
		l3 = `{"type":"motion","room":1,"time":3}` + "\n"
		n1 = `{"type":"motion","room":2,"time":1}` + "\n"
	)
	tests := []struct {
		name        string
		files       map[string]string
		restore     Offsets
		want        []any
		wantOffsets Offsets
		wantErr     string
	}{
		{
			name:    "done file and new file",
			files:   map[string]string{"a.jsonl": l1 + l2, "b.jsonl": n1},
			restore: Offsets{"a.jsonl": 72},
			want:    []any{motion(2, 1)}, wantOffsets: Offsets{"a.jsonl": 72, "b.jsonl": 36},
		},
		{
			name:    "resume mid-file, drop unmatched",
			files:   map[string]string{"a.jsonl": l1 + l2 + l3},
			restore: Offsets{"a.jsonl": 36, "gone.jsonl": 99},
			want:    []any{motion(1, 2), motion(1, 3)}, wantOffsets: Offsets{"a.jsonl": 108},
		},
		{
			name:    "truncated file",
			files:   map[string]string{"a.jsonl": l1},
			restore: Offsets{"a.jsonl": 72},
			wantErr: "a.jsonl is 36 bytes, shorter than its stored offset 72",
		},
		{
			name:    "csv resumes after its header behind a byte order mark and a blank line",
			files:   map[string]string{"a.csv": "\ufeff\nroom,time,type\n1,1,motion\n1,2,motion\n"},
			restore: Offsets{"a.csv": 30},
			want:    []any{motion(1, 2)}, wantOffsets: Offsets{"a.csv": 41},
		},
		{
			name:    "csv resumes after its header",
			files:   map[string]string{"a.csv": "room,time,type\n1,1,motion\n1,2,motion\n"},
			restore: Offsets{"a.csv": 26},
			want:    []any{motion(1, 2)}, wantOffsets: Offsets{"a.csv": 37},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			format := "jsonl"
			if strings.Contains(tt.name, "csv") {
				format = "csv"
			}
			cfg := SourceConfig{Format: format, Schema: mustType(t, motionType), Path: "*." + format}
			ctx, dir, err := runFile(t, cfg, tt.files, tt.restore)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ctx.records(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records: got %v, want %v", got, tt.want)
			}
			if got, want := positions(ctx.src.Offsets()), prefixOffsets(dir, tt.wantOffsets); !reflect.DeepEqual(got, want) {
				t.Errorf("offsets: got %v, want %v", got, want)
			}
		})
	}
}

// TestFileSourceStopAndResume stops a source after each number of records and checks that a
// source restored from its offsets emits exactly the rest, and that Offsets seen inside Emit
// cover exactly the records emitted before.
func TestFileSourceStopAndResume(t *testing.T) {
	for _, format := range []string{"jsonl", "csv"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			var a, b strings.Builder
			var all []any
			if format == "csv" {
				a.WriteString("type,room,time\n")
				b.WriteString("type,room,time\n")
			}
			for i := range int64(6) {
				w := &a
				if i >= 4 {
					w = &b
				}
				if format == "csv" {
					fmt.Fprintf(w, "motion,%d,%d\n", i%2, i)
				} else {
					fmt.Fprintf(w, `{"type":"motion","room":%d,"time":%d}`+"\n", i%2, i)
				}
				all = append(all, motion(i%2, i))
			}
			writeFiles(t, dir, map[string]string{"a." + format: a.String(), "b." + format: b.String()})
			cfg := SourceConfig{Kind: "file", Format: format, Schema: mustType(t, motionType), Path: filepath.Join(dir, "*."+format)}
			for stop := 1; stop <= len(all); stop++ {
				first, _ := NewSource(cfg)
				ctx1 := &fakeCtx{src: first, stopAfter: stop}
				err := first.Run(ctx1)
				if stop < len(all) && !errors.Is(err, ErrStopped) || stop == len(all) && err != nil {
					t.Fatalf("stop %d: Run: %v", stop, err)
				}
				second, _ := NewSource(cfg)
				if err := second.Restore(first.Offsets()); err != nil {
					t.Fatal(err)
				}
				ctx2 := &fakeCtx{src: second}
				if err := second.Run(ctx2); err != nil {
					t.Fatal(err)
				}
				if got := append(ctx1.records(), ctx2.records()...); !reflect.DeepEqual(got, all) {
					t.Fatalf("stop %d: records\n got %v\nwant %v", stop, got, all)
				}
			}
			// The offsets seen inside the i-th Emit resume at the i-th record.
			full, _ := NewSource(cfg)
			ctx := &fakeCtx{src: full}
			if err := full.Run(ctx); err != nil {
				t.Fatal(err)
			}
			for i, o := range ctx.offsets {
				src, _ := NewSource(cfg)
				if err := src.Restore(o); err != nil {
					t.Fatal(err)
				}
				rest := &fakeCtx{}
				if err := src.Run(rest); err != nil {
					t.Fatal(err)
				}
				if got := rest.records(); !reflect.DeepEqual(got, all[i:]) {
					t.Fatalf("from the offsets inside Emit %d (%v): got %v, want %v", i, o, got, all[i:])
				}
			}
		})
	}
}

func TestFileSourceLineNumbersAfterRestore(t *testing.T) {
	content := `{"type":"motion","room":1,"time":1}` + "\n\n" + `{"type":"motion","room":1,"time":2}` + "\n" + "bad\n"
	ctx, _, err := runFile(t, SourceConfig{Format: "jsonl", Schema: mustType(t, motionType), Path: "a.jsonl"},
		map[string]string{"a.jsonl": content}, Offsets{"a.jsonl": 37})
	if err != nil {
		t.Fatal(err)
	}
	if len(ctx.bad) != 1 || ctx.bad[0].Line != 4 || ctx.bad[0].Offset != 73 {
		t.Fatalf("bad records %+v, want one at line 4, offset 73", ctx.bad)
	}
}

func TestFileSourceConfigErrors(t *testing.T) {
	typ := mustType(t, motionType)
	tests := []struct {
		name string
		cfg  SourceConfig
		want string
	}{
		{"relative", SourceConfig{Kind: "file", Path: "x/*.jsonl", Format: "jsonl", Schema: typ}, "not absolute"},
		{"bad glob", SourceConfig{Kind: "file", Path: "/x/[", Format: "jsonl", Schema: typ}, "syntax error in pattern"},
		{"format", SourceConfig{Kind: "file", Path: "/x", Format: "xml", Schema: typ}, `unknown format "xml"`},
		{"csv needs a record", SourceConfig{Kind: "file", Path: "/x", Format: "csv", Schema: mustType(t, "int")}, "needs a record schema"},
		{"kind", SourceConfig{Kind: "mqtt"}, `unknown kind "mqtt"`},
		{"subtask", SourceConfig{Kind: "generator", Subtask: 2, Parallelism: 2}, "subtask 2 out of range"},
		{"stdin parallel", SourceConfig{Kind: "stdin", Format: "jsonl", Schema: typ, Parallelism: 2}, "stdin cannot be read by 2 subtasks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.UID = "src"
			_, err := NewSource(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), `source "src": `) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFileSourceMissingFileLogs(t *testing.T) {
	dir := t.TempDir()
	src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: filepath.Join(dir, "*.jsonl")})
	if err != nil {
		t.Fatal(err)
	}
	ctx := &fakeCtx{}
	if err := src.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if len(ctx.logs) != 1 || !strings.Contains(ctx.logs[0], "no file matches") {
		t.Errorf("logs %q, want a warning that no file matches", ctx.logs)
	}
}

func TestFileSourceUnreadablePlainPathFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "dir.jsonl"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ name, want string }{
		{"events.jsonl", "no such file or directory"},
		{"dir.jsonl", "it is a directory, not a regular file"},
	} {
		path := filepath.Join(dir, tt.name)
		src, err := NewSource(SourceConfig{Kind: "file", Format: "jsonl", Schema: mustType(t, motionType), Path: path})
		if err != nil {
			t.Fatal(err)
		}
		err = src.Run(&fakeCtx{})
		if err == nil || !strings.Contains(err.Error(), "cannot read input file") || !strings.Contains(err.Error(), path) ||
			!strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run on %s: %v, want an error naming it and saying %q", tt.name, err, tt.want)
		}
	}
}

// TestFileSourceCSVNonFiniteFloat: "NaN" and "Inf" cells are bad records of the source, not
// values that fail the job at its sink.
func TestFileSourceCSVNonFiniteFloat(t *testing.T) {
	cfg := SourceConfig{Format: "csv", Schema: mustType(t, "{x: float}"), Path: "a.csv"}
	ctx, _, err := runFile(t, cfg, map[string]string{"a.csv": "x\n1.5\nNaN\n+Inf\n-inf\n"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ctx.records(), []any{map[string]any{"x": 1.5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("records: got %v, want %v", got, want)
	}
	if len(ctx.bad) != 3 || !strings.Contains(ctx.bad[0].Err.Error(), `column "x": "NaN" is not a finite number`) {
		t.Errorf("bad records: %v", ctx.bad)
	}
}

// TestFileSourceCSVValuePath: a cell that does not fit its field's type names the field's
// path, as a JSON record's error does.
func TestFileSourceCSVValuePath(t *testing.T) {
	cfg := SourceConfig{Format: "csv", Schema: mustType(t, "{room: int, tags: list<int>?}"), Path: "a.csv"}
	ctx, _, err := runFile(t, cfg, map[string]string{"a.csv": "room,tags\nthree,\n1,[1]\n"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `column "room": $.room: expected int, got "three"`; len(ctx.bad) != 1 || ctx.bad[0].Err.Error() != want {
		t.Errorf("bad records: %v, want one: %s", ctx.bad, want)
	}
}
