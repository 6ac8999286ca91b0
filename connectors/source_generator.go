package connectors

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

func init() {
	Register(Spec{
		Kind: "generator", Role: RoleSource, Replayable: true,
		Summary: "Emits fn(i) for i = 0, 1, 2, …: deterministic test and demo input.",
		Offsets: "the next index",
		Keys: []Key{
			{Name: "fn", Type: TypeFunction, Required: true, Doc: "i => event: the i-th event (deterministic)"},
			{Name: "count", Type: TypeInt, Doc: "the number of events; omit for an unbounded source"},
			{Name: "rate", Type: TypeNumber, Doc: "events per second; omit to go as fast as possible"},
		},
		NewSource: func(cfg SourceConfig) (Source, error) { return newGeneratorSource(cfg) },
	})
}

// generatorSource emits Gen(i) for its share of the indexes i = 0, 1, 2, …: those with
// i % Parallelism == Subtask, in increasing order, below Count unless Count is -1.
// With a Rate, index i is due (i - first)/Rate seconds after Run starts, first being the index
// Run starts at: the source's share keeps the overall rate, and a source that falls behind
// catches up at full speed.
type generatorSource struct {
	cfg  SourceConfig
	next atomic.Int64 // the next index to emit; read by Offsets from any goroutine
}

// rateSlack is how early a paced record may go: waits shorter than this are not worth a timer.
const rateSlack = time.Millisecond

func newGeneratorSource(cfg SourceConfig) (*generatorSource, error) {
	if cfg.Gen == nil {
		return nil, errors.New("generator without fn")
	}
	if cfg.Count < -1 {
		return nil, fmt.Errorf("count %d: want -1 (unbounded) or at least 0", cfg.Count)
	}
	if cfg.Rate < 0 {
		return nil, fmt.Errorf("rate %g: want at least 0", cfg.Rate)
	}
	s := &generatorSource{cfg: cfg}
	s.next.Store(int64(cfg.Subtask))
	return s, nil
}

func (s *generatorSource) Bounded() bool { return s.cfg.Count >= 0 }

// Offsets returns {"next": the next index this subtask emits}.
func (s *generatorSource) Offsets() Offsets { return Offsets{"next": s.next.Load()} }

// Restore goes on at the first index of this subtask's share from o["next"] on (0 for nil).
func (s *generatorSource) Restore(o Offsets) error {
	n := o["next"]
	if n < 0 {
		return fmt.Errorf("restore: next index %d is negative", n)
	}
	p, sub := int64(s.cfg.Parallelism), int64(s.cfg.Subtask)
	n += (sub - n%p + p) % p
	s.next.Store(n)
	return nil
}

func (s *generatorSource) Run(ctx SourceContext) error {
	start := time.Now()
	first := s.next.Load()
	step := int64(s.cfg.Parallelism)
	for i := first; s.cfg.Count < 0 || i < s.cfg.Count; i += step {
		if s.cfg.Rate > 0 {
			due := start.Add(time.Duration(float64(i-first) / s.cfg.Rate * float64(time.Second)))
			if time.Until(due) > rateSlack {
				if err := idleUntil(ctx, due); err != nil {
					return err
				}
			}
		}
		rec, err := s.cfg.Gen(i)
		if err != nil {
			return fmt.Errorf("generator event %d: %w", i, err)
		}
		if err := ctx.Emit(rec); err != nil {
			return err
		}
		s.next.Store(i + step)
	}
	return nil
}
