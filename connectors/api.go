// Package connectors holds pipectl's sources and sinks, and the dead-letter writer. Each
// kind lives in one file that registers its Spec (options with types and docs, replay and
// offsets, constructor) with Register; the pipeline loader, the reference docs and the JSON
// Schema of the pipeline file all read those registrations. A connector knows nothing of the
// runtime beyond the small interfaces below: a source emits canonical records (package schema) through a
// SourceContext and reports its position as offsets; a sink writes records and reports the
// length it has committed.
package connectors

// This file lists the package's API as used by the rest of pipectl; the implementations live
// in one file per connector.

import (
	"errors"
	"fmt"
	"io"

	"github.com/pipectl/pipectl/schema"
)

// ErrStopped is returned by SourceContext.Emit and Idle when the job is stopping; the source
// returns it (or nil) at once.
var ErrStopped = errors.New("source stopped")

// Offsets is a source's position: file source {"<absolute path>": byte offset}, generator
// {"next": index}. A sink's committed state uses the same shape: file sink {"length": bytes}.
type Offsets map[string]int64

// SourceContext is what the runtime gives a running source.
type SourceContext interface {
	// Emit hands one canonical record downstream. It may block (backpressure) and may run a
	// barrier first, calling the source's Offsets from inside Emit: Offsets must then cover
	// exactly the records whose Emit has returned.
	Emit(rec any) error
	// Idle is called while the source waits for input (a follow source between polls, a
	// rate-limited generator between records), so barriers and stops are handled promptly.
	Idle() error
	// Bad reports a malformed record; it returns nil to go on (skip, dead_letter) or an error
	// that the source returns (fail).
	Bad(b BadRecord) error
	// Logf logs a message to the job's log.
	Logf(format string, args ...any)
}

// SplitContext is implemented by the runtime's SourceContext for sources that read several
// splits (the partitions of a Kafka source): event time and watermarks are then tracked per
// split, and the subtask's watermark is the lowest over its splits that are not idle.
type SplitContext interface {
	// EmitFrom is Emit for a record of split, with the connector's timestamp ts (epoch ms):
	// the record's event time with `timestamp: kafka`, else unused.
	EmitFrom(rec any, split string, ts int64) error
	// MarkIdle declares the subtask idle (it owns no split), so that it never holds the
	// watermark back; its next record makes it active again.
	MarkIdle() error
	// AddSplits declares splits the subtask reads, before their first record: each holds
	// the watermark back until it delivers a record, or until it has been silent for
	// idle_timeout, as a split that delivered records does.
	AddSplits(splits ...string)
}

// PositionContext is implemented by the runtime's SourceContext. A source that knows where each
// record was read calls At before the record's Emit, so that a failure on the record anywhere
// downstream, behind a keyed exchange too, names its input position.
type PositionContext interface {
	At(p Position)
}

// Position is where a record was read: a file and the byte offset of its line's start, or a
// Kafka partition and offset (Topic set).
type Position struct {
	File      string
	Topic     string
	Partition int32
	Offset    int64
	// Line is the 1-based number of a file's line when the source knows it without counting
	// (0: unknown, see LineAt).
	Line int64
	// Raw is the record as read (a file's line, a Kafka record's value), for the dead letter
	// of a record the runtime finds bad after decoding (its timestamp function fails). It is
	// valid until the record's Emit returns.
	Raw []byte
}

// LineAt returns the 1-based number of the line that starts at byte offset off of a file.
func LineAt(path string, off int64) (int64, error) {
	n, err := countLines(path, off)
	return n + 1, err
}

// BadRecord is a record that could not be decoded.
type BadRecord struct {
	Err    error
	Record string // the raw line
	File   string
	Line   int64
	Offset int64 // byte offset of the line's start
	// Kafka is where a Kafka source read the record (nil for other sources); its dead
	// letter adds "topic", "partition" and "offset".
	Kafka *KafkaPosition
}

// KafkaPosition is the place of one record in a Kafka cluster.
type KafkaPosition struct {
	Topic     string
	Partition int32
	Offset    int64
}

// Source is a running source instance (one per subtask).
type Source interface {
	// Restore sets the position from a savepoint or checkpoint before Run. A file now shorter
	// than its stored offset is an error.
	Restore(o Offsets) error
	// Run emits records until the input is exhausted (returns nil), Emit or Idle returns
	// ErrStopped (returns it), or an error occurs.
	Run(ctx SourceContext) error
	// Offsets returns the position after the records whose Emit has returned nil (a record
	// whose Emit returned an error, ErrStopped included, is not covered: a restore emits it
	// again). It is safe to call from any goroutine. A file source reports the files its
	// subtask reads; Restore takes the offsets of all subtasks merged into one map.
	Offsets() Offsets
	// Bounded reports whether Run ends by itself.
	Bounded() bool
}

