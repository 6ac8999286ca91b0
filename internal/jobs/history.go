package jobs

import "time"

// HistoryLen is how many checkpoints, and how many savepoints, job.json keeps.
const HistoryLen = 10

// Snapshot is one checkpoint or savepoint the job took, as job.json remembers it.
type Snapshot struct {
	Path       string    `json:"path"`
	Time       time.Time `json:"time"`
	Bytes      int64     `json:"bytes"`
	DurationMs int64     `json:"duration_ms"`
	// Trigger is a savepoint's trigger: manual, stop or final (empty for checkpoints).
	Trigger string `json:"trigger,omitempty"`
}

// RecordCheckpoint appends a checkpoint to the job's history in job.json, keeping the
// latest HistoryLen.
func (j *Job) RecordCheckpoint(s Snapshot) error {
	return j.Update(func(info *Info) { info.Checkpoints = appendLatest(info.Checkpoints, s) })
}

// RecordSavepoint appends a savepoint to the job's history in job.json, keeping the latest
// HistoryLen.
func (j *Job) RecordSavepoint(s Snapshot) error {
	return j.Update(func(info *Info) { info.Savepoints = appendLatest(info.Savepoints, s) })
}

// appendLatest appends s to list and keeps the last HistoryLen entries, in a new slice (the
// old one may still be shared with a copy of the Info).
func appendLatest(list []Snapshot, s Snapshot) []Snapshot {
	out := make([]Snapshot, 0, HistoryLen)
	if len(list) >= HistoryLen {
		list = list[len(list)-HistoryLen+1:]
	}
	out = append(out, list...)
	return append(out, s)
}
