package runtime

import (
	"sync"

	"github.com/pipectl/pipectl/pipeline"
)

// output is where a node instance sends what it produces: a chained instance (same
// goroutine) or an exchange to the subtasks of a downstream node.
type output interface {
	push(e *element) error
	watermark(wm int64) error
	barrier(b *barrier) error
	finish() error
	// flush sends partly filled batches (exchanges only; chained outputs pass it on).
	flush() error
}

// inbox is the input channel of one subtask of a group head, shared by all its senders.
type inbox struct {
	ch      chan message
	senders int // number of upstream subtasks that send here
}

// batchSize is the number of records in a full batch.
const batchSize = 256

// batches recycles the record slices of exchange batches: a subtask gives a batch back when
// it has processed every record of it (nothing keeps a pointer into a batch), so the records
// in flight cost no allocation per batch.
var batches = sync.Pool{New: func() any {
	b := make([]element, 0, batchSize)
	return &b
}}

// newBatch returns an empty batch.
func newBatch() []element { return (*batches.Get().(*[]element))[:0] }

// freeBatch gives a processed batch back, cleared so that it holds no record alive.
func freeBatch(b []element) {
	clear(b)
	b = b[:0]
	batches.Put(&b)
}

// inboxCapacity is the number of batches an inbox holds before senders block
// (backpressure).
const inboxCapacity = 16

// exchange sends the records of one producing subtask to the subtasks of one consumer node:
// by key group for keyed consumers, else to subtask (producer index mod consumer
// parallelism), which keeps each parallel path in order.
type exchange struct {
	job      *Job
	consumer *pipeline.Node
	types    recordTypes // of the records sent, for messages
	targets  []*inbox
	from     int // this producer's sender index at every target
	input    int // logical input index at the consumer
	fixed    int // target of an unkeyed exchange
	keys     *keySelector
	maxPar   int
	buffers  [][]element
	keyBuf   keyArena    // the key bytes of the records sent
	blocked  *blockTimer // the producer's goroutine's wait time
}

func (x *exchange) push(e *element) error {
	t := x.fixed
	if x.keys != nil {
		if err := x.keys.assign(e, &x.keyBuf); err != nil {
			return x.keyFailed(e, err)
		}
		e.kg = keyGroupOf(e.keyBytes, x.maxPar)
		t = subtaskOf(e.kg, len(x.targets), x.maxPar)
	}
	buf := append(x.buffers[t], *e)
	x.buffers[t] = buf
	if len(buf) >= batchSize {
		return x.send(t)
	}
	return nil
}

// keyFailed handles a record whose key could not be computed (a JS key_by threw or timed
// out, the key does not fit key_type): it is the consumer's failure, though the key is
// computed here, on the sending side, so the consumer's on_error applies to it.
func (x *exchange) keyFailed(e *element, err error) error {
	c := x.consumer
	return x.job.onUserError(c, x.types, e, named(c.Role, c.UID, err))
}

// send delivers target t's batch.
func (x *exchange) send(t int) error {
	buf := x.buffers[t]
	if len(buf) == 0 {
		return nil
	}
	x.buffers[t] = newBatch()
	return x.deliver(x.targets[t], message{kind: msgRecords, from: x.from, input: x.input, records: buf})
}

// deliver sends m to ib, counting the time a full inbox makes the producer wait.
func (x *exchange) deliver(ib *inbox, m message) error {
	if x.blocked == nil {
		return x.job.deliver(ib, m)
	}
	return timedDeliver(x.job, x.blocked, ib, m)
}

func (x *exchange) flush() error {
	for t := range x.buffers {
		if err := x.send(t); err != nil {
			return err
		}
	}
	return nil
}

// broadcast flushes every batch, then sends a control message to every target.
func (x *exchange) broadcast(m message) error {
	if err := x.flush(); err != nil {
		return err
	}
	m.from, m.input = x.from, x.input
	for _, t := range x.targets {
		if err := x.deliver(t, m); err != nil {
			return err
		}
	}
	return nil
}

func (x *exchange) watermark(wm int64) error {
	return x.broadcast(message{kind: msgWatermark, watermark: wm})
}

func (x *exchange) barrier(b *barrier) error {
	return x.broadcast(message{kind: msgBarrier, barrier: b})
}

func (x *exchange) finish() error {
	return x.broadcast(message{kind: msgEnd})
}
