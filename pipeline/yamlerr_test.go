package pipeline

import "testing"

// TestFlowPitfall: the hint about one-line collections goes only with what YAML gets wrong
// in them, a '?' or a type expression with a comma.
func TestFlowPitfall(t *testing.T) {
	tests := []struct {
		value string
		want  bool
	}{
		{"{by: string?, n: int}", true},
		{"[string?]", true},
		{"{m: map<string, int>, n: int}", true},
		{"{s: (bool, int)}", true},
		{"{a: int", false},
		{"[", false},
		{"{m: map<string>, n: (int)}", false},
		{"[a, b]", false},
	}
	for _, tt := range tests {
		if got := flowPitfall(tt.value); got != tt.want {
			t.Errorf("flowPitfall(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}
