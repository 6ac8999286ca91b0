package savepoints

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// jobIDPrefix is what a job id must start with: the 6 hex characters of the savepoint name.
var jobIDPrefix = regexp.MustCompile(`^[0-9a-f]{6}`)

// errWriterDone is returned by a Writer used after Commit or Abort.
var errWriterDone = errors.New("savepoint writer already committed or aborted")

// Writer writes one savepoint into a hidden temporary directory and renames it into place on
// Commit. Abort (or a failed Commit) removes the temporary directory. State may be called
// from several goroutines; Commit must come after every StateWriter's last Add.
type Writer struct {
	dir  string   // the savepoint dir (absolute)
	name string   // the final directory name, also the savepoint ID
	tmp  string   // the hidden directory being written
	lock *os.File // holds tmp's flock: a live writer's directory is never taken for stale

	mu     sync.Mutex
	states []*StateWriter
	byID   map[stateID]*StateWriter
	done   bool // committed or aborted
	noSync bool // data files are not fsynced (Scratch)
}

// Scratch marks the savepoint as read back by this process only and removed soon after (the
// base of an incremental stop): its data files are not fsynced, so that a file removed before
// the kernel writes it back costs the disk nothing. It is still complete and checksummed; a
// crash of the machine may leave it damaged, which Open then reports.
func (w *Writer) Scratch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.noSync = true
}

// stateID names a state of a uid.
type stateID struct{ uid, name string }

// Create starts a savepoint in dir (created if needed) for the job: its final name is
// savepoint-<first 6 hex of jobID>-<12 random hex>. Hidden directories of writers that died
// mid-write are removed first.
func Create(dir, jobID string) (*Writer, error) {
	if !jobIDPrefix.MatchString(jobID) {
		return nil, fmt.Errorf("create savepoint: job id %q does not start with 6 lowercase hex characters", jobID)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("create savepoint: %w", err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("create savepoint: %w", err)
	}
	removeStaleTemps(abs)
	for {
		var rnd [6]byte
		if _, err := rand.Read(rnd[:]); err != nil {
			return nil, fmt.Errorf("create savepoint: %w", err)
		}
		name := "savepoint-" + jobID[:6] + "-" + hex.EncodeToString(rnd[:])
		w := &Writer{dir: abs, name: name, tmp: filepath.Join(abs, "."+name), byID: map[stateID]*StateWriter{}}
		if err := os.Mkdir(w.tmp, 0o755); err != nil {
			return nil, fmt.Errorf("create savepoint: %w", err)
		}
		if w.lock, err = lockDir(w.tmp); err != nil && !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, os.ErrNotExist) {
			os.RemoveAll(w.tmp)
			return nil, fmt.Errorf("create savepoint: %w", err)
		}
		// Another process's clean-up may have taken the fresh directory for stale between
		// Mkdir and the lock: then it is gone (or going), and a new name is tried.
		if err == nil && sameDir(w.lock, w.tmp) {
			return w, nil
		}
		if w.lock != nil {
			w.lock.Close()
		}
	}
}

// sameDir reports whether the open f is still the directory at path.
func sameDir(f *os.File, path string) bool {
	a, err := f.Stat()
	if err != nil {
		return false
	}
	b, err := os.Stat(path)
	return err == nil && os.SameFile(a, b)
}

// TempPath returns the hidden directory the savepoint is written into.
func (w *Writer) TempPath() string { return w.tmp }

// State starts the data file of one state. Entries must be added sorted by key group, then by
// key bytes; values are the bytes the state backend stores.
func (w *Writer) State(uid, name string) (*StateWriter, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil, errWriterDone
	}
	return w.newState(uid, name)
}

// newState creates the data file of (uid, name); w.mu is held.
func (w *Writer) newState(uid, name string) (*StateWriter, error) {
	id := stateID{uid, name}
	if w.byID[id] != nil {
		return nil, fmt.Errorf("savepoint state %s/%s: started twice", uid, name)
	}
	file := fmt.Sprintf("state-%04d.bin", len(w.states)+1)
	f, err := os.OpenFile(filepath.Join(w.tmp, file), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("savepoint state %s/%s: %w", uid, name, err)
	}
	hw := &hashingWriter{f: f}
	s := &StateWriter{uid: uid, name: name, file: file, hw: hw, bw: bufio.NewWriterSize(hw, bufferSize), pos: int64(headerSize), noSync: w.noSync}
	s.bw.Write(appendHeader(nil, FormatVersion))
	w.states = append(w.states, s)
	w.byID[id] = s
	return s, nil
}

