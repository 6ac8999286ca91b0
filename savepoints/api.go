// Package savepoints is the on-disk savepoint format (doc.go draws it): an atomic writer, a
// verifying reader, and what inspect and dump show of a savepoint.
package savepoints

// This file lists the package's API as used by the rest of pipectl. Bodies marked
// "unimplemented" are being written; keep the signatures and contracts.

import (
	"errors"
	"time"
)

// FormatVersion1 is the first savepoint format. Its meaning never changes.
const FormatVersion1 = 1

// ErrInvalid is wrapped by every error about a savepoint that is not a complete, intact
// savepoint (missing or truncated metadata, a data file whose size or checksum does not
// match, a foreign directory).
var ErrInvalid = errors.New("not a valid savepoint")

// Metadata is `_metadata.json`.
type Metadata struct {
	FormatVersion  int            `json:"format_version"`
	ID             string         `json:"id"` // the directory name
	JobID          string         `json:"job_id"`
	Pipeline       string         `json:"pipeline"` // pipeline name
	Created        time.Time      `json:"created"`
	Trigger        string         `json:"trigger"` // manual | stop | final | checkpoint
	PipelineYAML   string         `json:"pipeline_yaml"`
	PipelineSHA256 string         `json:"pipeline_sha256"`
	MaxParallelism int            `json:"max_parallelism"`
	Operators      []OperatorMeta `json:"operators"`
}

// OperatorMeta is one uid of the savepoint (sources and sinks included).
type OperatorMeta struct {
	UID         string           `json:"uid"`
	Kind        string           `json:"kind"`
	Parallelism int              `json:"parallelism"`
	KeyType     string           `json:"key_type,omitempty"` // canonical; keyed operators only
	Offsets     map[string]int64 `json:"offsets,omitempty"`  // sources; sinks: committed length
	States      []StateMeta      `json:"states"`
}

// StateMeta is one state of a uid.
type StateMeta struct {
	Name     string `json:"name"`
	Kind     string `json:"kind"`   // value | list | map | internal
	Schema   string `json:"schema"` // canonical type expression of the value stored per key
	KeyType  string `json:"key_type"`
	TTLMs    int64  `json:"ttl_ms,omitempty"`
	Entries  int64  `json:"entries"`
	Bytes    int64  `json:"bytes"`
	File     string `json:"file"`     // data file name inside the savepoint directory
	Checksum string `json:"checksum"` // "sha256:<hex>" of the data file
}

// Writer writes one savepoint into a hidden temporary directory and renames it into place on
// Commit. Abort (or a failed Commit) removes the temporary directory.
type Writer struct{}

// Create starts a savepoint in dir (created if needed) for the job: its final name is
// savepoint-<first 6 hex of jobID>-<12 random hex>.
func Create(dir, jobID string) (*Writer, error) { panic("unimplemented") }

// State starts the data file of one state. Entries must be added sorted by key group, then by
// key bytes; values are the bytes the state backend stores.
func (w *Writer) State(uid, name string) (*StateWriter, error) { panic("unimplemented") }

// Commit finishes every data file, writes _metadata.json (States' Entries, Bytes, File and
// Checksum are filled in from the StateWriters), fsyncs files and directory, renames the
// directory into place and returns its final path.
func (w *Writer) Commit(meta *Metadata) (string, error) { panic("unimplemented") }

// Abort removes the temporary directory.
func (w *Writer) Abort() error { panic("unimplemented") }

// StateWriter appends the entries of one state.
type StateWriter struct{}

// Add appends one entry.
func (s *StateWriter) Add(kg uint16, key, value []byte) error { panic("unimplemented") }

// Savepoint is an opened, verified savepoint.
type Savepoint struct {
	Path string // the savepoint directory
	Meta *Metadata
}

// Open reads and verifies a savepoint: path is its directory or its _metadata.json. Every
// data file's size and checksum is verified before Open returns, so a restore never starts
// on a damaged savepoint. Errors wrap ErrInvalid (or fs errors for a missing path).
func Open(path string) (*Savepoint, error) { panic("unimplemented") }

// ReadState calls fn for every entry of one state in file order.
func (s *Savepoint) ReadState(uid, name string, fn func(kg uint16, key, value []byte) error) error {
	panic("unimplemented")
}

// Dispose deletes a savepoint: its _metadata.json first, so that a half-deleted savepoint is
// never taken for valid.
func Dispose(path string) error { panic("unimplemented") }
