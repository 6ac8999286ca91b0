package testkit

import (
	"reflect"
	"testing"
)

func TestArchive(t *testing.T) {
	tests := []struct {
		name, in string
		want     Archive
		format   string // what Format writes; in when empty
	}{
		{"comment only", "a note\n", Archive{Comment: []byte("a note\n")}, ""},
		{"files", "c\n-- a.yaml --\nx: 1\n-- want --\nok\n",
			Archive{Comment: []byte("c\n"), Files: []File{{"a.yaml", []byte("x: 1\n")}, {"want", []byte("ok\n")}}}, ""},
		{"empty file", "-- a --\n-- b --\nb\n", Archive{Files: []File{{"a", nil}, {"b", []byte("b\n")}}}, ""},
		{"no final newline", "-- a --\nx", Archive{Files: []File{{"a", []byte("x")}}}, "-- a --\nx\n"},
		{"not markers", "-- --\n--a --\n", Archive{Comment: []byte("-- --\n--a --\n")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := ParseArchive([]byte(tt.in))
			if !reflect.DeepEqual(*a, tt.want) {
				t.Errorf("ParseArchive = %+q, want %+q", *a, tt.want)
			}
			want := tt.format
			if want == "" {
				want = tt.in
			}
			if got := string(a.Format()); got != want {
				t.Errorf("Format = %q, want %q", got, want)
			}
		})
	}
}

func TestArchiveFileAndSet(t *testing.T) {
	a := ParseArchive([]byte("-- in --\n1\n"))
	a.Set("want", []byte("2\n"))
	a.Set("in", []byte("3\n"))
	for name, want := range map[string]string{"in": "3\n", "want": "2\n"} {
		if got, ok := a.File(name); !ok || got != want {
			t.Errorf("File(%q) = %q, %v; want %q, true", name, got, ok, want)
		}
	}
	if _, ok := a.File("missing"); ok {
		t.Error("File(missing) found a file")
	}
	if got, want := string(a.Format()), "-- in --\n3\n-- want --\n2\n"; got != want {
		t.Errorf("Format = %q, want %q", got, want)
	}
}
