package connectors

import (
	"bufio"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestLineScanner(t *testing.T) {
	long := strings.Repeat("x", 50) // longer than the 16-byte test buffer
	tests := []struct {
		name  string
		input string
		final bool
		want  []string
		taken int // bytes consumed
	}{
		{"lines", "a\nb\r\n\nc\n", false, []string{"a", "b", "", "c"}, 8},
		{"partial last line waits", "a\nbc", false, []string{"a"}, 2},
		{"partial last line at the end", "a\nbc", true, []string{"a", "bc"}, 4},
		{"long lines", long + "\n" + long, true, []string{long, long}, 101},
		{"long partial line waits", "a\n" + long, false, []string{"a"}, 2},
		{"empty", "", true, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := &lineScanner{br: bufio.NewReaderSize(strings.NewReader(tt.input), 16)}
			var got []string
			taken := 0
			for {
				line, n, err := sc.next(tt.final)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, string(line))
				taken += n
			}
			if !reflect.DeepEqual(got, tt.want) || taken != tt.taken {
				t.Errorf("got %q (%d bytes), want %q (%d bytes)", got, taken, tt.want, tt.taken)
			}
		})
	}
}

func TestSplitCSV(t *testing.T) {
	tests := []struct {
		line    string
		want    []string
		wantErr bool
	}{
		{"a,b,c", []string{"a", "b", "c"}, false},
		{"a,,", []string{"a", "", ""}, false},
		{"", []string{""}, false},
		{`"a,b","c""d",""`, []string{"a,b", `c"d`, ""}, false},
		{`"abc`, nil, true},
		{`"a"b,c`, nil, true},
	}
	for _, tt := range tests {
		got, err := splitCSV([]byte(tt.line), nil)
		if (err != nil) != tt.wantErr || !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitCSV(%q) = %q, %v; want %q (error %v)", tt.line, got, err, tt.want, tt.wantErr)
		}
	}
}
