package connectors

import (
	"errors"
	"fmt"

	"github.com/pipectl/pipectl/schema"
)

func init() {
	Register(Spec{
		Kind: "stdout", Role: RoleSink,
		Summary: "Writes JSON lines to standard output (a detached job: to its stdout.jsonl). At least once.",
		Keys: []Key{
			{Name: "format", Type: TypeEnum, Enum: []string{"jsonl"}, Default: "jsonl", Doc: "one JSON object a line, fields in schema order"},
		},
		NewSink: func(cfg SinkConfig) (Sink, error) { return newStdoutSink(cfg) },
	})
}

// stdoutSink writes records as JSON lines, fields in schema order, onto the job's shared
// stdout writer. Delivery is at least once: a restored job writes again what followed its
// savepoint.
type stdoutSink struct {
	uid string
	t   *schema.Type
	out *SharedWriter
	buf []byte
}

func newStdoutSink(cfg SinkConfig) (*stdoutSink, error) {
	if cfg.Stdout == nil {
		return nil, errors.New("no stdout writer")
	}
	if cfg.Type == nil {
		return nil, errors.New("no input type")
	}
	return &stdoutSink{uid: cfg.UID, t: cfg.Type, out: cfg.Stdout}, nil
}

func (s *stdoutSink) Write(rec any) error {
	b, err := s.t.AppendJSON(s.buf[:0], rec)
	if err != nil {
		return fmt.Errorf("sink %q: %w", s.uid, err)
	}
	s.buf = b
	if err := s.out.WriteLine(b); err != nil {
		return fmt.Errorf("sink %q: write stdout: %w", s.uid, err)
	}
	return nil
}

func (s *stdoutSink) Flush() error {
	if err := s.out.Flush(); err != nil {
		return fmt.Errorf("sink %q: flush stdout: %w", s.uid, err)
	}
	return nil
}

// Committed flushes; a stdout sink keeps no state.
func (s *stdoutSink) Committed() (Offsets, error) { return nil, s.Flush() }

// Restore does nothing: what was written to stdout stays written.
func (s *stdoutSink) Restore(Offsets) error { return nil }

// Close flushes; the shared writer belongs to the job.
func (s *stdoutSink) Close() error { return s.Flush() }
