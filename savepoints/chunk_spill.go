package savepoints

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
)

// spillFile is the unnamed file a Chunk moves its bytes to (SpillTo).
type spillFile struct {
	dir string
	f   *os.File // nil until the first spill
	n   int64
}

// SpillTo makes the chunk move its own bytes into an unnamed file in dir (created when
// needed) whenever its buffer fills, instead of holding them all in memory. dir should be on
// the file system the chunk is written to (its savepoint directory), where the copy into the
// data file stays in the kernel. Release closes the file.
func (c *Chunk) SpillTo(dir string) {
	if dir != "" {
		c.spill = &spillFile{dir: dir}
	}
}

// Release frees what the chunk holds (its buffer and its spill file) and empties it.
func (c *Chunk) Release() {
	if c.spill != nil && c.spill.f != nil {
		c.spill.f.Close()
	}
	*c = Chunk{}
}

// spillPieces writes the chunk's in-memory pieces of its own buffer to the spill file, one
// write, and replaces them with references to it.
func (c *Chunk) spillPieces() error {
	sp := c.spill
	first := slices.IndexFunc(c.pieces, func(p piece) bool { return p.mem != nil && !p.run })
	if first < 0 {
		return nil
	}
	if sp.f == nil {
		if err := os.MkdirAll(sp.dir, 0o755); err != nil {
			return fmt.Errorf("spill snapshot entries: %w", err)
		}
		f, err := os.CreateTemp(sp.dir, ".spill-*")
		if err != nil {
			return fmt.Errorf("spill snapshot entries: %w", err)
		}
		// Unnamed from now on: nothing is left behind, whatever happens to the process.
		if err := os.Remove(f.Name()); err != nil {
			f.Close()
			return fmt.Errorf("spill snapshot entries: %w", err)
		}
		sp.f = f
	}
	for i := first; i < len(c.pieces); i++ {
		p := &c.pieces[i]
		if p.mem == nil || p.run {
			continue
		}
		if _, err := sp.f.Write(p.mem); err != nil {
			return fmt.Errorf("spill snapshot entries: %w", err)
		}
		*p = piece{file: sp.f, off: sp.n, n: int64(len(p.mem)), crc: crc32.Checksum(p.mem, castagnoli)}
		sp.n += p.n
	}
	return nil
}

// writePieces writes pieces one after the other: those in memory as writeSegments does,
// spilled ones copied from their file (within the kernel where it can), their CRC combined
// with the file's.
func (h *hashingWriter) writePieces(pieces []piece) error {
	var mem [][]byte
	flush := func() error {
		err := h.writeSegments(mem)
		mem = mem[:0]
		return err
	}
	for _, p := range pieces {
		if p.mem != nil {
			mem = append(mem, p.mem)
			continue
		}
		if err := flush(); err != nil {
			return err
		}
		if err := h.copyFrom(p); err != nil {
			return err
		}
	}
	return flush()
}

// copyFrom appends a spilled piece.
func (h *hashingWriter) copyFrom(p piece) error {
	if _, err := p.file.Seek(p.off, io.SeekStart); err != nil {
		return err
	}
	// ReadFrom of a limited *os.File uses copy_file_range on Linux.
	n, err := h.f.ReadFrom(&io.LimitedReader{R: p.file, N: p.n})
	h.n += n
	if err == nil && n != p.n {
		err = errors.New("spilled entries: short copy")
	}
	if err != nil {
		return err
	}
	h.crc = crc32Combine(h.crc, p.crc, p.n)
	return nil
}

// crc32Combine returns the CRC-32C of a+b from crcA (of a), crcB (of b) and the length of b:
// the zlib method, which applies len(b) zero bytes to crcA as powers of a 32×32 bit matrix
// over GF(2), squared once per bit of the length.
func crc32Combine(crcA, crcB uint32, lenB int64) uint32 {
	if lenB <= 0 {
		return crcA
	}
	var even, odd [32]uint32 // operators for 2^k zero bits
	odd[0] = crc32.Castagnoli
	row := uint32(1)
	for i := 1; i < 32; i++ {
		odd[i] = row
		row <<= 1
	}
	gf2Square(&even, &odd) // two zero bits
	gf2Square(&odd, &even) // four zero bits
	for {
		gf2Square(&even, &odd) // one zero byte, then 4, 16, ...
		if lenB&1 != 0 {
			crcA = gf2Times(&even, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
		gf2Square(&odd, &even)
		if lenB&1 != 0 {
			crcA = gf2Times(&odd, crcA)
		}
		if lenB >>= 1; lenB == 0 {
			break
		}
	}
	return crcA ^ crcB
}

// gf2Times multiplies the matrix mat by the vector vec over GF(2).
func gf2Times(mat *[32]uint32, vec uint32) uint32 {
	var sum uint32
	for i := 0; vec != 0; i, vec = i+1, vec>>1 {
		if vec&1 != 0 {
			sum ^= mat[i]
		}
	}
	return sum
}

// gf2Square sets square to mat × mat.
func gf2Square(square, mat *[32]uint32) {
	for i := range mat {
		square[i] = gf2Times(mat, mat[i])
	}
}
