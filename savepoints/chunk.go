package savepoints

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
)

// Chunk is a run of entries of one state already framed as in a data file (uvarint key
// group, uvarint key length, key, uvarint value length, value) and in strictly increasing
// (key group, key) order: a snapshot builds its chunks on its own goroutines, and
// StateWriter.AddChunk copies them into the data file without decoding them again.
//
// Its bytes are pieces, in order: memory the chunk appends to, runs of another data file it
// was given (AddRun, referred to without a copy), and, once SpillTo named a directory, its own
// bytes moved out of memory into an unnamed file there whenever its buffer fills (a snapshot
// of a large state then holds one buffer per chunk, not the state). Spilled bytes reach the
// data file by an in-kernel copy.
type Chunk struct {
	pieces         []piece // the pieces before data[mark:]
	data           []byte  // the memory Add appends to; data[mark:] is the last piece
	mark           int
	spill          *spillFile // nil: nothing spills
	offs           []uint32   // where each entry starts in the chunk (nil once past maxMapped)
	size           int64      // bytes of the framed entries
	entries, bytes int64
	firstKG        uint16
	firstKey       []byte
	lastKG         uint16
	lastKey        []byte
	keyBuf         []byte // holds lastKey once its buffer is reused
	firstKept      bool   // firstKey is a copy
}

// piece is a part of a chunk's bytes: in memory (mem), or spilled (n bytes at off in file,
// whose CRC-32C is crc).
type piece struct {
	mem    []byte
	run    bool // mem is another file's (AddRun), not the chunk's buffer
	file   *os.File
	off, n int64
	crc    uint32
}

// Add appends one entry; (kg, key) must sort after the previous entry.
func (c *Chunk) Add(kg uint16, key, value []byte) error {
	if c.entries > 0 && (kg < c.lastKG || kg == c.lastKG && bytes.Compare(key, c.lastKey) <= 0) {
		return fmt.Errorf("entry (key group %d, key %x) is not after (key group %d, key %x)", kg, key, c.lastKG, c.lastKey)
	}
	if need := 3*binary.MaxVarintLen64 + len(key) + len(value); cap(c.data)-len(c.data) < need {
		if err := c.grow(need); err != nil {
			return err
		}
	}
	c.addOffset(c.size)
	n := len(c.data)
	c.data = binary.AppendUvarint(c.data, uint64(kg))
	c.data = binary.AppendUvarint(c.data, uint64(len(key)))
	k := len(c.data)
	c.data = append(c.data, key...)
	// The keys are kept as slices of the buffer: no copy per entry (grow copies them before it
	// reuses the buffer).
	c.lastKG, c.lastKey = kg, c.data[k:len(c.data):len(c.data)]
	if c.entries == 0 {
		c.firstKG, c.firstKey = kg, c.lastKey
	}
	c.data = binary.AppendUvarint(c.data, uint64(len(value)))
	c.data = append(c.data, value...)
	c.size += int64(len(c.data) - n)
	c.entries++
	c.bytes += int64(len(key) + len(value))
	return nil
}

// grow makes room for need more bytes: it spills the chunk's own bytes and reuses its buffer
// when it spills, and starts a new buffer otherwise (rather than a larger copy of everything
// so far).
func (c *Chunk) grow(need int) error {
	c.endPiece()
	if c.spill == nil || need > chunkSegment {
		c.data, c.mark = make([]byte, 0, max(chunkSegment, need)), 0
		return nil
	}
	if err := c.spillPieces(); err != nil {
		return err
	}
	c.keepKeys()
	if c.data == nil {
		c.data = make([]byte, 0, chunkSegment)
	}
	c.data, c.mark = c.data[:0], 0
	return nil
}

// keepKeys copies the first and last keys out of the buffer, which is about to be reused.
func (c *Chunk) keepKeys() {
	if c.entries == 0 {
		return
	}
	if !c.firstKept {
		c.firstKey, c.firstKept = bytes.Clone(c.firstKey), true
	}
	c.keyBuf = append(c.keyBuf[:0], c.lastKey...)
	c.lastKey = c.keyBuf
}

// addOffset notes that an entry starts at off in the chunk.
func (c *Chunk) addOffset(off int64) {
	switch {
	case off >= maxMapped:
		c.offs = nil
	case c.offs != nil || c.entries == 0:
		c.offs = append(c.offs, uint32(off))
	}
}

// endPiece closes the piece being appended to: what comes next goes after it.
func (c *Chunk) endPiece() {
	if len(c.data) > c.mark {
		c.pieces = append(c.pieces, piece{mem: c.data[c.mark:len(c.data):len(c.data)]})
		c.mark = len(c.data)
	}
}

// allPieces returns the chunk's pieces, in order.
func (c *Chunk) allPieces() []piece {
	if len(c.data) > c.mark {
		return append(c.pieces[:len(c.pieces):len(c.pieces)], piece{mem: c.data[c.mark:]})
	}
	return c.pieces
}

