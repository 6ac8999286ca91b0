package runtime

import (
	"testing"
	"time"

	"github.com/pipectl/pipectl/pipeline"
)

// A subtask flushes within the pipeline's buffer_timeout, or a sink's own when it is shorter.
func TestFlushDeadline(t *testing.T) {
	sink := func(d time.Duration) *pipeline.Node {
		return &pipeline.Node{Role: pipeline.RoleSink, BufferTimeout: d}
	}
	op := &pipeline.Node{Role: pipeline.RoleOperator}
	for _, c := range []struct {
		name     string
		pipeline time.Duration
		nodes    []*pipeline.Node
		want     int64
	}{
		{"default", 0, []*pipeline.Node{op}, 100},
		{"the pipeline's", 250 * time.Millisecond, []*pipeline.Node{op, sink(0)}, 250},
		{"a sink's shorter one", 250 * time.Millisecond, []*pipeline.Node{op, sink(20 * time.Millisecond)}, 20},
		{"a sink's longer one does not delay the others", 50 * time.Millisecond, []*pipeline.Node{op, sink(time.Second)}, 50},
		{"the shortest of two sinks", 0, []*pipeline.Node{op, sink(300 * time.Millisecond), sink(30 * time.Millisecond)}, 30},
	} {
		t.Run(c.name, func(t *testing.T) {
			j := &Job{p: &pipeline.Pipeline{BufferTimeout: c.pipeline}}
			if got := j.flushDeadline(&group{nodes: c.nodes}).every; got != c.want {
				t.Errorf("flushes every %d ms, want %d", got, c.want)
			}
		})
	}
}
