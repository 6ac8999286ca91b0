package connectors

import (
	"errors"
	"os"
)

// readFollow reads what was appended to f since the last poll, following the file as tail -F
// does. f's open file is read until the path names another file (a rotation: the old file
// is read to its end, a last line without newline included, then the new one from its start)
// or until the file shrinks below f's offset (truncated in place, as copytruncate does: read
// again from the start).
func (s *fileSource) readFollow(ctx SourceContext, f *fileState) error {
	if f.fh == nil {
		fh, err := os.Open(f.path)
		if errors.Is(err, os.ErrNotExist) {
			return nil // removed: the next refresh drops it
		}
		if err != nil {
			return err
		}
		fi, err := fh.Stat()
		if err != nil {
			fh.Close()
			return err
		}
		id := identityOf(fi)
		s.mu.Lock()
		if f.id.known() && id != f.id {
			f.restart() // replaced while the job was down (or since the restore)
		}
		f.id, f.fh = id, fh
		s.mu.Unlock()
	}
	fi, err := f.fh.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < f.off.Load() {
		s.mu.Lock()
		id := f.id
		f.restart() // truncated in place
		f.id = id
		s.mu.Unlock()
	}
	if err := s.readFrom(ctx, f, f.fh, fi, false); err != nil {
		return err
	}
	now, err := os.Stat(f.path)
	if err == nil && identityOf(now) == f.id {
		return nil
	}
	// Rotated (or removed): finish the old file, then take the new one from its start.
	if fi, err = f.fh.Stat(); err != nil {
		return err
	}
	f.seen = -1 // read again: the last line needs no newline now
	if err := s.readFrom(ctx, f, f.fh, fi, true); err != nil {
		return err
	}
	s.mu.Lock()
	s.finished[f.id] = f.off.Load()
	f.fh.Close()
	f.fh = nil
	f.restart()
	s.mu.Unlock()
	return nil
}