// AddRun appends entries framed elsewhere, as they are: framed holds them, and starts their
// offsets in the memory framed was cut from (starts[0] is framed's first byte). The first
// must sort after the entries before it, as with Add; the chunk refers to framed, which must
// not change until the chunk is written.
func (c *Chunk) AddRun(framed []byte, starts []uint32) error {
	if len(starts) == 0 {
		return nil
	}
	first := starts[0]
	if c.offs != nil || c.entries == 0 {
		c.offs = slices.Grow(c.offs, len(starts))
	}
	var kg uint16
	var key []byte
	for _, st := range starts {
		p := framed[st-first:]
		var value []byte
		kg, key, value = decodeFramed(p)
		if c.entries == 0 {
			c.firstKG, c.firstKey = kg, key
		} else if st == first && (kg < c.lastKG || kg == c.lastKG && bytes.Compare(key, c.lastKey) <= 0) {
			return fmt.Errorf("entry (key group %d, key %x) is not after (key group %d, key %x)", kg, key, c.lastKG, c.lastKey)
		}
		c.addOffset(c.size + int64(st-first))
		c.entries++
		c.bytes += int64(len(key) + len(value))
	}
	c.lastKG, c.lastKey = kg, key
	c.endPiece()
	c.pieces = append(c.pieces, piece{mem: framed, run: true})
	c.size += int64(len(framed))
	return nil
}

// chunkSegment is the size of a Chunk's buffer: it grows by buffers of this size, or reuses
// one of them when it spills.
const chunkSegment = 1 << 20

// Entries is the number of entries added.
func (c *Chunk) Entries() int64 { return c.entries }

// Each calls fn for every entry of the chunk, in order.
func (c *Chunk) Each(fn func(kg uint16, key, value []byte) error) error {
	for _, p := range c.allPieces() {
		b := p.mem
		if b == nil {
			b = make([]byte, p.n)
			if _, err := p.file.ReadAt(b, p.off); err != nil {
				return fmt.Errorf("read spilled entries: %w", err)
			}
		}
		if err := eachFramed(b, fn); err != nil {
			return err
		}
	}
	return nil
}

// eachFramed calls fn for every entry of b.
func eachFramed(b []byte, fn func(kg uint16, key, value []byte) error) error {
	for len(b) > 0 {
		kg, n := binary.Uvarint(b)
		b = b[n:]
		kl, n := binary.Uvarint(b)
		b = b[n:]
		key := b[:kl]
		b = b[kl:]
		vl, n := binary.Uvarint(b)
		b = b[n:]
		val := b[:vl]
		b = b[vl:]
		if err := fn(uint16(kg), key, val); err != nil {
			return err
		}
	}
	return nil
}

// AddChunk appends the entries of c, whose first entry must sort after the last one added.
func (s *StateWriter) AddChunk(c *Chunk) error { return s.AddChunks([]*Chunk{c}) }

// AddChunks appends the entries of the chunks in order: each chunk's first entry must sort
// after the last entry before it. The chunks' bytes go to the file as they are, hashed on
// another goroutine while they are written; the chunks must not change until Commit (the
// index of the data file is written from their entries' offsets).
func (s *StateWriter) AddChunks(cs []*Chunk) error {
	if s.err != nil {
		return s.err
	}
	var pieces []piece
	prevKG, prevKey, entries := s.prevKG, s.prevKey, s.entries
	for _, c := range cs {
		if c.entries == 0 {
			continue
		}
		if entries > 0 && (c.firstKG < prevKG || c.firstKG == prevKG && bytes.Compare(c.firstKey, prevKey) <= 0) {
			return fmt.Errorf("savepoint state %s/%s: entry (key group %d, key %x) is not after (key group %d, key %x)",
				s.uid, s.name, c.firstKG, c.firstKey, prevKG, prevKey)
		}
		prevKG, prevKey, entries = c.lastKG, c.lastKey, entries+c.entries
		pieces = append(pieces, c.allPieces()...)
	}
	if len(pieces) == 0 {
		return nil
	}
	for _, c := range cs {
		switch {
		case c.entries == 0 || s.noIndex:
		case c.offs == nil:
			s.dropIndex(maxMapped)
		case !s.dropIndex(s.pos + c.size):
			s.index = append(s.index, indexRun{base: uint32(s.pos), offs: c.offs})
		}
		s.pos += c.size
		s.entries += c.entries
		s.bytes += c.bytes
	}
	s.prevKG, s.prevKey = prevKG, append(s.prevKey[:0], prevKey...)
	// What the buffer holds comes first in the file.
	err := s.bw.Flush()
	if err == nil {
		err = s.hw.writePieces(pieces)
	}
	if err != nil {
		s.err = fmt.Errorf("savepoint state %s/%s: %w", s.uid, s.name, err)
	}
	return s.err
}
