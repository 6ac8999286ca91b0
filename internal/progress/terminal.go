package progress

import (
	"io"
	"io/fs"
)

// statter is a writer that can describe itself, as *os.File does.
type statter interface {
	Stat() (fs.FileInfo, error)
}

// IsTerminal reports whether w is a character device (a terminal), as a *os.File opened on
// a TTY is. Buffers, pipes and regular files are not.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(statter)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&fs.ModeCharDevice != 0
}