// Commit finishes every data file, writes _metadata.json (States' Entries, Bytes, File, Size
// and Checksum are filled in from the StateWriters; a state of meta that was never started
// gets an empty data file; FormatVersion and ID are set, Created is set to now when zero and
// kept in UTC), fsyncs files and directory, renames the directory into place, fsyncs the
// savepoint dir and returns the savepoint's final path.
func (w *Writer) Commit(meta *Metadata) (path string, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return "", errWriterDone
	}
	defer func() {
		if err != nil {
			w.abortLocked()
			err = fmt.Errorf("commit savepoint %s: %w", w.name, err)
		}
	}()
	if err := w.fillStates(meta); err != nil {
		return "", err
	}
	meta.FormatVersion = FormatVersion
	meta.ID = w.name
	if meta.Created.IsZero() {
		meta.Created = time.Now()
	}
	meta.Created = meta.Created.UTC()
	data, err := marshalMetadata(meta)
	if err != nil {
		return "", err
	}
	if err := writeFileSync(filepath.Join(w.tmp, MetadataFile), data); err != nil {
		return "", err
	}
	if err := syncDir(w.tmp); err != nil {
		return "", err
	}
	final := filepath.Join(w.dir, w.name)
	if err := os.Rename(w.tmp, final); err != nil {
		return "", err
	}
	if err := syncDir(w.dir); err != nil {
		return "", errors.Join(err, Dispose(final))
	}
	w.done = true
	w.lock.Close()
	return final, nil
}

// fillStates closes every data file and fills in meta's states from them; w.mu is held.
func (w *Writer) fillStates(meta *Metadata) error {
	if err := meta.checkNames(); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	for _, s := range w.states {
		if _, _, ok := meta.findState(s.uid, s.name); !ok {
			return fmt.Errorf("state %s/%s has a data file but is not in the metadata", s.uid, s.name)
		}
	}
	for i := range meta.Operators {
		op := &meta.Operators[i]
		for j := range op.States {
			st := &op.States[j]
			s := w.byID[stateID{op.UID, st.Name}]
			if s == nil {
				var err error
				if s, err = w.newState(op.UID, st.Name); err != nil {
					return err
				}
			}
			if err := s.Close(); err != nil {
				return err
			}
			st.Entries, st.Bytes, st.File, st.Size, st.Checksum = s.entries, s.bytes, s.file, s.size, s.checksum
		}
	}
	return nil
}

// Abort removes the temporary directory. It does nothing after Commit, so it may be
// deferred.
func (w *Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	return w.abortLocked()
}

// abortLocked closes every data file and removes the temporary directory; w.mu is held.
func (w *Writer) abortLocked() error {
	w.done = true
	for _, s := range w.states {
		s.abort()
	}
	err := os.RemoveAll(w.tmp)
	w.lock.Close()
	if err != nil {
		return fmt.Errorf("abort savepoint %s: %w", w.name, err)
	}
	return nil
}

// StateWriter appends the entries of one state. It is not safe for concurrent use; distinct
// StateWriters of one Writer may be used concurrently.
type StateWriter struct {
	uid, name, file string
	hw              *hashingWriter
	bw              *bufio.Writer
	entries, bytes  int64
	prevKG          uint16
	prevKey         []byte
	pos             int64                           // bytes of the file so far
	index           []indexRun                      // where each entry starts, in runs
	noIndex         bool                            // the file outgrew an index (past maxMapped)
	noSync          bool                            // Writer.Scratch
	scratch         [2 * binary.MaxVarintLen64]byte // entry header being encoded
	err             error                           // sticky: the first error, or errStateClosed after Close
	size            int64
	checksum        string
}

// errStateClosed is returned by Add after Close.
var errStateClosed = errors.New("state data file already closed")

