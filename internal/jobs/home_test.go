package jobs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHome(t *testing.T) {
	abs, err := filepath.Abs("rel/home")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"PIPECTL_HOME wins", map[string]string{"PIPECTL_HOME": "/srv/pc", "HOME": "/home/u"}, "/srv/pc", false},
		{"relative PIPECTL_HOME made absolute", map[string]string{"PIPECTL_HOME": "rel/home"}, abs, false},
		{"empty PIPECTL_HOME ignored", map[string]string{"PIPECTL_HOME": "", "HOME": "/home/u"}, "/home/u/.pipectl", false},
		{"default under HOME", map[string]string{"HOME": "/home/u"}, "/home/u/.pipectl", false},
		{"no home at all", map[string]string{}, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Home(func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok })
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("Home() = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestNewIDIsValidAndUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id := NewID()
		if !ValidID(id) {
			t.Fatalf("NewID() = %q is not a valid id", id)
		}
		if seen[id] {
			t.Fatalf("NewID() repeated %q", id)
		}
		seen[id] = true
	}
}

func TestValidID(t *testing.T) {
	tests := []struct {
		id   string
		want bool
	}{
		{"0123456789abcdef0123456789abcdef", true},
		{"0123456789ABCDEF0123456789ABCDEF", false},  // upper case
		{"0123456789abcdef0123456789abcde", false},   // 31
		{"0123456789abcdef0123456789abcdef0", false}, // 33
		{"../../../../../../../../etc/pass", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.want {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

func TestSecureJobsDir(t *testing.T) {
	home := t.TempDir()
	if w, err := SecureJobsDir(home); w != "" || err != nil {
		t.Fatalf("missing jobs dir: %q, %v", w, err)
	}
	dir := filepath.Join(home, "jobs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	w, err := SecureJobsDir(home)
	if err != nil || !strings.Contains(w, "was writable by other users (mode 0777)") {
		t.Fatalf("world-writable jobs dir: %q, %v", w, err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("mode after the fix: %v", fi.Mode().Perm())
	}
	if w, err := SecureJobsDir(home); w != "" || err != nil {
		t.Errorf("fixed jobs dir: %q, %v", w, err)
	}
}
