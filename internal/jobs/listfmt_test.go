package jobs

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
)

func TestWriteList(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 5, 7, 0, time.FixedZone("CET", 3600))
	infos := []Info{
		{ID: "0123456789abcdef0123456789abcdef", Name: "motion-alarm", Pipeline: "/home/u/motion-alarm.yaml", PID: 4242,
			Status: StatusRunning, Started: t0, StateDir: "/home/u/.pipectl/state/motion-alarm"},
		{ID: "fedcba9876543210fedcba9876543210", Name: "word count", Pipeline: "/srv/wc.yaml", PID: 77,
			Status: StatusStopped, Started: t0.Add(25 * time.Hour), Finished: t0.Add(26 * time.Hour), Savepoint: "/sp/savepoint-fedcba-0123456789ab"},
	}
	tests := []struct {
		golden string
		infos  []Info
		json   bool
	}{
		{"list.txt", infos, false},
		{"list.json", infos, true},
		{"list-empty.txt", nil, false},
		{"list-empty.json", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := writeList(&buf, tt.infos, tt.json, time.UTC); err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, filepath.Join("testdata", tt.golden), buf.Bytes())
		})
	}
}
