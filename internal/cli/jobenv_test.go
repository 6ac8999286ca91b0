package cli

import (
	"slices"
	"testing"

	"github.com/pipectl/pipectl/internal/jobs"
)

// TestWithEnv: a job's recorded variables override the caller's environment, one recorded as
// unset is unset, and the rest of the environment is the caller's.
func TestWithEnv(t *testing.T) {
	caller := map[string]string{"IN": "caller.jsonl", "OUT": "caller-out.jsonl", "HOME": "/home/u"}
	gs := &GlobalState{
		LookupEnv: func(k string) (string, bool) { v, ok := caller[k]; return v, ok },
		Environ:   func() []string { return []string{"IN=caller.jsonl", "OUT=caller-out.jsonl", "HOME=/home/u"} },
	}
	in := "real.jsonl"
	sub := withEnv(gs, jobs.Env{"IN": &in, "OUT": nil, "TOPIC": nil})
	tests := []struct {
		name, want string
		ok         bool
	}{
		{"IN", "real.jsonl", true},
		{"OUT", "", false},
		{"TOPIC", "", false},
		{"HOME", "/home/u", true},
	}
	for _, tt := range tests {
		if v, ok := sub.LookupEnv(tt.name); v != tt.want || ok != tt.ok {
			t.Errorf("LookupEnv(%s) = %q, %v; want %q, %v", tt.name, v, ok, tt.want, tt.ok)
		}
	}
	if got, want := sub.Environ(), []string{"HOME=/home/u", "IN=real.jsonl"}; !slices.Equal(got, want) {
		t.Errorf("Environ %v, want %v", got, want)
	}
	if withEnv(gs, nil) != gs {
		t.Error("a job without recorded variables changes the environment")
	}
}
