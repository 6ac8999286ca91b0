package connectors

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pipectl/pipectl/internal/filekind"
)

func init() {
	Register(Spec{
		Kind: "file", Role: RoleSource, Replayable: true,
		Summary: "Reads the files a path or glob matches, one after another in lexical order; with follow, keeps reading appended lines and new files.",
		Offsets: "the byte offset reached in each file, keyed by its absolute path",
		Keys: []Key{
			{Name: "path", Type: TypePath, Required: true, Doc: "a file or a glob (*, ?, [...]), relative to the pipeline file"},
			{Name: "format", Type: TypeEnum, Enum: []string{"jsonl", "csv"}, Default: "jsonl", Doc: "jsonl: one JSON object a line; csv: a header line, then one record a line"},
			{Name: "follow", Type: TypeBool, Default: "false", Doc: "keep watching the files for appended lines and the glob for new files, like tail -F"},
		},
		NewSource: func(cfg SourceConfig) (Source, error) { return newFileSource(cfg) },
	})
}

// pollInterval is how often a follow source looks for appended lines and new files.
const pollInterval = 100 * time.Millisecond

// idleStep is the longest a waiting source goes without calling SourceContext.Idle.
const idleStep = 10 * time.Millisecond

// fileSource reads the files a glob matches, one after another in lexical order.
//
// Position: each file's offset is the byte after the last line consumed (emitted, skipped as
// blank or reported bad); a record whose Emit fails is not consumed. A last line without a
// newline is read at the end of a bounded source; a follow source waits for its newline.
//
// Split: with Parallelism > 1, a bounded source shares the files it lists by index modulo
// Parallelism; a followed one gives every file, listed at the start or later, to the subtask
// given by a hash of its path (ownerOf), so that subtasks listing the glob at different times
// agree and no file is read by two of them.
//
// Restore expects the offsets of all subtasks merged; Offsets reports the files this subtask
// reads.
type fileSource struct {
	cfg    SourceConfig
	format format
	sc     *lineScanner

	mu       sync.Mutex
	restored Offsets      // from Restore, filtered to matched files, identities included
	files    []*fileState // this subtask's files in lexical order; nil before Run
	// finished maps the identity of each file a follow source read to its end after a
	// rotation to that end, so the file found again under its new name is not read twice.
	finished map[fileID]int64
}

// fileState is the reading state of one file.
type fileState struct {
	path string
	off  atomic.Int64 // byte after the last consumed line; read by Offsets from any goroutine
	// seen is the size at the last read to the end; a follow source reopens the file only when
	// it changes.
	seen int64
	dec  decoder // nil until the header (csv) is read
	// line counts the lines before off, starting at lineFrom: line numbers are lineFrom's
	// line number (counted only when a bad record needs it) plus line.
	line, lineFrom int64
	// id is the identity of the file that off is a position in (zero: not opened yet, and
	// no identity restored). Written by the reading goroutine under fileSource.mu.
	id fileID
	// fh is the open file a follow source reads: it keeps reading that file, whatever the
	// path names meanwhile, until it has read it to its end after a rotation.
	fh *os.File
}

// restart makes f read the file at its path from the start (a new file after a rotation).
func (f *fileState) restart() {
	f.off.Store(0)
	f.seen, f.line, f.lineFrom, f.dec, f.id = -1, 0, 0, nil, fileID{}
}

func newFileSource(cfg SourceConfig) (*fileSource, error) {
	if !filepath.IsAbs(cfg.Path) {
		return nil, fmt.Errorf("path %q is not absolute", cfg.Path)
	}
	if _, err := filepath.Match(cfg.Path, ""); err != nil {
		return nil, fmt.Errorf("path %q: %w", cfg.Path, err)
	}
	f, err := newFormat(cfg.Format, cfg.Schema)
	if err != nil {
		return nil, err
	}
	return &fileSource{cfg: cfg, format: f, sc: newLineScanner(), restored: Offsets{}, finished: map[fileID]int64{}}, nil
}

func (s *fileSource) Bounded() bool { return !s.cfg.Follow }

