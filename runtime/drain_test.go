package runtime

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestStopWithDrain: `stop --drain` advances the watermark to the end of time before the
// savepoint, so every open window and event-time timer fires and the job ends with what a
// bounded run of the same input emits; a plain stop leaves them open (in the savepoint).
func TestStopWithDrain(t *testing.T) {
	var events []string
	for i := 0; i < 30; i++ {
		events = append(events, fmt.Sprintf(`{"room":%q,"time":%d}`, []string{"a", "b"}[i%2], i*1000))
	}
	whole := t.TempDir()
	writeData(t, whole, "1.jsonl", events...)
	bounded := startRun(t, whole, restorePipeline(2, false), jobSpec{}).sortedOutput()

	for _, tc := range []struct {
		drain bool
		want  func(got []string) bool
	}{
		{true, func(got []string) bool { return slices.Equal(got, bounded) }},
		{false, func(got []string) bool { return len(got) > 0 && len(got) < len(bounded) }},
	} {
		t.Run(fmt.Sprintf("drain=%t", tc.drain), func(t *testing.T) {
			dir := t.TempDir()
			writeData(t, dir, "1.jsonl", events...)
			r := startRun(t, dir, restorePipeline(2, true), jobSpec{})
			testkit.Eventually(t, jobDeadline, "the input to be read", func() bool { return r.recordsIn("counts") == int64(len(events)) })
			sp, err := r.job.StopWithSavepoint(t.TempDir(), tc.drain)
			if err != nil {
				t.Fatalf("stop with savepoint: %v", err)
			}
			got := r.sortedOutput()
			if !tc.want(got) {
				t.Errorf("stop (drain=%t) emitted\n%s\na bounded run emits\n%s", tc.drain, strings.Join(got, "\n"), strings.Join(bounded, "\n"))
			}
			if sp.Path == "" {
				t.Error("no savepoint path")
			}
		})
	}
}
