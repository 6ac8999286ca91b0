package savepoints

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
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
	footerSize  = 8 + 4 + len(footerMagic)
	// bufferSize is the bufio buffer of data file writers and readers.
	bufferSize = 256 << 10
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendHeader appends the header of a data file of the given format version.
func appendHeader(dst []byte, version uint32) []byte {
	dst = append(dst, dataMagic...)
	return binary.LittleEndian.AppendUint32(dst, version)
}

// appendFooter appends a footer.
func appendFooter(dst []byte, entries uint64, crc uint32) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, entries)
	dst = binary.LittleEndian.AppendUint32(dst, crc)
	return append(dst, footerMagic...)
}

// hashingWriter writes to a file, keeping the sha256 and the CRC-32C of everything written
// and its length.
type hashingWriter struct {
	f   *os.File
	sha hash.Hash
	crc uint32
	n   int64
}

func (h *hashingWriter) Write(p []byte) (int, error) {
	h.sha.Write(p)
	h.crc = crc32.Update(h.crc, castagnoli, p)
	n, err := h.f.Write(p)
	h.n += int64(n)
	return n, err
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
	crc     *crcReader
	br      *bufio.Reader
	key     []byte
	value   []byte
	entries uint64
	bytes   int64
	size    int64 // of the file: no field can be longer
}

// newEntryReader reads and checks the header of f, a data file of the given size.
func newEntryReader(f *os.File, size int64) (*entryReader, error) {
	if size < int64(headerSize+footerSize) {
		return nil, fmt.Errorf("%w: %d bytes is shorter than header and footer", errCorrupt, size)
	}
	cr := &crcReader{r: io.LimitReader(f, size-int64(footerSize))}
	r := &entryReader{f: f, crc: cr, br: bufio.NewReaderSize(cr, bufferSize), size: size}
	var hdr [headerSize]byte
	if _, err := io.ReadFull(r.br, hdr[:]); err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	if string(hdr[:len(dataMagic)]) != dataMagic {
		return nil, fmt.Errorf("%w: bad magic %q", errCorrupt, hdr[:len(dataMagic)])
	}
	if v := binary.LittleEndian.Uint32(hdr[len(dataMagic):]); v != FormatVersion1 {
		return nil, fmt.Errorf("%w: unsupported data format version %d", errCorrupt, v)
	}
	return r, nil
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
	return r.checkFooter()
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

// checkFooter reads the footer that follows the entries and compares it with what was read.
func (r *entryReader) checkFooter() error {
	var ft [footerSize]byte
	if _, err := io.ReadFull(r.f, ft[:]); err != nil {
		return fmt.Errorf("%w: read footer: %w", errCorrupt, unexpectedEOF(err))
	}
	if string(ft[12:]) != footerMagic {
		return fmt.Errorf("%w: bad footer magic %q", errCorrupt, ft[12:])
	}
	if n := binary.LittleEndian.Uint64(ft[:8]); n != r.entries {
		return fmt.Errorf("%w: footer counts %d entries, file holds %d", errCorrupt, n, r.entries)
	}
	if crc := binary.LittleEndian.Uint32(ft[8:12]); crc != r.crc.crc {
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
