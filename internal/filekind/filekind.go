// Package filekind names the kind of a file that is not a regular one, for the errors of
// commands and connectors that need regular files ("… is a directory, not a regular file").
package filekind

import (
	"fmt"
	"os"
)

// Of names the kind of a file of mode m that is not a regular file.
func Of(m os.FileMode) string {
	switch {
	case m&os.ModeDir != 0:
		return "directory"
	case m&os.ModeSymlink != 0:
		return "symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return fmt.Sprintf("file of mode %v", m.Type())
}
