package suggest

import "testing"

func TestClosest(t *testing.T) {
	keys := []string{"input", "inputs", "output", "key_by", "fn", "parallelism"}
	tests := []struct {
		w       string
		maxDist int
		want    string
	}{
		{"inputt", 0, "input"},
		{"kye_by", 0, "key_by"},
		{"outptu", 0, "output"},
		{"zzzzzz", 0, ""},
		{"fm", 0, "fn"},
		{"strng", 2, ""},
		{"paralelism", 0, "parallelism"},
	}
	for _, tt := range tests {
		if got := Closest(tt.w, keys, tt.maxDist); got != tt.want {
			t.Errorf("Closest(%q) = %q, want %q", tt.w, got, tt.want)
		}
	}
}

func TestDistance(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"int", "int", 0}, {"strng", "string", 1},
	}
	for _, tt := range tests {
		if got := Distance(tt.a, tt.b); got != tt.want {
			t.Errorf("Distance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
