package jobs

import (
	"fmt"
	"testing"
	"time"
)

func TestSnapshotHistory(t *testing.T) {
	home := t.TempDir()
	j, err := Create(home, Info{ID: NewID(), Name: "p"}, []byte("name: p\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range 13 {
		s := Snapshot{Path: fmt.Sprintf("/cp/%d", i), Time: t0.Add(time.Duration(i) * time.Second), Bytes: int64(i), DurationMs: 5}
		if err := j.RecordCheckpoint(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.RecordSavepoint(Snapshot{Path: "/sp/1", Time: t0, Trigger: "manual"}); err != nil {
		t.Fatal(err)
	}
	info, err := readInfo(j.Paths().Info)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name        string
		list        []Snapshot
		n           int
		first, last string
	}{
		{"checkpoints", info.Checkpoints, HistoryLen, "/cp/3", "/cp/12"},
		{"savepoints", info.Savepoints, 1, "/sp/1", "/sp/1"},
	} {
		if len(tc.list) != tc.n || tc.list[0].Path != tc.first || tc.list[len(tc.list)-1].Path != tc.last {
			t.Errorf("%s in job.json: %+v, want %d from %s to %s", tc.name, tc.list, tc.n, tc.first, tc.last)
		}
	}
	if !info.Checkpoints[9].Time.Equal(t0.Add(12*time.Second)) || info.Checkpoints[9].Bytes != 12 {
		t.Errorf("last checkpoint lost its time or size: %+v", info.Checkpoints[9])
	}
}
