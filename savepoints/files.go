package savepoints

import (
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pipectl/pipectl/internal/filekind"
)

// maxMetadataSize bounds _metadata.json before it is read. It holds the pipeline file and a
// few lines per uid and state, so a real one is a few KiB; a larger one is not a savepoint.
const maxMetadataSize = 8 << 20

// openRegular opens the file name (what names it in errors) inside a savepoint directory for reading, refusing
// anything but a regular file there: a symlink (it may point out of the directory), a FIFO
// (reading it would hang) or a device (/dev/zero never ends). The check is made on the open
// file, so the file cannot be swapped in between.
func openRegular(dir, name, what string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if pe, ok := err.(*os.PathError); ok && pe.Err == syscall.ELOOP {
			return nil, nil, invalid(dir, "%s is a symbolic link (a savepoint holds regular files only)", what)
		}
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, invalid(dir, "%s is not a regular file but a %s", what, filekind.Of(fi.Mode()))
	}
	return f, fi, nil
}

// readBounded reads the regular file name of dir whole, refusing one larger than max bytes.
func readBounded(dir, name string, max int64) ([]byte, error) {
	f, fi, err := openRegular(dir, name, name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > max {
		return nil, invalid(dir, "%s is %d bytes, more than the %d a savepoint's may hold", name, fi.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, invalid(dir, "%s grew past %d bytes while it was read", name, max)
	}
	return data, nil
}

// checkRegularEntry refuses a directory entry that is not a regular file.
func checkRegularEntry(dir string, e os.DirEntry) error {
	if !e.Type().IsRegular() {
		return invalid(dir, "%s is not a regular file but a %s", e.Name(), filekind.Of(e.Type()))
	}
	return nil
}
