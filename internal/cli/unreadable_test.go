package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

// TestUnreadableSavepoint: the cause of an unreadable savepoint is said once.
func TestUnreadableSavepoint(t *testing.T) {
	missing := &fs.PathError{Op: "stat", Path: "/sp/x", Err: fs.ErrNotExist}
	tests := []struct {
		path string
		err  error
		want string
	}{
		{"/sp/x", fmt.Errorf("dispose: savepoint /sp/x: %w", missing), "cannot read savepoint /sp/x: file does not exist"},
		{"/sp/x", &fs.PathError{Op: "open", Path: "/sp/x/_metadata.json", Err: fs.ErrPermission}, "cannot read savepoint /sp/x: /sp/x/_metadata.json: permission denied"},
		{"/sp/x/_metadata.json", &fs.PathError{Op: "stat", Path: "/sp/x", Err: fs.ErrNotExist}, "cannot read savepoint /sp/x/_metadata.json: file does not exist"},
		{"/sp/x", errors.New("unexpected end of JSON input"), "cannot read savepoint /sp/x: unexpected end of JSON input"},
	}
	for _, tt := range tests {
		err := unreadableSavepoint(tt.path, tt.err)
		if err.Error() != tt.want || !errors.Is(err, errUnreadableSavepoint) {
			t.Errorf("unreadableSavepoint(%q, %v) = %v, want %s", tt.path, tt.err, err, tt.want)
		}
	}
}
