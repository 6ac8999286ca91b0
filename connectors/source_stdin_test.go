package connectors

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestStdinSource(t *testing.T) {
	tests := []struct {
		name, format, input string
		want                []any
		wantBad             []int64 // lines
	}{
		{
			name: "jsonl", format: "jsonl",
			input:   `{"type":"motion","room":1,"time":1}` + "\nnope\n" + `{"type":"motion","room":2,"time":2}`,
			want:    []any{motion(1, 1), motion(2, 2)},
			wantBad: []int64{2},
		},
		{
			name: "csv", format: "csv",
			input: "time,room,type\n5,4,motion\n",
			want:  []any{motion(4, 5)},
		},
		{name: "empty", format: "csv", input: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := NewSource(SourceConfig{Kind: "stdin", Format: tt.format, Schema: mustType(t, motionType), Stdin: strings.NewReader(tt.input)})
			if err != nil {
				t.Fatal(err)
			}
			if !src.Bounded() || src.Offsets() != nil || src.Restore(Offsets{"x": 1}) != nil {
				t.Error("stdin is bounded, has no offsets and ignores restores")
			}
			ctx := &fakeCtx{}
			if err := src.Run(ctx); err != nil {
				t.Fatal(err)
			}
			if got := ctx.records(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("records: got %v, want %v", got, tt.want)
			}
			var bad []int64
			for _, b := range ctx.bad {
				bad = append(bad, b.Line)
				if b.File != stdinName {
					t.Errorf("bad record file %q, want %q", b.File, stdinName)
				}
			}
			if !reflect.DeepEqual(bad, tt.wantBad) {
				t.Errorf("bad lines: got %v, want %v", bad, tt.wantBad)
			}
		})
	}
}

func TestStdinSourceFails(t *testing.T) {
	src, _ := NewSource(SourceConfig{Kind: "stdin", Format: "jsonl", Schema: mustType(t, motionType), Stdin: strings.NewReader("x\n")})
	stop := errors.New("stop")
	err := src.Run(&fakeCtx{badErr: stop})
	if !errors.Is(err, stop) || !strings.HasPrefix(err.Error(), "<stdin>:1 (byte offset 0): ") {
		t.Errorf("Run error %v, want one at <stdin>:1", err)
	}
}
