package flock

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// osCreate is how the tests open lock files.
const osCreate = os.O_RDWR | os.O_CREATE

func TestTry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	first, err := Try(path, osCreate, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Try(path, osCreate, 0o600); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Try while the first is open: %v, want ErrLocked", err)
	}
	first.Close()
	again, err := Try(path, osCreate, 0o600)
	if err != nil {
		t.Fatalf("Try after the holder closed its file: %v", err)
	}
	again.Close()
	if _, err := Try(filepath.Join(t.TempDir(), "missing", "lock"), osCreate, 0o600); err == nil || errors.Is(err, ErrLocked) {
		t.Fatalf("Try in a missing directory: %v, want an open error", err)
	}
}
