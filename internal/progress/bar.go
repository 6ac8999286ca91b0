package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of a Bar.
const (
	// DefaultDelay is how long work runs before its bar appears.
	DefaultDelay = time.Second
	// redrawInterval is the period of the redraw ticker.
	redrawInterval = 200 * time.Millisecond
	// barWidth is the number of cells of the bar itself.
	barWidth = 24
)

// config is what Options set.
type config struct {
	terminal *bool // nil: IsTerminal(w)
	delay    time.Duration
	now      func() time.Time
	// ticks drives redraws with the time of each tick (nil: a ticker of redrawInterval);
	// stopTicks releases it.
	ticks     <-chan time.Time
	stopTicks func()
}

// Option tunes a Bar.
type Option func(*config)

// WithTerminal overrides terminal detection: true draws on any writer, false never draws.
func WithTerminal(isTerminal bool) Option {
	return func(c *config) { c.terminal = &isTerminal }
}

// WithDelay sets how long the work runs before the bar appears (default DefaultDelay).
func WithDelay(d time.Duration) Option {
	return func(c *config) { c.delay = d }
}

// Bar is a progress indicator for one operation. Add and SetTotal may be called from any
// goroutine; Done ends it. Write errors are ignored: progress is best effort.
type Bar struct {
	w     io.Writer
	label string
	cfg   config
	start time.Time
	n     atomic.Int64
	total atomic.Int64

	stop     chan struct{} // nil when the bar never draws
	exited   chan struct{} // closed when the redraw loop has returned
	drawn    bool          // owned by the redraw loop, then by Done
	doneOnce sync.Once
}

// New starts a bar labelled label for total units of work (total <= 0: unknown, the bar
// shows only the count). It draws on w only when w is a terminal, and only once the work has
// lasted longer than the delay. Call Done when the work ends.
func New(w io.Writer, label string, total int64, opts ...Option) *Bar {
	cfg := config{delay: DefaultDelay, now: time.Now}
	for _, o := range opts {
		o(&cfg)
	}
	b := &Bar{w: w, label: label, cfg: cfg, start: cfg.now()}
	b.total.Store(total)
	if cfg.terminal == nil && !IsTerminal(w) || cfg.terminal != nil && !*cfg.terminal {
		return b
	}
	if b.cfg.ticks == nil {
		t := time.NewTicker(redrawInterval)
		b.cfg.ticks, b.cfg.stopTicks = t.C, t.Stop
	}
	b.stop, b.exited = make(chan struct{}), make(chan struct{})
	go b.loop()
	return b
}

// Add counts n more units of work done.
func (b *Bar) Add(n int64) { b.n.Add(n) }

// SetTotal changes the amount of work, for operations that learn it late.
func (b *Bar) SetTotal(total int64) { b.total.Store(total) }

// Done ends the bar: a bar that was drawn is redrawn with the final count and its line
// ended; one that was not prints nothing. Done waits for the redraw loop; calls after the
// first do nothing.
func (b *Bar) Done() {
	b.doneOnce.Do(func() {
		if b.stop == nil {
			return
		}
		close(b.stop)
		<-b.exited
		if b.drawn {
			io.WriteString(b.w, b.line(b.cfg.now())+"\n")
		}
	})
}

// loop redraws the line on every tick once the delay has passed, until Done.
func (b *Bar) loop() {
	defer close(b.exited)
	if b.cfg.stopTicks != nil {
		defer b.cfg.stopTicks()
	}
	for {
		select {
		case <-b.stop:
			return
		case now := <-b.cfg.ticks:
			if now.Sub(b.start) > b.cfg.delay {
				io.WriteString(b.w, b.line(now))
				b.drawn = true
			}
		}
	}
}

// line renders the state at now: a carriage return, the label, the bar and percentage when
// the total is known, the count, the elapsed time, and an erase to the end of line.
func (b *Bar) line(now time.Time) string {
	n, total := b.n.Load(), b.total.Load()
	elapsed := now.Sub(b.start).Truncate(time.Second)
	var s strings.Builder
	s.WriteString("\r" + b.label + " ")
	if total > 0 {
		done := min(n, total)
		cells := int(done * barWidth / total)
		fmt.Fprintf(&s, "[%s%s] %3d%% %d/%d", strings.Repeat("#", cells),
			strings.Repeat("-", barWidth-cells), done*100/total, n, total)
	} else {
		fmt.Fprintf(&s, "%d", n)
	}
	fmt.Fprintf(&s, " %s\x1b[K", elapsed)
	return s.String()
}
