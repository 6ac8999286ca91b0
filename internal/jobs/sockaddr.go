package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// maxSocketPath is the longest socket path used as is. The kernel's sun_path
// holds 108 bytes on Linux and 104 on the BSDs, NUL included.
const maxSocketPath = 100

// socketAddr returns an address for the unix socket at path, and a function
// to call once the address has been bound or connected. A path too long for
// sun_path (a deep PIPECTL_HOME) is reached on Linux through
// /proc/self/fd/<fd of its directory>/<name>, which the kernel resolves like
// any other path; elsewhere it is an error.
func socketAddr(path string) (addr string, done func(), err error) {
	if len(path) <= maxSocketPath {
		return path, func() {}, nil
	}
	if runtime.GOOS != "linux" {
		return "", nil, fmt.Errorf("socket path %s is too long (%d bytes): use a shorter PIPECTL_HOME", path, len(path))
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return "", nil, fmt.Errorf("socket %s: %w", path, err)
	}
	addr = fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), filepath.Base(path))
	return addr, func() { dir.Close() }, nil
}
