// Package statedir owns a job's state directory: who may use it (one live job at a time, a
// flock on <dir>/.lock naming the holder, handed from a stopping job to its successor by
// ClaimAfter), where a run starts from (an explicit savepoint, the latest checkpoint, or
// empty state; Resolve), and its layout:
//
//	<state dir>/
//	├── .lock             flock held by the live job; holds its job id
//	├── checkpoints/      the job's periodic checkpoints (only the latest is kept)
//	└── db-<job id>/      each job's live database, removed when no process holds it
//
// The CLI asks this package and stays thin; the runtime reads and writes the checkpoints.
package statedir
