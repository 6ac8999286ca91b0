package cli

import (
	"os"
	"slices"
	"strings"
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

// TestCheckCompatAgainstAJobCopy: a job's pipeline copy given to --against is loaded with the
// variables the job recorded, not the caller's (here IN, which the caller lacks); a job
// folder without recorded variables falls back to the caller's environment.
func TestCheckCompatAgainstAJobCopy(t *testing.T) {
	withRef := strings.Replace(motionV1, "path: events.jsonl", "path: ${IN}", 1)
	if withRef == motionV1 {
		t.Fatal("motionV1 reads no events.jsonl")
	}
	for _, tc := range []struct {
		name     string
		recorded bool
		code     int
		stderr   string
	}{
		{"recorded", true, 0, ""},
		{"not recorded", false, 1, "environment variable IN is not set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs, _, stderr := testState(t)
			h, err := home(gs)
			if err != nil {
				t.Fatal(err)
			}
			id := jobs.NewID()
			if tc.recorded {
				in := "events.jsonl"
				if err := os.MkdirAll(jobs.PathsOf(h, id).Dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := jobs.WriteEnv(h, id, jobs.Env{"IN": &in}); err != nil {
					t.Fatal(err)
				}
			}
			jb, err := jobs.Create(h, jobs.Info{ID: id, Name: "motion"}, []byte(withRef))
			if err != nil {
				t.Fatal(err)
			}
			jb.SetStatus(jobs.StatusFinished, jobs.Extra{})
			jb.Close()
			writeFile(t, gs, "same.yaml", motionV1)
			gs.Args = []string{"pipectl", "check-compat", "same.yaml", "--against", jobs.PathsOf(h, id).Pipeline}
			if code := Main(gs); code != tc.code || !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("exit %d, want %d; stderr %q, want it to hold %q", code, tc.code, stderr, tc.stderr)
			}
		})
	}
}
