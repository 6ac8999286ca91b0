package pipeline

import (
	"os"
	"testing"
)

// BenchmarkParse loads the motion alarm of the golden suite (validation, types, states and
// the JavaScript compilation).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/validate/motion_alarm.txtar")
	if err != nil {
		b.Fatal(err)
	}
	src, _ := parseArchive(string(data)).file("pipeline.yaml")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("pipeline.yaml", []byte(src), LoadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
