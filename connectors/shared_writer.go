package connectors

import (
	"bufio"
	"io"
	"sync"
)

// SharedWriter serializes whole lines from several sinks onto one writer. Lines are buffered;
// Flush writes them through. It is safe for concurrent use.
type SharedWriter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// NewSharedWriter wraps w (buffered; Flush writes through).
func NewSharedWriter(w io.Writer) *SharedWriter {
	return &SharedWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// WriteLine writes line followed by a newline, never interleaved with another caller's line.
func (s *SharedWriter) WriteLine(line []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.w.Write(line); err != nil {
		return err
	}
	return s.w.WriteByte('\n')
}

// Flush writes the buffered lines through to the underlying writer.
func (s *SharedWriter) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Flush()
}
