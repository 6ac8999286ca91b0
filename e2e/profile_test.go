package e2e

import (
	"bytes"
	"os"
	"testing"
)

// TestProfileEnvironment: PIPECTL_CPUPROFILE and PIPECTL_HEAPPROFILE make the real binary
// write pprof profiles (gzip-compressed protocol buffers) of a job, for docs/PERFORMANCE.md.
func TestProfileEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.write("p.yaml", `name: profiled
sources:
  - uid: numbers
    kind: generator
    fn: "i => ({n: i})"
    count: 3000
    rate: 1000
    schema: {n: int}
sinks:
  - {uid: out, kind: stdout, input: numbers}
`)
	cpu, heap := h.path("cpu.pb.gz"), h.path("heap.pb.gz")
	h.must(0, h.runEnv([]string{"PIPECTL_CPUPROFILE=" + cpu, "PIPECTL_HEAPPROFILE=" + heap}, "run", "p.yaml"))
	for _, path := range []string{cpu, heap} {
		b, err := os.ReadFile(path)
		if err != nil || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
			t.Errorf("%s: %v, %d bytes; want a gzip-compressed profile", path, err, len(b))
		}
	}
}
