package connectors

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pipectl/pipectl/schema"
)

func init() {
	Register(Spec{
		Kind: "file", Role: RoleSink,
		Summary:        "Appends JSON lines to a file, exactly once across restores: a restore cuts the file back to the length its snapshot recorded.",
		Offsets:        "the file's committed length",
		OneSubtask:     "one writer keeps the file's committed length, which a restore cuts it back to",
		StoresPosition: func(func(string) string) bool { return true },
		Keys: []Key{
			{Name: "path", Type: TypePath, Required: true, Doc: "the output file, relative to the pipeline file; one live job owns it"},
			{Name: "format", Type: TypeEnum, Enum: []string{"jsonl"}, Default: "jsonl", Doc: "one JSON object a line, fields in schema order"},
		},
		NewSink: func(cfg SinkConfig) (Sink, error) { return newFileSink(cfg) },
	})
}

// fileSink appends records as JSON lines to a file it owns. Its committed state is the file's
// length: Restore cuts the file back to it, so every record of the job's history is in the file
// exactly once.
type fileSink struct {
	uid, path string
	t         *schema.Type
	f         *os.File
	w         *bufio.Writer
	length    int64 // bytes written, buffered ones included
	dirty     bool  // written since the last fsync
	buf       []byte
	logf      func(format string, args ...any) // the job's log; nil: discarded
}

// fileSinkBuffer is the write buffer of a file sink.
const fileSinkBuffer = 256 << 10

func newFileSink(cfg SinkConfig) (*fileSink, error) {
	if cfg.Type == nil {
		return nil, errors.New("no input type")
	}
	if !filepath.IsAbs(cfg.Path) {
		return nil, fmt.Errorf("path %q is not absolute", cfg.Path)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(cfg.Path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &fileSink{
		uid: cfg.UID, path: cfg.Path, t: cfg.Type, logf: cfg.Logf,
		f: f, w: bufio.NewWriterSize(f, fileSinkBuffer), length: fi.Size(),
	}, nil
}

func (s *fileSink) Write(rec any) error {
	b, err := s.t.AppendJSON(s.buf[:0], rec)
	if err != nil {
		return fmt.Errorf("sink %q: %w", s.uid, err)
	}
	b = append(b, '\n')
	s.buf = b
	if _, err := s.w.Write(b); err != nil {
		return s.errorf("write", err)
	}
	s.length += int64(len(b))
	s.dirty = true
	return nil
}

// Flush writes the buffered records to the file (the runtime calls it within
// buffer_timeout); it does not fsync: Committed does.
func (s *fileSink) Flush() error {
	if err := s.w.Flush(); err != nil {
		return s.errorf("write", err)
	}
	return nil
}

// sync flushes and fsyncs the file when anything was written since the last sync.
func (s *fileSink) sync() error {
	if err := s.Flush(); err != nil {
		return err
	}
	if !s.dirty {
		return nil
	}
	if err := s.f.Sync(); err != nil {
		return s.errorf("fsync", err)
	}
	s.dirty = false
	return nil
}

// Committed flushes, fsyncs and returns {"length": the file's length}.
func (s *fileSink) Committed() (Offsets, error) {
	if err := s.sync(); err != nil {
		return nil, err
	}
	return Offsets{"length": s.length}, nil
}

// Restore truncates the file to o["length"] (0 for nil). A file shorter than that was changed
// by someone else: that is an error. An empty (or new) file is the one exception: the new
// version of a pipeline points its sink at a new path to reprocess history without cutting
// the old file, and that file starts empty, as in a run from empty state. (A savepoint moved
// with its sink file to another directory keeps working: the file comes along, not empty.)
func (s *fileSink) Restore(o Offsets) error {
	n := o["length"]
	s.w.Reset(s.f) // drop what was buffered: it follows the committed length
	fi, err := s.f.Stat()
	if err != nil {
		return s.errorf("restore", err)
	}
	if fi.Size() == 0 && n > 0 {
		if s.logf != nil {
			s.logf("sink %q: %s is empty: it starts empty instead of at the committed length %d (a new path for reprocessed output)", s.uid, s.path, n)
		}
		n = 0
	}
	if fi.Size() < n {
		return fmt.Errorf("sink %q: restore: file %s is %d bytes, shorter than its committed length %d: it was changed by someone else", s.uid, s.path, fi.Size(), n)
	}
	if err := s.f.Truncate(n); err != nil {
		return s.errorf("restore", err)
	}
	if err := s.f.Sync(); err != nil {
		return s.errorf("restore", err)
	}
	s.length, s.dirty = n, false
	return nil
}

// Close flushes, fsyncs and closes the file.
func (s *fileSink) Close() error {
	err := s.sync()
	if cerr := s.f.Close(); err == nil && cerr != nil {
		err = s.errorf("close", cerr)
	}
	return err
}

// errorf wraps an I/O error of the file: retryable, a restart may find the disk writable again.
func (s *fileSink) errorf(op string, err error) error {
	return Retryable(fmt.Errorf("sink %q: %s %s: %w", s.uid, op, s.path, err))
}
