package savepoints

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"sort"
	"syscall"
	"unsafe"
)

// MappedState is the data file of one state memory-mapped read-only, with the offset of
// every entry: a restore serves reads from it while it loads the entries in the background.
// The mapping stays valid after the savepoint is disposed (the pages live until Unmap).
type MappedState struct {
	// Data is the whole file; Offsets is where each entry starts in it, in file order.
	Data    []byte
	Offsets []uint32
	// entriesEnd is where the entries end; checked says whether the framing and order of
	// every entry were checked when the file was mapped (format 1) rather than by Verify.
	entriesEnd int
	checked    bool
	maxKG      int
	bytes      int64 // the metadata's key+value bytes
}

// maxMapped is the largest data file MapState maps: entry offsets are 32 bits.
const maxMapped = math.MaxUint32

// ErrNotMappable is returned by MapState for a data file that is too large to map (or, in
// format 2, was written without an entry index for that reason): load it instead.
var ErrNotMappable = errors.New("data file too large to map")

// MapState maps the data file of (uid, name). It checks the header, the footer and the CRC
// of the whole file, and takes the offset of every entry from the file's index (format 2)
// or from one pass over the entries that also checks their framing and order (format 1).
// Verify checks the rest, entry by entry, while the state is served. Unmap releases the
// mapping.
func (s *Savepoint) MapState(uid, name string) (*MappedState, error) {
	_, st, err := s.state(uid, name)
	if err != nil {
		return nil, err
	}
	f, fi, err := openRegular(s.Path, st.File, "data file "+st.File)
	if errors.Is(err, ErrInvalid) {
		return nil, err
	}
	if err != nil {
		return nil, invalidCause(err, s.Path, "data file %s", st.File)
	}
	defer f.Close()
	if fi.Size() != st.Size {
		return nil, invalid(s.Path, "data file %s: size %d, expected %d (changed since it was opened)", st.File, fi.Size(), st.Size)
	}
	if st.Size > maxMapped {
		return nil, fmt.Errorf("data file %s: %w", st.File, ErrNotMappable)
	}
	if st.Size < int64(headerSize+footerSize) {
		return nil, invalidCause(fmt.Errorf("%w: %d bytes is shorter than header and footer", errCorrupt, st.Size), s.Path, "data file %s", st.File)
	}
	// mapPopulate maps the pages (in the page cache: Open just read them) in one call rather
	// than one fault at a time as the CRC and the job reach them.
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size), syscall.PROT_READ, syscall.MAP_SHARED|mapPopulate)
	if err != nil {
		return nil, fmt.Errorf("map data file %s: %w", st.File, err)
	}
	m := &MappedState{Data: data, maxKG: s.Meta.MaxParallelism, bytes: st.Bytes}
	if err := m.index(st); err != nil {
		m.Unmap()
		if errors.Is(err, ErrNotMappable) {
			return nil, fmt.Errorf("data file %s: %w", st.File, err)
		}
		return nil, invalidCause(err, s.Path, "data file %s", st.File)
	}
	return m, nil
}

// index checks the file's header, footer and CRC and finds where every entry starts.
func (m *MappedState) index(st *StateMeta) error {
	d := m.Data
	lay, err := parseLayout(d, d[max(len(d)-footerSizeV2, 0):], int64(len(d)))
	if err != nil {
		return err
	}
	if crc := crc32.Checksum(d[:lay.crcEnd], castagnoli); crc != lay.crc {
		return fmt.Errorf("%w: CRC mismatch", errCorrupt)
	}
	m.entriesEnd = int(lay.entriesEnd)
	if lay.version == FormatVersion1 {
		return m.scan(st, lay.entries)
	}
	if lay.entries != uint64(st.Entries) {
		return fmt.Errorf("%w: footer counts %d entries, metadata says %d", errCorrupt, lay.entries, st.Entries)
	}
	if lay.entries == 0 {
		if lay.entriesEnd != int64(headerSize) {
			return fmt.Errorf("%w: footer counts 0 entries, file holds %d bytes of them", errCorrupt, lay.entriesEnd-int64(headerSize))
		}
		return nil
	}
	if lay.indexOff < 0 {
		return ErrNotMappable
	}
	m.Offsets = indexOffsets(d[lay.indexOff:lay.crcEnd])
	// Every entry starts inside the entries, after the one before: Verify checks that each
	// ends where the next starts.
	prev := uint32(headerSize)
	for i, off := range m.Offsets {
		if i == 0 && off != prev || i > 0 && off <= prev || int(off) >= m.entriesEnd {
			return fmt.Errorf("%w: entry index: entry %d at %d is out of place", errCorrupt, i, off)
		}
		prev = off
	}
	return nil
}

// indexOffsets returns the entry index b (uint32 little-endian each) as a slice: the mapped
// bytes themselves on a little-endian machine (the index is 4-byte aligned in the file and
// the mapping page-aligned), a decoded copy otherwise.
func indexOffsets(b []byte) []uint32 {
	n := len(b) / 4
	if n == 0 {
		return nil
	}
	if littleEndian {
		return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), n)
	}
	out := make([]uint32, n)
	for i := range out {
		out[i] = binary.LittleEndian.Uint32(b[4*i:])
	}
	return out
}

