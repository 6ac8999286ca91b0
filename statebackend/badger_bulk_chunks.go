package statebackend

import (
	"fmt"
	"sync"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/ristretto/v2/z"
)

// bulkChunkSize is the size at which the encoded entries of a table are handed to the
// StreamWriter as one chunk; each chunk is its own stream and so its own SSTable (a little
// under the 8 MiB table size).
const bulkChunkSize = 6 << 20

// bulkWrites is the number of StreamWriter.Write calls in flight: Badger decodes one chunk
// while it builds the SSTable of the other, and the caller encodes the next meanwhile.
const bulkWrites = 2

// chunkWriter writes chunks of sorted entries through a StreamWriter, bulkWrites at a time.
// Chunks of one table carry increasing key ranges, so their streams never overlap, and every
// chunk ends with its stream's done marker so that Badger finishes its SSTable right away
// instead of holding every table builder until Flush. Only the goroutine of the session calls
// its methods.
type chunkWriter struct {
	sw         *badger.StreamWriter
	version    uint64
	nextStream uint32
	inFlight   chan struct{}  // one token per Write in flight
	free       chan *z.Buffer // written buffers, reused
	wg         sync.WaitGroup

	mu  sync.Mutex
	err error // the first Write error
}

// chunk is the encoded entries of one stream, not yet written.
type chunk struct {
	buf    *z.Buffer
	stream uint32
}

func newChunkWriter(sw *badger.StreamWriter, version uint64) *chunkWriter {
	return &chunkWriter{
		sw: sw, version: version, nextStream: 1,
		inFlight: make(chan struct{}, bulkWrites), free: make(chan *z.Buffer, bulkWrites),
	}
}

// add appends one entry to *ch, starting a chunk when *ch is nil and writing it once full.
func (c *chunkWriter) add(ch **chunk, key, value []byte) error {
	if *ch == nil {
		*ch = c.newChunk()
	}
	appendStreamKV((*ch).buf, (*ch).stream, c.version, key, value)
	if (*ch).buf.LenNoPadding() < bulkChunkSize {
		return nil
	}
	err := c.send(*ch)
	*ch = nil
	return err
}

func (c *chunkWriter) newChunk() *chunk {
	ch := &chunk{stream: c.nextStream}
	c.nextStream++
	select {
	case ch.buf = <-c.free:
	default:
		ch.buf = z.NewBuffer(bulkChunkSize+bulkChunkSize/8, "statebackend.bulk")
	}
	return ch
}

// send writes ch in the background, waiting first while bulkWrites writes are in flight; it
// returns the error of an earlier write.
func (c *chunkWriter) send(ch *chunk) error {
	appendStreamDone(ch.buf, ch.stream)
	c.inFlight <- struct{}{}
	if err := c.failed(); err != nil {
		<-c.inFlight
		c.recycle(ch.buf)
		return err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if err := c.sw.Write(ch.buf); err != nil {
			c.mu.Lock()
			if c.err == nil {
				c.err = fmt.Errorf("badger bulk load: %w", err)
			}
			c.mu.Unlock()
		}
		c.recycle(ch.buf)
		<-c.inFlight
	}()
	return nil
}

// recycle keeps buf for the next chunk, or releases it when enough are kept.
func (c *chunkWriter) recycle(buf *z.Buffer) {
	buf.Reset()
	select {
	case c.free <- buf:
	default:
		_ = buf.Release() // only fails for file-backed buffers
	}
}

func (c *chunkWriter) failed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// wait waits for every write and releases the kept buffers; it returns the first error.
func (c *chunkWriter) wait() error {
	c.wg.Wait()
	for {
		select {
		case buf := <-c.free:
			_ = buf.Release()
		default:
			return c.failed()
		}
	}
}
