package progress

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// recorder is a writer that keeps what the bar wrote and wakes a waiting test per write.
type recorder struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	wrote  chan struct{} // capacity 1: "a write happened since you last looked"
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.writes++
	select {
	case r.wrote <- struct{}{}:
	default:
	}
	return r.buf.Write(p)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.buf.String()
}

// waitWrites waits, up to a deadline, until the bar has written n times.
func (r *recorder) waitWrites(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		r.mu.Lock()
		got := r.writes
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-r.wrote:
		case <-deadline:
			t.Fatalf("the bar wrote %d times, want %d", got, n)
		}
	}
}

// harness is a bar on a recorder, with a fake clock and ticks the test sends.
type harness struct {
	bar     *Bar
	out     *recorder
	clock   *fakeClock
	ticks   chan time.Time
	delay   time.Duration
	elapsed time.Duration
	draws   int
}

func newHarness(total int64, delay time.Duration) *harness {
	h := &harness{out: &recorder{wrote: make(chan struct{}, 1)},
		clock: &fakeClock{now: time.Unix(1700000000, 0)}, ticks: make(chan time.Time), delay: delay}
	h.bar = New(h.out, "restoring", total, WithTerminal(true), WithDelay(delay),
		func(c *config) { c.now, c.ticks = h.clock.Now, h.ticks })
	return h
}

// tick advances the clock by d, hands the redraw loop one tick and, when the delay has
// passed, waits for the redraw.
func (h *harness) tick(t *testing.T, d time.Duration) {
	t.Helper()
	h.clock.advance(d)
	h.elapsed += d
	h.ticks <- h.clock.Now()
	if h.elapsed > h.delay {
		h.draws++
		h.out.waitWrites(t, h.draws)
	}
}

func TestBar(t *testing.T) {
	type step struct {
		add   int64
		total int64 // SetTotal when non-zero
		tick  time.Duration
	}
	for _, tc := range []struct {
		name  string
		total int64
		delay time.Duration // 0: DefaultDelay
		steps []step
		want  string
	}{
		{
			name: "quick work prints nothing", total: 10,
			steps: []step{{add: 5, tick: 500 * time.Millisecond}, {add: 5, tick: 400 * time.Millisecond}},
			want:  "",
		},
		{
			name: "long work draws after the delay and finishes the line", total: 1000,
			steps: []step{
				{add: 100, tick: 900 * time.Millisecond},
				{add: 350, tick: 600 * time.Millisecond},
				{add: 550, tick: 2 * time.Second},
			},
			want: "\rrestoring [##########--------------]  45% 450/1000 1s\x1b[K" +
				"\rrestoring [########################] 100% 1000/1000 3s\x1b[K" +
				"\rrestoring [########################] 100% 1000/1000 3s\x1b[K\n",
		},
		{
			name: "unknown total shows the count", total: 0,
			steps: []step{{add: 7, tick: 1500 * time.Millisecond}},
			want:  "\rrestoring 7 1s\x1b[K\rrestoring 7 1s\x1b[K\n",
		},
		{
			name: "a total learnt late", total: 0,
			steps: []step{{add: 3, total: 4, tick: 2 * time.Second}},
			want: "\rrestoring [##################------]  75% 3/4 2s\x1b[K" +
				"\rrestoring [##################------]  75% 3/4 2s\x1b[K\n",
		},
		{
			name: "more than the total is clamped", total: 2,
			steps: []step{{add: 3, tick: 2 * time.Second}},
			want: "\rrestoring [########################] 100% 3/2 2s\x1b[K" +
				"\rrestoring [########################] 100% 3/2 2s\x1b[K\n",
		},
		{
			name: "a shorter delay", total: 4, delay: 100 * time.Millisecond,
			steps: []step{{add: 1, tick: 200 * time.Millisecond}},
			want: "\rrestoring [######------------------]  25% 1/4 0s\x1b[K" +
				"\rrestoring [######------------------]  25% 1/4 0s\x1b[K\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			delay := tc.delay
			if delay == 0 {
				delay = DefaultDelay
			}
			h := newHarness(tc.total, delay)
			for _, s := range tc.steps {
				h.bar.Add(s.add)
				if s.total != 0 {
					h.bar.SetTotal(s.total)
				}
				h.tick(t, s.tick)
			}
			h.bar.Done()
			if got := h.out.String(); got != tc.want {
				t.Errorf("output\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestBarNotATerminal(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []Option
	}{
		{"detected", nil},
		{"forced off", []Option{WithTerminal(false)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			b := New(&out, "saving", 10, append(tc.opts, WithDelay(0))...)
			if b.stop != nil {
				t.Error("a bar that cannot draw started a redraw loop")
			}
			b.Add(10)
			b.Done()
			if out.Len() != 0 {
				t.Errorf("wrote %q to a non-terminal", out.String())
			}
		})
	}
}

func TestDoneTwiceAndAddAfterDone(t *testing.T) {
	h := newHarness(2, DefaultDelay)
	h.bar.Add(1)
	h.tick(t, 2*time.Second)
	h.bar.Done()
	first := h.out.String()
	h.bar.Add(1)
	h.bar.Done()
	if got := h.out.String(); got != first || first == "" {
		t.Errorf("second Done changed the output: %q then %q", first, got)
	}
}

func TestAddConcurrent(t *testing.T) {
	b := New(io.Discard, "migrating", 0, WithTerminal(false))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				b.Add(1)
			}
		})
	}
	wg.Wait()
	b.Done()
	if got := b.n.Load(); got != 8000 {
		t.Errorf("count %d, want 8000", got)
	}
}

func BenchmarkAdd(b *testing.B) {
	h := newHarness(int64(b.N), DefaultDelay)
	b.ReportAllocs()
	for b.Loop() {
		h.bar.Add(1)
	}
	h.bar.Done()
}

func BenchmarkAddParallel(b *testing.B) {
	h := newHarness(int64(b.N), DefaultDelay)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			h.bar.Add(1)
		}
	})
	h.bar.Done()
}

func TestBarRealTicker(t *testing.T) {
	out := &recorder{wrote: make(chan struct{}, 1)}
	b := New(out, "saving", 3, WithTerminal(true), WithDelay(0))
	b.Add(3)
	out.waitWrites(t, 1)
	b.Done()
	if got := out.String(); !strings.HasPrefix(got, "\rsaving [########################] 100% 3/3 0s\x1b[K") ||
		!strings.HasSuffix(got, "\n") {
		t.Errorf("output %q", got)
	}
}