// SourceConfig configures a source.
type SourceConfig struct {
	UID    string
	Kind   string // a registered source kind
	Schema *schema.Type
	// Options are the kind's options as the pipeline file sets them (see Spec.Keys).
	Options Options
	// file
	Path   string // absolute glob
	Format string // jsonl | csv
	Follow bool
	// generator
	Gen   func(i int64) (any, error) // the i-th event, already canonical for Schema
	Count int64                      // -1: unbounded
	Rate  float64                    // events/s; 0: as fast as possible
	// stdin
	Stdin io.Reader // where a stdin source reads; nil: os.Stdin
	// Subtask and Parallelism: a source with parallelism > 1 reads its share (generator:
	// indexes i with i % Parallelism == Subtask; file: files by index modulo).
	Subtask, Parallelism int
}

// NewSource makes a source instance.
func NewSource(cfg SourceConfig) (Source, error) {
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = 1
	}
	if cfg.Subtask < 0 || cfg.Subtask >= cfg.Parallelism {
		return nil, fmt.Errorf("source %q: subtask %d out of range for parallelism %d", cfg.UID, cfg.Subtask, cfg.Parallelism)
	}
	spec, ok := Lookup(RoleSource, cfg.Kind)
	if !ok {
		return nil, fmt.Errorf("source %q: unknown kind %q", cfg.UID, cfg.Kind)
	}
	src, err := spec.NewSource(cfg)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", cfg.UID, err)
	}
	return src, nil
}

// Sink is a running sink instance.
type Sink interface {
	// Write writes one canonical record of the sink's input type.
	Write(rec any) error
	// Flush hands buffered records on (file: written to the file; stdout: flushed). The
	// runtime calls it at least every buffer_timeout while records flow; durability is
	// Committed's job.
	Flush() error
	// Committed makes written records durable and returns the sink's state for a snapshot
	// (file: flushed, fsynced, {"length": N}).
	Committed() (Offsets, error)
	// Restore cuts the sink back to a committed state (file: truncate to length); a run from
	// empty state restores nil (file: truncate to 0).
	Restore(o Offsets) error
	Close() error
}

// SnapshotListener is implemented by sources and sinks that act once a snapshot is durable
// (Flink's notifyCheckpointComplete): a Kafka sink commits the transaction it pre-committed
// for the snapshot, a Kafka source commits offsets to its group. The runtime calls it after
// the snapshot (checkpoint or savepoint) is complete on disk, with o the offsets this very
// instance returned for it (Offsets or Committed), from a goroutine of its own.
type SnapshotListener interface {
	SnapshotComplete(o Offsets) error
}

// ErrorCounter is implemented by sources and sinks that retry the errors of an external
// system (a broker that restarts) instead of failing: Errors is how many they met so far,
// for the metrics.
type ErrorCounter interface {
	Errors() int64
}

// Discarder is implemented by sinks that hold output back until a snapshot covers it: the
// runtime calls Discard before Close when the job is canceled, so that nothing held back is
// ever published.
type Discarder interface {
	Discard() error
}

// SinkConfig configures a sink.
type SinkConfig struct {
	UID  string
	Kind string // a registered sink kind
	Type *schema.Type
	// Options are the kind's options as the pipeline file sets them (see Spec.Keys).
	Options Options
	Path    string // file: absolute path
	Format  string // jsonl
	// Pipeline is the pipeline's name; Subtask and Parallelism say which of the sink's
	// subtasks this instance is.
	Pipeline             string
	Subtask, Parallelism int
	// Key returns the record's key selected by a `key` option (a path or a function); nil
	// when the sink has none.
	Key func(rec any) (any, error)
	// Logf logs a message to the job's log (nil: discarded).
	Logf func(format string, args ...any)
	// Stdout is where the stdout sink writes (the process's stdout, or jobs/<id>/stdout.jsonl
	// for a detached job). Shared by all stdout sinks of a job; writes are serialized.
	Stdout *SharedWriter
}

// NewSink makes a sink instance.
func NewSink(cfg SinkConfig) (Sink, error) {
	if cfg.Format != "" && cfg.Format != "jsonl" {
		return nil, fmt.Errorf("sink %q: unknown format %q (want jsonl)", cfg.UID, cfg.Format)
	}
	spec, ok := Lookup(RoleSink, cfg.Kind)
	if !ok {
		return nil, fmt.Errorf("sink %q: unknown kind %q", cfg.UID, cfg.Kind)
	}
	snk, err := spec.NewSink(cfg)
	if err != nil {
		return nil, fmt.Errorf("sink %q: %w", cfg.UID, err)
	}
	fault, err := sinkFaultFor(cfg.UID)
	if err != nil {
		return nil, err
	}
	if fault != nil {
		snk = newFaultySink(snk, fault)
	}
	return snk, nil
}
