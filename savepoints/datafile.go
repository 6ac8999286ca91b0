package savepoints

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
)

// Layout of a data file (doc.go draws it).
const (
	dataMagic   = "PCTLSAVE"
	footerMagic = "PEND"
	headerSize  = len(dataMagic) + 4
	// footerSize is the footer of format 1: entries, CRC, magic.
	footerSize = 8 + 4 + len(footerMagic)
	// footerSizeV2 is the footer of format 2: entries, end of the entries, CRC, magic.
	footerSizeV2 = 8 + 8 + 4 + len(footerMagic)
	// bufferSize is the bufio buffer of data file writers and readers.
	bufferSize = 256 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendHeader appends the header of a data file of the given format version.
func appendHeader(dst []byte, version uint32) []byte {
	dst = append(dst, dataMagic...)
	return binary.LittleEndian.AppendUint32(dst, version)
}

// appendFooter appends a footer of format 1.
func appendFooter(dst []byte, entries uint64, crc uint32) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, entries)
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return append(dst, footerMagic...)
}

// appendFooterV2 appends a footer of format 2.
func appendFooterV2(dst []byte, entries uint64, entriesEnd int64, crc uint32) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, entries)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(entriesEnd))
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return append(dst, footerMagic...)
}

// footerLen is the size of the footer of a data file of the given format version.
func footerLen(version uint32) int {
	if version == FormatVersion1 {
		return footerSize
	}
	return footerSizeV2
}

// layout is where the parts of a data file are, read from its header and footer.
type layout struct {
	version    uint32
	entries    uint64 // the footer's count
	entriesEnd int64  // where the entries end
	indexOff   int64  // format 2: where the entry index starts; -1: the file has none
	crcEnd     int64  // the CRC covers [0, crcEnd): everything before the footer
	crc        uint32
}

// alignIndex is where the entry index of a data file whose entries end at end starts.
func alignIndex(end int64) int64 { return (end + 3) &^ 3 }

// parseLayout checks the header and the footer of a data file of the given size (hdr and ft
// are its first headerSize and last footerSizeV2 bytes, or fewer when the file is shorter) and
// says where its parts are. A file of format 2 has an entry index when the bytes between the
// end of its entries and its footer are exactly the padding to 4 bytes and 4 per entry.
func parseLayout(hdr, ft []byte, size int64) (layout, error) {
	if size < int64(headerSize+footerSize) {
		return layout{}, fmt.Errorf("%w: %d bytes is shorter than header and footer", errCorrupt, size)
	}
	if string(hdr[:len(dataMagic)]) != dataMagic {
		return layout{}, fmt.Errorf("%w: bad magic %q", errCorrupt, hdr[:len(dataMagic)])
	}
	l := layout{version: binary.LittleEndian.Uint32(hdr[len(dataMagic):]), indexOff: -1}
	if l.version != FormatVersion1 && l.version != FormatVersion2 {
		return layout{}, fmt.Errorf("%w: unsupported data format version %d", errCorrupt, l.version)
	}
	fl := footerLen(l.version)
	if size < int64(headerSize+fl) {
		return layout{}, fmt.Errorf("%w: %d bytes is shorter than header and footer", errCorrupt, size)
	}
	ft = ft[len(ft)-fl:]
	if string(ft[fl-len(footerMagic):]) != footerMagic {
		return layout{}, fmt.Errorf("%w: bad footer magic %q", errCorrupt, ft[fl-len(footerMagic):])
	}
	l.entries = binary.LittleEndian.Uint64(ft[:8])
	l.crcEnd = size - int64(fl)
	l.crc = binary.LittleEndian.Uint32(ft[fl-len(footerMagic)-4:])
	if l.version == FormatVersion1 {
		l.entriesEnd = l.crcEnd
		return l, nil
	}
	end := binary.LittleEndian.Uint64(ft[8:16])
	if end < uint64(headerSize) || end > uint64(l.crcEnd) {
		return layout{}, fmt.Errorf("%w: the entries end at %d, outside the file", errCorrupt, end)
	}
	l.entriesEnd = int64(end)
	if l.entriesEnd == l.crcEnd {
		return l, nil // no index (a file too large to map), or no entries
	}
	idx := alignIndex(l.entriesEnd)
	if l.entries > uint64(l.crcEnd)/4 || idx+4*int64(l.entries) != l.crcEnd {
		return layout{}, fmt.Errorf("%w: %d bytes between the entries and the footer, expected an index of %d entries", errCorrupt, l.crcEnd-l.entriesEnd, l.entries)
	}
	l.indexOff = idx
	return l, nil
}

// hashingWriter writes to a file, keeping the CRC-32C of everything written (its data
// file checksum) and its length, and the CRC of everything before the footer (the footer's).
type hashingWriter struct {
	f   *os.File
	crc uint32
	n   int64
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	h.crc = crc32.Update(h.crc, castagnoli, p)
	n, err := h.f.Write(p)
	h.n += int64(n)
	return n, err
}

// writeSegments writes segs one after the other, computing their CRC on another goroutine
// meanwhile: the result is what Write would have given.
func (h *hashingWriter) writeSegments(segs [][]byte) error {
	hashed := make(chan struct{})
	crc := h.crc
	go func() {
		defer close(hashed)
		for _, seg := range segs {
			crc = crc32.Update(crc, castagnoli, seg)
		}
	}()
	var err error
	for _, seg := range segs {
		var n int
		n, err = h.f.Write(seg)
		h.n += int64(n)
		if err != nil {
			break
		}
	}
	<-hashed
	h.crc = crc
	return err
}

