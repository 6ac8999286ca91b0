package statebackend

import (
	"bytes"
	"encoding/binary"
	"sort"
	"sync"
	"sync/atomic"
)

// Mapping is read-only memory holding entries framed as in a savepoint data file (uvarint key
// group, uvarint key length, key, uvarint value length, value): a memory-mapped data file. It
// is reference counted: every Base over it and every snapshot using such a Base hold a
// reference, and the memory is released (release is called) when the last one is dropped.
type Mapping struct {
	data    []byte
	refs    atomic.Int64
	release func()
	once    sync.Once
}

// NewMapping wraps data, holding one reference for the caller (drop it with Unref once the
// Bases over it are made); release frees data when the last reference is dropped.
func NewMapping(data []byte, release func()) *Mapping {
	m := &Mapping{data: data, release: release}
	m.refs.Store(1)
	return m
}

// Ref takes a reference.
func (m *Mapping) Ref() { m.refs.Add(1) }

// Unref drops a reference, releasing the memory with the last one.
func (m *Mapping) Unref() {
	if m.refs.Add(-1) == 0 && m.release != nil {
		m.once.Do(m.release)
	}
}

// Base states: an entry of a Base is only in the Base (serve it from there), taken (its
// value moved into the Cache, or the key was written or deleted: the Base no longer speaks
// for it), or loaded into the table by LoadBase.
const (
	baseOnly   = 0
	baseTaken  = 1
	baseLoaded = 2
)

// Base is a read-only, sorted run of a table's entries (a range of a savepoint data file) that
// a Cache serves misses from while it copies them into its table in the background
// (LoadBase): a restore then does not wait for the state to be loaded. Each entry has a state
// byte owned by the Cache's goroutine. Values are in the table's stored form.
type Base struct {
	m     *Mapping
	offs  []uint32 // start of each entry in m.data, in (key group, key) order
	state []uint8  // per entry: baseOnly, baseTaken or baseLoaded
	next  int      // the next entry LoadBase looks at
}

// NewBase returns a Base over the entries of m starting at offs (sorted by key group, then
// key bytes). It takes a reference on m until it is loaded or closed.
func NewBase(m *Mapping, offs []uint32) *Base {
	m.Ref()
	return &Base{m: m, offs: offs, state: make([]uint8, len(offs))}
}

// Len is the number of entries of the base.
func (b *Base) Len() int { return len(b.offs) }

// entry decodes entry i.
func (b *Base) entry(i int) (kg uint16, key, value []byte) {
	return DecodeFramed(b.m.data[b.offs[i]:])
}

// DecodeFramed decodes the entry at the start of p, framed as in a savepoint data file. A
// restore may serve entries before it has checked their framing (it checks every one while
// the job runs and fails the job on a bad one), so a malformed entry gives short or empty
// fields rather than a panic.
func DecodeFramed(p []byte) (kg uint16, key, value []byte) {
	k, n := binary.Uvarint(p)
	p = p[max(n, 0):]
	key, p = framedField(p)
	value, _ = framedField(p)
	return uint16(k), key, value
}

// framedField splits a uvarint length and at most that many bytes off p.
func framedField(p []byte) (field, rest []byte) {
	l, n := binary.Uvarint(p)
	if n <= 0 {
		return nil, nil
	}
	p = p[n:]
	l = min(l, uint64(len(p)))
	return p[:l:l], p[l:]
}

// find returns the index of (kg, key), or -1.
func (b *Base) find(kg uint16, key []byte) int {
	i := searchFramed(b.m.data, b.offs, kg, key)
	if i < len(b.offs) {
		if ekg, ekey, _ := b.entry(i); ekg == kg && bytes.Equal(ekey, key) {
			return i
		}
	}
	return -1
}

// searchFramed returns the index of the first entry at offs (entries framed as in a
// savepoint data file, sorted by key group, then key) that sorts at or after (kg, key); a nil
// key finds the first entry of key group kg.
func searchFramed(data []byte, offs []uint32, kg uint16, key []byte) int {
	return sort.Search(len(offs), func(i int) bool {
		ekg, ekey, _ := DecodeFramed(data[offs[i]:])
		return compareKey(ekg, ekey, kg, key) >= 0
	})
}

// take marks (kg, key) taken and returns its stored value when the base still served it.
func (b *Base) take(kg uint16, key []byte) ([]byte, bool) {
	i := b.find(kg, key)
	if i < 0 || b.state[i] != baseOnly {
		return nil, false
	}
	b.state[i] = baseTaken
	_, _, v := b.entry(i)
	return v, true
}

// close drops the base's reference on its mapping.
func (b *Base) close() {
	if b.m != nil {
		b.m.Unref()
		b.m = nil
	}
}

// compareKey orders (key group, key bytes).
func compareKey(akg uint16, akey []byte, bkg uint16, bkey []byte) int {
	switch {
	case akg < bkg:
		return -1
	case akg > bkg:
		return 1
	}
	return bytes.Compare(akey, bkey)
}