// Restore lists the glob: a matched file with an offset resumes there (done when the offset is
// its size), one without starts at 0, offsets of unmatched files are dropped, and a file
// shorter than its offset is an error. A path that names another file than the stored
// identity (rotated while the job was down) starts at 0, and the stored offset goes to the
// matched path that now names that file, if any.
func (s *fileSource) Restore(o Offsets) error {
	paths, err := s.list()
	if err != nil {
		return err
	}
	ids := make(map[string]fileID, len(paths))
	byID := make(map[fileID]string, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		ids[p] = identityOf(fi)
		byID[ids[p]] = p
	}
	restored := Offsets{}
	for _, p := range paths {
		off, ok := o[p]
		if !ok {
			continue
		}
		target := p
		if stored := o.identity(p); stored.known() && stored != ids[p] {
			restored[p] = 0 // a new file under the old name
			q, found := byID[stored]
			if !found {
				// Not rotated to a matched path: replaced. Shorter than the offset, it is
				// an error as a truncated file is; else it is read as a new file.
				if err := checkSize(p, sizeOf(p), off); err != nil {
					return err
				}
				continue
			}
			if _, own := o[q]; own {
				continue
			}
			target = q
		}
		if err := checkSize(target, sizeOf(target), off); err != nil {
			return err
		}
		restored[target] = off
		restored.putIdentity(target, ids[target])
	}
	s.mu.Lock()
	s.restored = restored
	s.mu.Unlock()
	return nil
}

// sizeOf is the size of the file at path (-1 when it cannot be read: checkSize then fails).
func sizeOf(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return fi.Size()
}

// checkSize fails when a file is shorter than its offset.
func checkSize(path string, size, off int64) error {
	if size < off {
		return fmt.Errorf("file %s is %d bytes, shorter than its stored offset %d: it was truncated or replaced", path, size, off)
	}
	return nil
}

func (s *fileSource) Offsets() Offsets {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		o := make(Offsets, len(s.restored))
		for p, off := range s.restored {
			o[p] = off
		}
		return o
	}
	o := make(Offsets, 3*len(s.files))
	for _, f := range s.files {
		o[f.path] = f.off.Load()
		o.putIdentity(f.path, f.id)
	}
	return o
}

// list returns the regular files the glob matches, in lexical order.
func (s *fileSource) list() ([]string, error) {
	matches, err := filepath.Glob(s.cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("path %q: %w", s.cfg.Path, err)
	}
	paths := matches[:0]
	for _, m := range matches {
		fi, err := os.Stat(m)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // removed since the glob listed it
			}
			return nil, err
		}
		if fi.Mode().IsRegular() {
			paths = append(paths, m)
		}
	}
	sort.Strings(paths)
	return paths, nil
}

func (s *fileSource) Run(ctx SourceContext) error {
	paths, err := s.list()
	if err != nil {
		return err
	}
	if len(paths) == 0 && !s.cfg.Follow {
		if !strings.ContainsAny(s.cfg.Path, "*?[") {
			// A plain path names one file: a missing one is an input the job cannot read.
			fi, err := os.Stat(s.cfg.Path)
			if err != nil {
				return fmt.Errorf("cannot read input file: %w", err)
			}
			return fmt.Errorf("cannot read input file %s: it is a %s, not a regular file", s.cfg.Path, filekind.Of(fi.Mode()))
		}
		ctx.Logf("file source %q: no file matches %s", s.cfg.UID, s.cfg.Path)
	}
	s.mu.Lock()
	s.files = []*fileState{}
	for i, p := range paths {
		if s.owns(i, p) {
			s.files = append(s.files, s.newFileState(p))
		}
	}
	files := s.files
	s.mu.Unlock()
	if !s.cfg.Follow {
		for _, f := range files {
			if err := s.read(ctx, f, true); err != nil {
				return err
			}
		}
		return nil
	}
	return s.follow(ctx)
}

// newFileState starts a file at its restored offset (0 when it has none), expecting the
// restored identity.
func (s *fileSource) newFileState(path string) *fileState {
	f := &fileState{path: path, seen: -1, id: s.restored.identity(path)}
	f.off.Store(s.restored[path])
	f.lineFrom = f.off.Load()
	return f
}

// follow reads every file to its end, then polls for appended lines and new files until Emit
// or Idle return an error.
func (s *fileSource) follow(ctx SourceContext) error {
	defer func() {
		for _, f := range s.snapshot() {
			if f.fh != nil {
				f.fh.Close()
			}
		}
	}()
	for {
		polled := time.Now()
		for _, f := range s.snapshot() {
			if err := s.readFollow(ctx, f); err != nil {
				return err
			}
		}
		if err := s.refresh(); err != nil {
			return err
		}
		if err := idleUntil(ctx, polled.Add(pollInterval)); err != nil {
			return err
		}
	}
}