// littleEndian says whether this machine stores integers as the entry index does.
var littleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// scan checks every entry of a format 1 file and records the offset of each.
func (m *MappedState) scan(st *StateMeta, footerCount uint64) error {
	m.Offsets = make([]uint32, 0, st.Entries)
	err := m.walk(func(i int, p int) error {
		m.Offsets = append(m.Offsets, uint32(p))
		return nil
	}, nil)
	if err != nil {
		return err
	}
	if footerCount != uint64(len(m.Offsets)) {
		return fmt.Errorf("%w: footer counts %d entries, file holds %d", errCorrupt, footerCount, len(m.Offsets))
	}
	if int64(len(m.Offsets)) != st.Entries {
		return fmt.Errorf("%w: holds %d entries, metadata says %d", errCorrupt, len(m.Offsets), st.Entries)
	}
	m.checked = true
	return nil
}

// walk parses the entries one after the other from the first, checking their framing, key
// groups and order, and the metadata's byte count at the end; at calls start for each entry
// (its index and offset) and fn (when not nil) with its fields. With Offsets known, each
// entry must end where the next one starts.
func (m *MappedState) walk(start func(i, p int) error, fn func(kg uint16, key, value []byte) error) error {
	d, end := m.Data, m.entriesEnd
	var prevKG uint64
	var prevKey []byte
	var bytesSeen int64
	n := 0
	for p := headerSize; p < end; n++ {
		if m.Offsets != nil && start == nil && (n >= len(m.Offsets) || int(m.Offsets[n]) != p) {
			return fmt.Errorf("%w: entry index: entry %d does not start at %d", errCorrupt, n, p)
		}
		if start != nil {
			if err := start(n, p); err != nil {
				return err
			}
		}
		kg, w := binary.Uvarint(d[p:end])
		if w <= 0 || kg > math.MaxUint16 || m.maxKG > 0 && kg >= uint64(m.maxKG) {
			return fmt.Errorf("%w: entry %d: bad key group", errCorrupt, n)
		}
		p += w
		key, w := framedField(d[p:end])
		if w <= 0 {
			return fmt.Errorf("%w: entry %d: key: %w", errCorrupt, n, errTruncated)
		}
		p += w
		value, w := framedField(d[p:end])
		if w <= 0 {
			return fmt.Errorf("%w: entry %d: value: %w", errCorrupt, n, errTruncated)
		}
		p += w
		if n > 0 && (kg < prevKG || kg == prevKG && bytes.Compare(key, prevKey) <= 0) {
			return fmt.Errorf("%w: entry %d is out of order", errCorrupt, n)
		}
		prevKG, prevKey = kg, key
		bytesSeen += int64(len(key) + len(value))
		if fn != nil {
			if err := fn(uint16(kg), key, value); err != nil {
				return err
			}
		}
	}
	if start == nil && n != len(m.Offsets) {
		return fmt.Errorf("%w: entry index holds %d entries, file %d", errCorrupt, len(m.Offsets), n)
	}
	if bytesSeen != m.bytes {
		return fmt.Errorf("%w: holds %d entries of %d bytes, metadata says %d bytes", errCorrupt, n, bytesSeen, m.bytes)
	}
	return nil
}

// Verify checks what MapState left to check, entry by entry, and calls fn (which checks the
// value) for each: for format 2, the framing, key groups and order of every entry, that each
// starts where the index says, and the metadata's byte count. Errors about the file wrap
// ErrInvalid; fn's errors are returned as they are. A restore runs it while it serves the
// state; the mapping must stay valid meanwhile.
func (m *MappedState) Verify(path, file string, fn func(kg uint16, key, value []byte) error) error {
	var err error
	if m.checked {
		for _, off := range m.Offsets {
			if err = fn(decodeFramed(m.Data[off:])); err != nil {
				return err
			}
		}
		return nil
	}
	err = m.walk(nil, fn)
	if errors.Is(err, errCorrupt) {
		return invalidCause(err, path, "data file %s", file)
	}
	return err
}

// decodeFramed decodes an entry already checked.
func decodeFramed(p []byte) (uint16, []byte, []byte) {
	kg, n := binary.Uvarint(p)
	key, w := framedField(p[n:])
	value, _ := framedField(p[n+w:])
	return uint16(kg), key, value
}

// errTruncated is a field that runs past the entries.
var errTruncated = errors.New("truncated")

// framedField reads a uvarint length and that many bytes from p; w is the bytes used (0: p
// is too short).
func framedField(p []byte) (field []byte, w int) {
	l, n := binary.Uvarint(p)
	if n <= 0 || l > uint64(len(p)-n) {
		return nil, 0
	}
	return p[n : n+int(l)], n + int(l)
}

// KeyGroup returns the key group of entry i.
func (m *MappedState) KeyGroup(i int) uint16 {
	kg, _ := binary.Uvarint(m.Data[m.Offsets[i]:])
	return uint16(kg)
}

// Range returns the offsets of the entries of key groups [from, to).
func (m *MappedState) Range(from, to uint16) []uint32 {
	lo := sort.Search(len(m.Offsets), func(i int) bool { return m.KeyGroup(i) >= from })
	hi := sort.Search(len(m.Offsets), func(i int) bool { return m.KeyGroup(i) >= to })
	return m.Offsets[lo:hi:hi]
}

// Unmap releases the mapping.
func (m *MappedState) Unmap() error {
	if m.Data == nil {
		return nil
	}
	err := syscall.Munmap(m.Data)
	m.Data = nil
	return err
}
