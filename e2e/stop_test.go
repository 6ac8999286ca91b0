package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

// rooms is the number of keys of the counter pipeline's readings.
const rooms = 7

// reading is the id-th input record of the counter pipeline.
func reading(id int) string { return fmt.Sprintf(`{"id":%d,"room":%d}`, id, id%rooms) }

// readings are the records from, from+1, … to (excluded), one a line.
func readings(from, to int) string {
	var b strings.Builder
	for id := from; id < to; id++ {
		b.WriteString(reading(id) + "\n")
	}
	return b.String()
}

// appender appends readings to a file in small batches until stopped, as a live producer.
type appender struct {
	mu   sync.Mutex
	next int
	stop chan struct{}
	done chan struct{}
}

// startAppender appends readings from id `from` on to path, a batch of 10 every 2 ms.
func startAppender(t *testing.T, path string, from int) *appender {
	a := &appender{next: from, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-a.stop:
				return
			case <-tick.C:
			}
			a.mu.Lock()
			batch := readings(a.next, a.next+10)
			a.next += 10
			a.mu.Unlock()
			if _, err := f.WriteString(batch); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	t.Cleanup(func() { a.halt() })
	return a
}

// written is the number of records in the file so far (ids 0 … written-1).
func (a *appender) written() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.next
}

// halt stops appending and returns the number of records in the file.
func (a *appender) halt() int {
	select {
	case <-a.stop:
	default:
		close(a.stop)
	}
	<-a.done
	return a.written()
}

// counted is one output record of the counter pipeline.
type counted struct{ ID, Room, N int }

// checkCounted checks that out holds the output of readings 0 … n-1 exactly once each, with
// each room's counts 1, 2, 3, … in order.
func checkCounted(t *testing.T, what, out string, n int) {
	t.Helper()
	seen := make([]bool, n)
	lastN := map[int]int{}
	for i, line := range nonEmptyLines(out) {
		var c counted
		if err := json.Unmarshal([]byte(line), &c); err != nil {
			t.Fatalf("%s line %d %q: %v", what, i+1, line, err)
		}
		switch {
		case c.ID < 0 || c.ID >= n:
			t.Fatalf("%s line %d: id %d was not covered (want ids 0…%d)", what, i+1, c.ID, n-1)
		case seen[c.ID]:
			t.Fatalf("%s line %d: id %d written twice", what, i+1, c.ID)
		case c.N != lastN[c.Room]+1:
			t.Fatalf("%s line %d: room %d count %d after %d", what, i+1, c.Room, c.N, lastN[c.Room])
		}
		seen[c.ID] = true
		lastN[c.Room] = c.N
	}
	for id, ok := range seen {
		if !ok {
			t.Fatalf("%s: id %d is missing (of %d)", what, id, n)
		}
	}
}

// counterState is the expected `dump` of per-room after readings 0 … n-1.
func counterState(n int) string {
	var lines []string
	for room := 0; room < rooms && room < n; room++ {
		count := (n-1-room)/rooms + 1
		last := room + (count-1)*rooms
		lines = append(lines, fmt.Sprintf(`{"key":%d,"value":{"n":%d,"last":%d}}`, room, count, last))
	}
	return sortedLines(strings.Join(lines, "\n"))
}

// recordsBefore is the number of lines in the first off bytes of the file, which must end
// at a line boundary.
func recordsBefore(t *testing.T, content string, off int64) int {
	t.Helper()
	if off <= 0 || off > int64(len(content)) || content[off-1] != '\n' {
		t.Fatalf("source offset %d is not at a line end of the %d-byte input", off, len(content))
	}
	return strings.Count(content[:off], "\n")
}

// TestStopWithSavepointThenRescale stops a job with a savepoint while a producer appends
// records to its follow source, then restores it with parallelism 1, 2 and 3: nothing is
// written after the savepoint, and every restore continues exactly after the last record the
// savepoint covers, with identical state and identical sink contents.
func TestStopWithSavepointThenRescale(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	input := h.write("readings.jsonl", readings(0, 200))
	h.pipeline("counter.yaml", "follow.yaml", map[string]string{"FOLLOW": "true", "SOURCE": "readings.jsonl"})
	id := h.detach("run", "-d", "follow.yaml")

	app := startAppender(t, input, 200)
	testkit.Eventually(t, 20*time.Second, "1000 more records appended", func() bool { return app.written() >= 1200 })
	sp := h.savepointPath(h.mustRun(0, "stop", id))
	atStop := h.read("out.jsonl")
	if st := h.waitEnded(id); st != "STOPPED" {
		t.Errorf("status after stop: %q, want STOPPED", st)
	}
	// The producer goes on after the job is gone: those records are for the restore.
	app.halt()
	total := len(nonEmptyLines(h.read("readings.jsonl")))
	if after := h.read("out.jsonl"); after != atStop {
		t.Fatalf("the sink grew from %d to %d bytes after `stop` returned", len(atStop), len(after))
	}

	covered := recordsBefore(t, h.read("readings.jsonl"), h.offset(sp, "readings", "readings.jsonl"))
	checkCounted(t, "sink at stop", atStop, covered)
	if got, want := h.dump(sp, "per-room"), counterState(covered); got != want {
		t.Errorf("state in the stop savepoint:\n%swant (the %d covered records):\n%s", got, covered, want)
	}
	t.Logf("the stop savepoint covers %d of %d records", covered, total)

	var outs, states []string
	for par := 1; par <= 3; par++ {
		dir := fmt.Sprintf("p%d", par)
		h.write(filepath.Join(dir, "out.jsonl"), atStop)
		pipeline := h.pipeline("counter.yaml", filepath.Join(dir, "bounded.yaml"), map[string]string{
			"SOURCE": input, "PAR": fmt.Sprint(par)})
		res := h.mustRun(0, "run", pipeline, "--from-savepoint", sp, "--final-savepoint")
		out := h.read(filepath.Join(dir, "out.jsonl"))
		checkCounted(t, fmt.Sprintf("sink restored with parallelism %d", par), out, total)
		outs = append(outs, sortedLines(out))
		states = append(states, h.dump(finalSavepoint(t, res.stderr), "per-room"))
	}
	for i := 1; i < len(outs); i++ {
		if outs[i] != outs[0] {
			t.Errorf("sink contents differ between parallelism 1 and %d", i+1)
		}
		if states[i] != states[0] {
			t.Errorf("state differs between parallelism 1 and %d:\n%s\nvs\n%s", i+1, states[0], states[i])
		}
	}
	if want := counterState(total); states[0] != want {
		t.Errorf("final state:\n%swant:\n%s", states[0], want)
	}
}
