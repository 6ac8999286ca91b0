// Package jobs is pipectl's job bookkeeping and control plane. There is no
// daemon: every job is a process, and everything the CLI knows about it lives
// in files under the pipectl home ($PIPECTL_HOME, default ~/.pipectl):
//
//	$PIPECTL_HOME/
//	└── jobs/<id>/            mode 0700, one per job, id = 32 lowercase hex
//	    ├── job.json          Info, rewritten atomically (temp file + rename)
//	    ├── pipeline.yaml     the pipeline the job runs, params applied
//	    ├── env.json          (0600) the variables its ${…} read, and their values
//	    ├── lock              flock(LOCK_EX) held by the job process for its life
//	    ├── control.sock      unix socket (0600) serving control Requests
//	    ├── job.log           log of a detached job (its stderr)
//	    └── stdout.jsonl      stdout-sink records of a detached job
//
// Invariants:
//
//   - The lock is the only liveness signal. A job is alive exactly while
//     some process holds the flock on its lock file; the kernel drops it when
//     the process dies, however it dies, so PIDs (which are reused) are
//     never trusted.
//   - Create takes the lock before job.json exists, and a job writes its
//     final status before it releases the lock. So anyone who acquires the
//     lock of a job whose job.json exists knows the job's process is gone,
//     and a status still RUNNING at that point means the job died: List and
//     Find then record it as FAILED.
//   - A state directory is claimed the same way (package statedir), with a
//     flock on <state dir>/.lock whose content names the holding job.
//
// The control protocol is one JSON Request and one JSON Response per
// connection, each a single line. A job that dies while a caller waits closes
// the connection (the kernel does), so Call fails at once with
// ErrJobExited instead of hanging.
package jobs
