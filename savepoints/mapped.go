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
)

// MappedState is the data file of one state memory-mapped read-only, with the offset of
// every entry: a restore serves reads from it while it loads the entries in the background.
// The mapping stays valid after the savepoint is disposed (the pages live until Unmap).
type MappedState struct {
	// Data is the whole file; Offsets is where each entry starts in it, in file order.
	Data    []byte
	Offsets []uint32
}

// maxMapped is the largest data file MapState maps: entry offsets are 32 bits.
const maxMapped = math.MaxUint32

// errTooLarge is returned by MapState for a data file larger than maxMapped.
var errTooLarge = errors.New("data file too large to map")

// MapState maps the data file of (uid, name) and indexes its entries in one pass, checking
// what ReadState checks (header, framing, order, key groups, footer count, CRC, the metadata's
// counts). Unmap releases the mapping.
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
		return nil, fmt.Errorf("data file %s: %w", st.File, errTooLarge)
	}
	if st.Size < int64(headerSize+footerSize) {
		return nil, invalidCause(fmt.Errorf("%w: %d bytes is shorter than header and footer", errCorrupt, st.Size), s.Path, "data file %s", st.File)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map data file %s: %w", st.File, err)
	}
	m := &MappedState{Data: data}
	if err := m.index(s.Meta.MaxParallelism, st); err != nil {
		m.Unmap()
		return nil, invalidCause(err, s.Path, "data file %s", st.File)
	}
	return m, nil
}

// index checks the file and records the offset of every entry.
func (m *MappedState) index(maxKG int, st *StateMeta) error {
	d := m.Data
	if string(d[:len(dataMagic)]) != dataMagic {
		return fmt.Errorf("%w: bad magic %q", errCorrupt, d[:len(dataMagic)])
	}
	if v := binary.LittleEndian.Uint32(d[len(dataMagic):]); v != FormatVersion1 {
		return fmt.Errorf("%w: unsupported data format version %d", errCorrupt, v)
	}
	end := len(d) - footerSize
	ft := d[end:]
	if string(ft[12:]) != footerMagic {
		return fmt.Errorf("%w: bad footer magic %q", errCorrupt, ft[12:])
	}
	if crc := binary.LittleEndian.Uint32(ft[8:12]); crc != crc32.Checksum(d[:end], castagnoli) {
		return fmt.Errorf("%w: CRC mismatch", errCorrupt)
	}
	m.Offsets = make([]uint32, 0, st.Entries)
	var prevKG uint64
	var prevKey []byte
	var bytesSeen int64
	for p := headerSize; p < end; {
		n := len(m.Offsets)
		m.Offsets = append(m.Offsets, uint32(p))
		kg, w := binary.Uvarint(d[p:end])
		if w <= 0 || kg > math.MaxUint16 || maxKG > 0 && kg >= uint64(maxKG) {
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
	}
	if n := binary.LittleEndian.Uint64(ft[:8]); n != uint64(len(m.Offsets)) {
		return fmt.Errorf("%w: footer counts %d entries, file holds %d", errCorrupt, n, len(m.Offsets))
	}
	if int64(len(m.Offsets)) != st.Entries || bytesSeen != st.Bytes {
		return fmt.Errorf("%w: holds %d entries of %d bytes, metadata says %d of %d", errCorrupt, len(m.Offsets), bytesSeen, st.Entries, st.Bytes)
	}
	return nil
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
