package savepoints

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Savepoint is an opened, verified savepoint.
type Savepoint struct {
	Path string // the savepoint directory
	Meta *Metadata
}

// Open reads and verifies a savepoint: path is its directory or its _metadata.json. The
// format version, the metadata checksum, and every data file's size and checksum are
// verified before Open returns, so a restore never starts on a damaged savepoint. Errors wrap
// ErrInvalid (or fs errors for a missing path).
func Open(path string) (*Savepoint, error) {
	dir, err := savepointDir(path)
	if err != nil {
		return nil, err
	}
	meta, err := readMetadata(dir)
	if err != nil {
		return nil, err
	}
	if err := verifyFiles(dir, meta); err != nil {
		return nil, err
	}
	return &Savepoint{Path: dir, Meta: meta}, nil
}

// savepointDir resolves path (a savepoint directory or its _metadata.json) to the absolute
// savepoint directory, refusing hidden (in progress) directories and other files.
func savepointDir(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("savepoint %s: %w", path, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return "", fmt.Errorf("savepoint %s: %w", path, err)
	}
	dir := abs
	if !fi.IsDir() {
		if filepath.Base(abs) != MetadataFile {
			return "", notASavepoint(abs, "neither a directory nor a "+MetadataFile)
		}
		dir = filepath.Dir(abs)
	}
	if strings.HasPrefix(filepath.Base(dir), ".") {
		return "", notASavepoint(dir, "a hidden directory is a savepoint still being written (or left by a crash)")
	}
	return dir, nil
}

// readMetadata reads and checks _metadata.json: format version, strict decoding, checksum,
// names.
func readMetadata(dir string) (*Metadata, error) {
	data, err := readBounded(dir, MetadataFile, maxMetadataSize)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, notASavepoint(dir, "no "+MetadataFile)
	}
	if errors.Is(err, ErrInvalid) {
		return nil, err
	}
	if err != nil {
		return nil, invalidCause(err, dir, "read %s", MetadataFile)
	}
	return parseMetadata(dir, data)
}