// Add appends one entry.
func (s *StateWriter) Add(kg uint16, key, value []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.entries > 0 && (kg < s.prevKG || kg == s.prevKG && bytes.Compare(key, s.prevKey) <= 0) {
		return fmt.Errorf("savepoint state %s/%s: entry (key group %d, key %x) is not after (key group %d, key %x)",
			s.uid, s.name, kg, key, s.prevKG, s.prevKey)
	}
	s.prevKG, s.prevKey = kg, append(s.prevKey[:0], key...)
	s.indexEntry(s.pos)
	b := binary.AppendUvarint(s.scratch[:0], uint64(kg))
	b = binary.AppendUvarint(b, uint64(len(key)))
	s.bw.Write(b)
	s.bw.Write(key)
	s.pos += int64(len(b) + len(key))
	b = binary.AppendUvarint(s.scratch[:0], uint64(len(value)))
	s.bw.Write(b)
	s.pos += int64(len(b) + len(value))
	if _, err := s.bw.Write(value); err != nil {
		s.err = fmt.Errorf("savepoint state %s/%s: %w", s.uid, s.name, err)
		return s.err
	}
	s.entries++
	s.bytes += int64(len(key) + len(value))
	return nil
}

// Close writes the footer, fsyncs and closes the data file, freeing its buffer. Commit
// closes the data files left open; closing early keeps few files open at once.
func (s *StateWriter) Close() error {
	if s.err == errStateClosed {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	err := s.finish()
	if err != nil {
		s.err = fmt.Errorf("savepoint state %s/%s: %w", s.uid, s.name, err)
		return s.err
	}
	s.err = errStateClosed
	return nil
}

// indexRun is a run of the index: entries start at base plus each of offs. A chunk's run
// shares the chunk's offsets.
type indexRun struct {
	base uint32
	offs []uint32
	own  bool // offs belongs to the writer (entries added one by one)
}

// indexEntry records that an entry starts at pos, unless the file has outgrown an index.
func (s *StateWriter) indexEntry(pos int64) {
	if s.noIndex || s.dropIndex(pos) {
		return
	}
	if n := len(s.index); n == 0 || !s.index[n-1].own {
		s.index = append(s.index, indexRun{own: true})
	}
	r := &s.index[len(s.index)-1]
	r.offs = append(r.offs, uint32(pos))
}

// dropIndex drops the index for good when an entry at pos could not be indexed.
func (s *StateWriter) dropIndex(pos int64) bool {
	if pos < maxMapped {
		return false
	}
	s.noIndex, s.index = true, nil
	return true
}

// finish writes the entry index and the footer, syncs and closes the file, and records its
// size and checksum. A file whose index would take it past maxMapped (it could not be
// mapped) gets none: its entries end where the footer starts.
func (s *StateWriter) finish() error {
	end := s.pos
	if s.entries > 0 && !s.noIndex && alignIndex(end)+4*s.entries+int64(footerSizeV2) <= maxMapped {
		var pad [3]byte
		s.bw.Write(pad[:alignIndex(end)-end])
		buf := make([]byte, 0, min(4*s.entries, bufferSize))
		for _, r := range s.index {
			for _, off := range r.offs {
				if len(buf) == cap(buf) {
					s.bw.Write(buf)
					buf = buf[:0]
				}
				buf = binary.LittleEndian.AppendUint32(buf, r.base+off)
			}
		}
		s.bw.Write(buf)
	}
	s.index = nil
	if err := s.bw.Flush(); err != nil {
		s.hw.f.Close()
		return err
	}
	s.bw.Write(appendFooterV2(nil, uint64(s.entries), end, s.hw.crc))
	if err := s.bw.Flush(); err != nil {
		s.hw.f.Close()
		return err
	}
	if !s.noSync {
		if err := s.hw.f.Sync(); err != nil {
			s.hw.f.Close()
			return err
		}
	}
	if err := s.hw.f.Close(); err != nil {
		return err
	}
	s.bw = nil
	s.size = s.hw.n
	s.checksum = formatCRC(s.hw.crc)
	return nil
}

// abort closes the file without finishing it.
func (s *StateWriter) abort() {
	if s.err != errStateClosed {
		s.hw.f.Close()
		s.err = errWriterDone
	}
}
