package runtime

import (
	"fmt"
	"sync"

	"github.com/pipectl/pipectl/connectors"
)

// recordPos is where a record was read. It travels by value in every element, through chained
// operators and exchanges, so a failure anywhere downstream names the record's input position
// without an allocation per record: an index into the job's table of inputs (0: unknown), a
// Kafka partition, and the byte offset of a file's line or the Kafka offset.
type recordPos struct {
	src  int32
	part int32
	off  int64
}

// inputTable lists the files and topics the job's sources read, for recordPos.
type inputTable struct {
	mu    sync.Mutex
	names []string
	kafka []bool
}

// index returns the index of an input (1-based), adding it on first use.
func (t *inputTable) index(name string, kafka bool) int32 {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i := range t.names {
		if t.names[i] == name && t.kafka[i] == kafka {
			return int32(i + 1)
		}
	}
	t.names, t.kafka = append(t.names, name), append(t.kafka, kafka)
	return int32(len(t.names))
}

// where says where a record was read: topic/partition@offset or file:line (the line counted
// now, when a failure needs it); "" when unknown.
func (t *inputTable) where(p recordPos) string {
	if p.src == 0 {
		return ""
	}
	t.mu.Lock()
	name, kafka := t.names[p.src-1], t.kafka[p.src-1]
	t.mu.Unlock()
	if kafka {
		return fmt.Sprintf("%s/%d@%d", name, p.part, p.off)
	}
	if line, err := connectors.LineAt(name, p.off); err == nil {
		return fmt.Sprintf("%s:%d", name, line)
	}
	return fmt.Sprintf("%s (byte offset %d)", name, p.off)
}

// At implements connectors.PositionContext: the next record emitted was read at p.
func (s *sourceTask) At(p connectors.Position) {
	name, kafka := p.File, false
	if p.Topic != "" {
		name, kafka = p.Topic, true
	}
	if s.posIndex == 0 || name != s.posName || kafka != s.posKafka {
		s.posIndex, s.posName, s.posKafka = s.job.inputs.index(name, kafka), name, kafka
	}
	s.inst.pos = recordPos{src: s.posIndex, part: p.Partition, off: p.Offset}
	s.posLine, s.posRaw = p.Line, p.Raw
}

// badAfterDecode reports a record that the source decoded but the runtime finds bad (its
// timestamp function failed) under the source's on_error, as the connector reports a record
// it cannot decode: with the record as read and where it was read, when the connector said
// (At); else with the record re-encoded. As for a decode error, the message does not name the
// source: the dead letter's uid does, and so does the job's error.
func (s *sourceTask) badAfterDecode(v any, err error) error {
	b := connectors.BadRecord{Err: err, Record: recordText(s.inst, v)}
	if p := s.inst.pos; p.src != 0 {
		if s.posRaw != nil {
			b.Record = string(s.posRaw)
		}
		if s.posKafka {
			b.Kafka = &connectors.KafkaPosition{Topic: s.posName, Partition: p.part, Offset: p.off}
		} else {
			b.File, b.Offset, b.Line = s.posName, p.off, s.posLine
			if b.Line == 0 {
				if line, err := connectors.LineAt(s.posName, p.off); err == nil {
					b.Line = line
				} // else unknown: the dead letter omits it
			}
		}
	}
	return s.Bad(b)
}

// recordContext is recordContext of e, a record of types t, with its input position.
func (j *Job) recordContext(e *element, t recordTypes) string {
	return recordContext(e, t, j.inputs.where(e.pos))
}