// parseMetadata checks the content of dir's _metadata.json: format version, strict decoding,
// checksum, max_parallelism, names.
func parseMetadata(dir string, data []byte) (*Metadata, error) {
	var probe struct {
		FormatVersion int `json:"format_version"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, invalidCause(err, dir, "%s is truncated or malformed", MetadataFile)
	}
	if probe.FormatVersion != FormatVersion1 && probe.FormatVersion != FormatVersion2 {
		return nil, invalid(dir, "%s: unsupported format version %d (this pipectl reads %d and %d)",
			MetadataFile, probe.FormatVersion, FormatVersion1, FormatVersion2)
	}
	// The probe took the whole input, so the strict decoder has one object to read.
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var meta Metadata
	if err := dec.Decode(&meta); err != nil {
		return nil, invalidCause(err, dir, "%s is malformed", MetadataFile)
	}
	if meta.Checksum == "" {
		return nil, invalid(dir, "%s has no checksum", MetadataFile)
	}
	sum, err := metadataChecksum(&meta)
	if err != nil {
		return nil, invalidCause(err, dir, "%s", MetadataFile)
	}
	if sum != meta.Checksum {
		return nil, invalid(dir, "%s: checksum mismatch (edited or corrupted)", MetadataFile)
	}
	// Key groups are uint16 in the data files.
	if meta.MaxParallelism < 1 || meta.MaxParallelism > 1<<16 {
		return nil, invalid(dir, "%s: max_parallelism %d is out of range", MetadataFile, meta.MaxParallelism)
	}
	if err := meta.checkNames(); err != nil {
		return nil, invalidCause(err, dir, "%s", MetadataFile)
	}
	return &meta, nil
}

// verifyFiles checks that dir holds exactly _metadata.json and the data files it names, each
// of the recorded size and checksum.
func verifyFiles(dir string, meta *Metadata) error {
	want := map[string]*StateMeta{}
	for i := range meta.Operators {
		for j := range meta.Operators[i].States {
			st := &meta.Operators[i].States[j]
			if !dataFileName.MatchString(st.File) {
				return invalid(dir, "%s: state %s/%s: bad data file name %q", MetadataFile, meta.Operators[i].UID, st.Name, st.File)
			}
			if want[st.File] != nil {
				return invalid(dir, "%s: data file %s is named by two states", MetadataFile, st.File)
			}
			want[st.File] = st
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("savepoint %s: %w", dir, err)
	}
	present := map[string]bool{}
	for _, e := range entries {
		if e.Name() != MetadataFile && want[e.Name()] == nil {
			return invalid(dir, "unexpected %s in the savepoint directory", e.Name())
		}
		present[e.Name()] = true
	}
	for _, e := range entries {
		if st := want[e.Name()]; st != nil {
			if err := verifyFile(dir, st); err != nil {
				return err
			}
		}
	}
	for name := range want {
		if !present[name] {
			return invalid(dir, "data file %s is missing", name)
		}
	}
	return nil
}

// verifyFile checks one data file's size and checksum (CRC-32C or sha256).
func verifyFile(dir string, st *StateMeta) error {
	f, fi, err := openRegular(dir, st.File, "data file "+st.File)
	if errors.Is(err, ErrInvalid) {
		return err
	}
	if err != nil {
		return invalidCause(err, dir, "data file %s", st.File)
	}
	defer f.Close()
	if fi.Size() != st.Size {
		return invalid(dir, "data file %s: size %d, expected %d (truncated or corrupted)", st.File, fi.Size(), st.Size)
	}
	var h hash.Hash = sha256.New()
	sum := func() string { return formatChecksum(h.Sum(nil)) }
	if strings.HasPrefix(st.Checksum, crcPrefix) {
		c := crc32.New(castagnoli)
		h, sum = c, func() string { return formatCRC(c.Sum32()) }
	}
	buf := make([]byte, bufferSize)
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return invalidCause(err, dir, "data file %s", st.File)
	}
	if sum() != st.Checksum {
		return invalid(dir, "data file %s: checksum mismatch (truncated or corrupted)", st.File)
	}
	return nil
}

// operator returns the metadata of uid, or an ErrUnknownState error listing the uids.
func (s *Savepoint) operator(uid string) (*OperatorMeta, error) {
	uids := make([]string, 0, len(s.Meta.Operators))
	for i := range s.Meta.Operators {
		if s.Meta.Operators[i].UID == uid {
			return &s.Meta.Operators[i], nil
		}
		uids = append(uids, s.Meta.Operators[i].UID)
	}
	return nil, fmt.Errorf("%w: the savepoint has no uid %q (uids: %s)", ErrUnknownState, uid, quotedList(uids))
}

// state returns the metadata of (uid, name), or an ErrUnknownState error listing what the
// savepoint holds.
func (s *Savepoint) state(uid, name string) (*OperatorMeta, *StateMeta, error) {
	op, err := s.operator(uid)
	if err != nil {
		return nil, nil, err
	}
	for j := range op.States {
		if op.States[j].Name == name {
			return op, &op.States[j], nil
		}
	}
	return nil, nil, fmt.Errorf("%w: uid %q has no state %q (states: %s)", ErrUnknownState, uid, name, quotedList(op.stateNames()))
}

// stateNames lists the names of op's states in order.
func (op *OperatorMeta) stateNames() []string {
	names := make([]string, len(op.States))
	for i, st := range op.States {
		names[i] = st.Name
	}
	return names
}

// TTL returns the state's time to live (0: none).
func (st *StateMeta) TTL() time.Duration { return time.Duration(st.TTLMs) * time.Millisecond }

// ReadState calls fn for every entry of one state in file order (by key group, then key).
// The slices passed to fn are valid only during the call. The data file's header, entry
// order, footer count and CRC are checked as it streams (errors wrap ErrInvalid).
func (s *Savepoint) ReadState(uid, name string, fn func(kg uint16, key, value []byte) error) error {
	_, st, err := s.state(uid, name)
	if err != nil {
		return err
	}
	f, fi, err := openRegular(s.Path, st.File, "data file "+st.File)
	if errors.Is(err, ErrInvalid) {
		return err
	}
	if err != nil {
		return invalidCause(err, s.Path, "data file %s", st.File)
	}
	defer f.Close()
	if fi.Size() != st.Size {
		return invalid(s.Path, "data file %s: size %d, expected %d (changed since it was opened)", st.File, fi.Size(), st.Size)
	}
	r, err := newEntryReader(f, st.Size)
	if err != nil {
		return invalidCause(err, s.Path, "data file %s", st.File)
	}
	maxKG := s.Meta.MaxParallelism
	err = r.each(func(kg uint16, key, value []byte) error {
		// A key group past max_parallelism belongs to no subtask: its state would be lost.
		if maxKG > 0 && int(kg) >= maxKG {
			return fmt.Errorf("%w: entry %d: key group %d is out of range (max_parallelism %d)", errCorrupt, r.entries, kg, maxKG)
		}
		return fn(kg, key, value)
	})
	if errors.Is(err, errCorrupt) || errors.Is(err, io.ErrUnexpectedEOF) {
		return invalidCause(err, s.Path, "data file %s", st.File)
	}
	if err != nil {
		return err
	}
	if int64(r.entries) != st.Entries || r.bytes != st.Bytes {
		return invalid(s.Path, "data file %s: holds %d entries of %d bytes, metadata says %d of %d",
			st.File, r.entries, r.bytes, st.Entries, st.Bytes)
	}
	return nil
}
