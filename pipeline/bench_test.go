package pipeline

import (
	"os"
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// BenchmarkParse loads the motion alarm of the golden suite (validation, types, states and
// the JavaScript compilation).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/validate/motion_alarm.txtar")
	if err != nil {
		b.Fatal(err)
	}
	src, _ := testkit.ParseArchive(data).File("pipeline.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("pipeline.yaml", []byte(src), LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
