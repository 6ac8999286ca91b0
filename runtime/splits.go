package runtime

import (
	"math"
)

// splitTime is the event time of one split of a source subtask.
type splitTime struct {
	maxTs    int64 // highest timestamp seen in the split
	lastSeen int64 // processing time of its last record (ms)
}

// splitsLow is the lowest highest-timestamp over the splits that are not idle (a split is
// idle after idle_timeout without records); noTimestamp when there is none, or when a split
// that is not idle has delivered no record yet (AddSplits): nothing is known of its time.
func (t *sourceTime) splitsLow() int64 {
	low, now, seen := int64(math.MaxInt64), t.clock(), false
	for _, sp := range t.splits {
		if t.idleTimeout > 0 && now-sp.lastSeen >= t.idleTimeout {
			continue
		}
		if sp.maxTs == noTimestamp {
			return noTimestamp
		}
		low, seen = min(low, sp.maxTs), true
	}
	if !seen {
		return noTimestamp
	}
	return low
}

// AddSplits implements connectors.SplitContext: each split declared before its first
// record holds the watermark back from now on (see splitsLow).
func (s *sourceTask) AddSplits(splits ...string) {
	t := s.time
	if t == nil {
		return
	}
	if t.splits == nil {
		t.splits = map[string]*splitTime{}
	}
	now := t.clock()
	for _, name := range splits {
		if t.splits[name] == nil {
			t.splits[name] = &splitTime{maxTs: noTimestamp, lastSeen: now}
		}
	}
}

// EmitFrom implements connectors.SplitContext: v comes from split with the connector's time
// ts. With `timestamp: kafka` ts is the event time, else the source's timestamp function
// gives it; either way the watermark is tracked per split.
func (s *sourceTask) EmitFrom(v any, split string, ts int64) error {
	t := s.time
	if t == nil {
		return s.Emit(v)
	}
	if err := s.beforeEmit(); err != nil {
		return err
	}
	if !s.inst.node.ConnectorTime {
		var err error
		if ts, err = t.timestamp(v); err != nil {
			return s.badAfterDecode(v, err)
		}
	}
	if t.splits == nil {
		t.splits = map[string]*splitTime{}
	}
	sp := t.splits[split]
	if sp == nil {
		sp = &splitTime{maxTs: ts}
		t.splits[split] = sp
	}
	sp.maxTs = max(sp.maxTs, ts)
	sp.lastSeen = t.clock()
	return s.emitAt(v, ts)
}

// MarkIdle implements connectors.SplitContext: a subtask with no split to read declares
// itself idle at once, so it never holds the watermark back; its next record ends that.
func (s *sourceTask) MarkIdle() error {
	t := s.time
	if t == nil || t.idle {
		return nil
	}
	t.idle = true
	return s.inst.watermark(idleWatermark)
}