// crcReader computes the CRC-32C of what is read through it.
type crcReader struct {
	r   io.Reader
	crc uint32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.crc = crc32.Update(c.crc, castagnoli, p[:n])
	return n, err
}

// errCorrupt is returned by entryReader for a data file that does not parse.
var errCorrupt = errors.New("corrupted data file")

// entryReader streams the entries of a data file of known size and checks its header,
// order, footer count and CRC.
type entryReader struct {
	f       *os.File
	lay     layout
	crc     *crcReader
	br      *bufio.Reader
	key     []byte
	value   []byte
	entries uint64
	bytes   int64
	size    int64 // of the file: no field can be longer
}

// newEntryReader reads and checks the header and footer of f, a data file of the given size.
func newEntryReader(f *os.File, size int64) (*entryReader, error) {
	var hdr [headerSize]byte
	var ft [footerSizeV2]byte
	if size >= int64(headerSize+footerSize) {
		if _, err := f.ReadAt(hdr[:], 0); err != nil {
			return nil, fmt.Errorf("%w: read header: %w", errCorrupt, unexpectedEOF(err))
		}
		n := min(size, int64(len(ft)))
		if _, err := f.ReadAt(ft[len(ft)-int(n):], size-n); err != nil {
			return nil, fmt.Errorf("%w: read footer: %w", errCorrupt, unexpectedEOF(err))
		}
	}
	lay, err := parseLayout(hdr[:], ft[:], size)
	if err != nil {
		return nil, err
	}
	// The entries are read through the CRC; the index that follows them in format 2 joins
	// the CRC in checkTail.
	cr := &crcReader{r: io.NewSectionReader(f, int64(headerSize), lay.entriesEnd-int64(headerSize))}
	cr.crc = crc32.Update(0, castagnoli, hdr[:])
	return &entryReader{f: f, lay: lay, crc: cr, br: bufio.NewReaderSize(cr, bufferSize), size: size}, nil
}

// each calls fn for every entry, then checks the footer. Slices passed to fn are valid only
// during the call.
func (r *entryReader) each(fn func(kg uint16, key, value []byte) error) error {
	var prevKG uint16
	var prevKey []byte
	for {
		if _, err := r.br.Peek(1); err == io.EOF {
			break
		} else if err != nil {
			return fmt.Errorf("read entry %d: %w", r.entries, err)
		}
		kg, err := r.uvarint("key group", math.MaxUint16)
		if err != nil {
			return err
		}
		if r.key, err = r.field(r.key, "key length", "key"); err != nil {
			return err
		}
		if r.value, err = r.field(r.value, "value length", "value"); err != nil {
			return err
		}
		if r.entries > 0 && (uint16(kg) < prevKG || uint16(kg) == prevKG && bytes.Compare(r.key, prevKey) <= 0) {
			return fmt.Errorf("%w: entry %d is out of order", errCorrupt, r.entries)
		}
		prevKG, prevKey = uint16(kg), append(prevKey[:0], r.key...)
		r.entries++
		r.bytes += int64(len(r.key) + len(r.value))
		if err := fn(uint16(kg), r.key, r.value); err != nil {
			return err
		}
	}
	return r.checkTail()
}

// uvarint reads one uvarint no larger than max.
func (r *entryReader) uvarint(what string, max uint64) (uint64, error) {
	v, err := binary.ReadUvarint(r.br)
	if err != nil {
		return 0, fmt.Errorf("%w: entry %d: %s: %w", errCorrupt, r.entries, what, unexpectedEOF(err))
	}
	if v > max {
		return 0, fmt.Errorf("%w: entry %d: %s %d is out of range", errCorrupt, r.entries, what, v)
	}
	return v, nil
}

// field reads a length-prefixed field into buf (the names are for errors).
func (r *entryReader) field(buf []byte, lengthName, what string) ([]byte, error) {
	// A forged length must not allocate more than the file could hold.
	n, err := r.uvarint(lengthName, uint64(min(r.size, math.MaxInt32)))
	if err != nil {
		return nil, err
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return nil, fmt.Errorf("%w: entry %d: %s: %w", errCorrupt, r.entries, what, unexpectedEOF(err))
	}
	return buf, nil
}

// checkTail reads what follows the entries up to the footer (format 2: the padding and the
// entry index) into the CRC, and compares the footer with what was read.
func (r *entryReader) checkTail() error {
	if n := r.lay.crcEnd - r.lay.entriesEnd; n > 0 {
		r.crc.r = io.NewSectionReader(r.f, r.lay.entriesEnd, n)
		if _, err := io.CopyBuffer(io.Discard, r.crc, make([]byte, min(n, bufferSize))); err != nil {
			return fmt.Errorf("%w: read entry index: %w", errCorrupt, err)
		}
	}
	if r.lay.entries != r.entries {
		return fmt.Errorf("%w: footer counts %d entries, file holds %d", errCorrupt, r.lay.entries, r.entries)
	}
	if r.lay.crc != r.crc.crc {
		return fmt.Errorf("%w: CRC mismatch", errCorrupt)
	}
	return nil
}

// unexpectedEOF turns a plain EOF in the middle of an entry into io.ErrUnexpectedEOF.
func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
