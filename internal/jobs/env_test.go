package jobs

import (
	"os"
	"testing"
)

// TestEnvRoundTrip: a job's Env reads back as written (an unset variable stays unset), only
// its owner can read it, and a job folder without one says so.
func TestEnvRoundTrip(t *testing.T) {
	home := t.TempDir()
	id := NewID()
	if err := os.MkdirAll(PathsOf(home, id).Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := ReadEnv(home, id); ok || err != nil {
		t.Fatalf("ReadEnv of a folder without one: ok %v, %v; want false, nil", ok, err)
	}
	in := "real.jsonl"
	if err := WriteEnv(home, id, Env{"IN": &in, "OUT": nil}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(PathsOf(home, id).Env)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	env, ok, err := ReadEnv(home, id)
	if !ok || err != nil {
		t.Fatalf("ReadEnv: ok %v, %v", ok, err)
	}
	if v := env["IN"]; v == nil || *v != in {
		t.Errorf("IN %v, want %q", v, in)
	}
	if v, found := env["OUT"]; !found || v != nil {
		t.Errorf("OUT %v (recorded %v), want recorded as unset", v, found)
	}
	if len(env) != 2 {
		t.Errorf("%d variables, want 2", len(env))
	}
}
