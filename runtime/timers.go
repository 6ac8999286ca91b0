package runtime

import (
	"container/heap"
	"fmt"
	"math"
	"slices"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/statebackend"
)

// timerDomain says which time a timer is on.
type timerDomain uint8

const (
	eventTimer      timerDomain = iota // fires when the watermark reaches its time
	processingTimer                    // fires when the clock reaches its time
)

// timerField is the field of the `timers` state (pipeline.TimersType) of each domain.
var timerField = [2]string{"event", "processing"}

// timer is one pending timer of one key.
type timer struct {
	t   int64
	kg  uint16
	key string // the key's binary encoding
	val any    // the key itself
}

// timerID identifies a pending timer: one per domain, time and key.
type timerID struct {
	domain timerDomain
	t      int64
	key    string
}

// timerHeap orders timers by time, then key bytes (so firing order is deterministic).
type timerHeap []timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].t != h[j].t {
		return h[i].t < h[j].t
	}
	return h[i].key < h[j].key
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timer)) }
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	*h = old[:len(old)-1]
	return t
}

// timerService keeps the timers of one keyed instance: durable in the internal `timers`
// state (per key: the pending event and processing times, sorted), and indexed in memory by
// a heap per domain for firing. Invariant: pending holds exactly the timers in the state;
// the heaps may hold stale entries (deleted timers), which are skipped when popped.
type timerService struct {
	state   *keyedState
	heaps   [2]timerHeap
	pending map[timerID]struct{}
	wake    *wakeup // processing-time wake-ups of the instance's subtask (nil: none)
}

// newTimerService opens the timers of an instance and loads those of its key groups (from a
// restore). keyType decodes stored keys.
func newTimerService(in *instance, keyType *schema.Type) (*timerService, error) {
	s := in.stateByName(pipeline.StateTimers)
	if s == nil {
		return nil, fmt.Errorf("operator %q: internal: no %q state", in.node.UID, pipeline.StateTimers)
	}
	ts := &timerService{state: s, pending: map[timerID]struct{}{}, wake: in.wake}
	from, to := keyGroupRange(in.subtask, in.node.Parallelism, in.job.maxPar)
	codec := typeCodec{s.desc.Schema}
	err := s.table.Scan(from, to, func(kg uint16, key, stored []byte) error {
		_, raw, err := statebackend.DecodeStored(s.desc.TTL, stored)
		if err != nil {
			return err
		}
		v, err := codec.Decode(raw)
		if err != nil {
			return err
		}
		kv, _, err := keyType.DecodeBinary(key)
		if err != nil {
			return fmt.Errorf("key: %w", err)
		}
		rec, _ := v.(map[string]any)
		for d := range timerField {
			for _, t := range timesOf(rec, timerDomain(d)) {
				ts.push(timerDomain(d), timer{t: t, kg: kg, key: string(key), val: kv})
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("operator %q: restore timers: %w", in.node.UID, err)
	}
	if next, ok := ts.next(processingTimer); ok && ts.wake != nil {
		ts.wake.schedule(next) // timers that fell due while the job was down fire at once
	}
	return ts, nil
}

// timesOf returns the sorted times of one domain in a `timers` value.
func timesOf(rec map[string]any, d timerDomain) []int64 {
	l, _ := rec[timerField[d]].([]any)
	out := make([]int64, 0, len(l))
	for _, x := range l {
		if t, ok := x.(int64); ok {
			out = append(out, t)
		}
	}
	return out
}

func (ts *timerService) push(d timerDomain, tm timer) {
	ts.pending[timerID{d, tm.t, tm.key}] = struct{}{}
	heap.Push(&ts.heaps[d], tm)
}

// register adds a timer of domain d at time t for the key of e (once: a timer registered
// twice fires once).
func (ts *timerService) register(d timerDomain, t int64, e *element) error {
	id := timerID{d, t, string(e.keyBytes)}
	if _, ok := ts.pending[id]; ok {
		return nil
	}
	if err := ts.update(e.kg, e.keyBytes, d, func(l []int64) []int64 {
		i, _ := slices.BinarySearch(l, t)
		return slices.Insert(l, i, t)
	}); err != nil {
		return err
	}
	ts.push(d, timer{t: t, kg: e.kg, key: id.key, val: e.key})
	if d == processingTimer && ts.wake != nil {
		ts.wake.schedule(t)
	}
	return nil
}

// remove deletes a pending timer (nothing when there is none).
func (ts *timerService) remove(d timerDomain, t int64, kg uint16, key []byte) error {
	id := timerID{d, t, string(key)}
	if _, ok := ts.pending[id]; !ok {
		return nil
	}
	delete(ts.pending, id)
	return ts.update(kg, key, d, func(l []int64) []int64 {
		if i, ok := slices.BinarySearch(l, t); ok {
			return slices.Delete(l, i, i+1)
		}
		return l
	})
}

// update rewrites the times of domain d of one key's `timers` value (deleting the entry
// when no timer is left).
func (ts *timerService) update(kg uint16, key []byte, d timerDomain, fn func([]int64) []int64) error {
	cur, _, err := ts.state.cache.Get(kg, key)
	if err != nil {
		return err
	}
	rec, _ := cur.(map[string]any)
	var lists [2][]int64
	for i := range lists {
		lists[i] = timesOf(rec, timerDomain(i))
	}
	lists[d] = fn(lists[d])
	if len(lists[0]) == 0 && len(lists[1]) == 0 {
		return ts.state.cache.Delete(kg, key)
	}
	nv := make(map[string]any, 2)
	for i, l := range lists {
		xs := make([]any, len(l))
		for k, t := range l {
			xs[k] = t
		}
		nv[timerField[i]] = xs
	}
	return ts.state.cache.Put(kg, key, nv)
}

// next returns the earliest pending time of domain d.
func (ts *timerService) next(d timerDomain) (int64, bool) {
	h := &ts.heaps[d]
	for h.Len() > 0 {
		top := (*h)[0]
		if _, ok := ts.pending[timerID{d, top.t, top.key}]; ok {
			return top.t, true
		}
		heap.Pop(h)
	}
	return 0, false
}

// advance fires, in time order, every timer of domain d at or before upTo: each is removed
// from the state first, then fire runs (and may register new timers, which fire in the same
// call when due). Processing time then schedules the next wake-up.
func (ts *timerService) advance(d timerDomain, upTo int64, fire func(tm timer) error) error {
	h := &ts.heaps[d]
	for {
		t, ok := ts.next(d)
		if !ok || t > upTo {
			break
		}
		tm := heap.Pop(h).(timer)
		if err := ts.remove(d, tm.t, tm.kg, []byte(tm.key)); err != nil {
			return err
		}
		if err := fire(tm); err != nil {
			return err
		}
	}
	if d == processingTimer && ts.wake != nil && upTo != math.MaxInt64 {
		if t, ok := ts.next(d); ok {
			ts.wake.schedule(t)
		}
	}
	return nil
}

// timerElement is the element through which a firing timer reaches its key's state.
func timerElement(tm timer, ts int64) *element {
	return &element{key: tm.val, keyBytes: []byte(tm.key), kg: tm.kg, ts: ts}
}
