package runtime

import "math"

// noTimestamp marks an element of a stream without event time.
const noTimestamp = math.MinInt64

// element is one record travelling through the job.
type element struct {
	value any
	ts    int64     // event time in Unix ms, or noTimestamp
	pos   recordPos // where the record (or the record it was made from) was read

	// Set by a keyed exchange: the key, its binary encoding and its key group.
	key      any
	keyBytes []byte
	kg       uint16
}

// msgKind is the kind of a message between subtasks.
type msgKind uint8

const (
	msgRecords msgKind = iota
	msgBarrier
	msgWatermark
	msgEnd
)

// message is what crosses a channel between subtasks: a batch of records or a control event.
type message struct {
	kind      msgKind
	from      int // the sender's index at the receiving subtask
	input     int // the logical input of the receiving node (two-input kinds)
	records   []element
	barrier   *barrier
	watermark int64
}
