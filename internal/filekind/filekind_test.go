package filekind

import (
	"os"
	"testing"
)

func TestOf(t *testing.T) {
	tests := []struct {
		mode os.FileMode
		want string
	}{
		{os.ModeDir | 0o755, "directory"},
		{os.ModeSymlink, "symbolic link"},
		{os.ModeNamedPipe, "named pipe"},
		{os.ModeSocket, "socket"},
		{os.ModeDevice | os.ModeCharDevice, "device"},
		{os.ModeIrregular, "file of mode ?---------"},
	}
	for _, tt := range tests {
		if got := Of(tt.mode); got != tt.want {
			t.Errorf("Of(%v) = %q, want %q", tt.mode, got, tt.want)
		}
	}
}
