package connectors

import (
	"fmt"
	"strings"
	"testing"
)

// Every retried broker error is counted, but a burst is logged as one line a second, which
// says how many were left out.
func TestKafkaErrorsLogged(t *testing.T) {
	var lines []string
	e := &kafkaErrors{logf: func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }}
	for i := 0; i < 50; i++ {
		e.add("kafka: connect to broker %s: refused (retrying)", "127.0.0.1:1")
	}
	if e.n.Load() != 50 {
		t.Errorf("counted %d errors, want 50", e.n.Load())
	}
	if len(lines) != 1 {
		t.Fatalf("a burst of 50 errors logged %d lines, want 1: %q", len(lines), lines)
	}
	e.logged = e.logged.Add(-kafkaErrorLogEvery) // a second later
	e.add("kafka: connect to broker %s: refused (retrying)", "127.0.0.1:1")
	if len(lines) != 2 || !strings.HasSuffix(lines[1], "(retrying) (and 49 more since the last one logged)") {
		t.Fatalf("lines %q: want a second line counting the 49 left out", lines)
	}
}