// snapshot returns the current file list (follow may grow it between polls).
func (s *fileSource) snapshot() []*fileState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files
}

// refresh lists the glob again: new files this subtask owns join the list, files no longer
// matched leave it (with their offsets, as on restore). A new path naming a file already read
// to its end after a rotation (a.jsonl.1 after `mv a.jsonl a.jsonl.1`) starts at that end.
func (s *fileSource) refresh() error {
	paths, err := s.list()
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	known := make(map[string]*fileState, len(s.files))
	for _, f := range s.files {
		known[f.path] = f
	}
	files := make([]*fileState, 0, len(s.files))
	for _, p := range paths {
		if f, ok := known[p]; ok {
			files = append(files, f)
		} else if s.owns(-1, p) {
			files = append(files, s.rotatedOrNew(p))
		}
	}
	for _, f := range s.files {
		if !slices.Contains(files, f) && f.fh != nil {
			f.fh.Close() // no longer matched
		}
	}
	s.files = files
	return nil
}

// rotatedOrNew returns the state of a newly matched path: at the end of the file when it is
// one that was finished after a rotation, else from its start (or restored offset).
func (s *fileSource) rotatedOrNew(p string) *fileState {
	f := s.newFileState(p)
	fi, err := os.Stat(p)
	if err != nil {
		return f
	}
	id := identityOf(fi)
	if end, ok := s.finished[id]; ok {
		f.off.Store(end)
		f.lineFrom, f.id = end, id
	}
	return f
}

// owns reports whether this subtask reads the file at path, the i-th of the first listing
// (-1 for a file listed later).
func (s *fileSource) owns(i int, path string) bool {
	if s.cfg.Follow || i < 0 {
		return ownerOf(path, s.cfg.Parallelism) == s.cfg.Subtask
	}
	return i%s.cfg.Parallelism == s.cfg.Subtask
}

// ownerOf is the subtask that reads a followed file.
func ownerOf(path string, parallelism int) int {
	h := fnv.New32a()
	h.Write([]byte(path))
	return int(h.Sum32() % uint32(parallelism))
}

// idleUntil calls ctx.Idle at least every idleStep until the deadline.
func idleUntil(ctx SourceContext, deadline time.Time) error {
	for {
		if err := ctx.Idle(); err != nil {
			return err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return nil
		}
		time.Sleep(min(wait, idleStep))
	}
}

// read emits the records of f from its offset to its end, a last line without a newline too
// (a bounded source).
func (s *fileSource) read(ctx SourceContext, f *fileState, final bool) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	fi, err := fh.Stat()
	if err != nil {
		return err
	}
	if id := identityOf(fi); id != f.id {
		s.mu.Lock()
		if f.id.known() {
			f.restart() // replaced since the restore: a new file
		}
		f.id = id
		s.mu.Unlock()
	}
	return s.readFrom(ctx, f, fh, fi, final)
}

// readFrom emits the records of the open file fh (stat fi) from f's offset to its end: with
// final, a last line without a newline too.
func (s *fileSource) readFrom(ctx SourceContext, f *fileState, fh *os.File, fi os.FileInfo, final bool) error {
	size, start := fi.Size(), f.off.Load()
	if err := checkSize(f.path, size, start); err != nil {
		return err
	}
	if size == start || size == f.seen {
		return nil
	}
	f.seen = size
	if f.dec == nil && s.format.hasHeader() && start > 0 {
		if err := s.readHeader(fh, f, final); err != nil {
			return err
		}
	}
	if _, err := fh.Seek(start, io.SeekStart); err != nil {
		return err
	}
	s.sc.reset(fh)
	return f.consume(ctx, s.sc, s.format, final)
}

// readHeader reads the header of a file resumed past it (the first line that is not blank,
// without a byte order mark).
func (s *fileSource) readHeader(fh *os.File, f *fileState, final bool) error {
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		return err
	}
	s.sc.reset(fh)
	var line []byte
	for first := true; ; first = false {
		l, _, err := s.sc.next(final)
		if err != nil {
			return fmt.Errorf("%s: header: %w", f.path, err)
		}
		if first {
			l = bytes.TrimPrefix(l, utf8BOM)
		}
		if !isBlank(l) {
			line = l
			break
		}
	}
	var err error
	f.dec, err = s.format.decoder(line)
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	return nil
}
