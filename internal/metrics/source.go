package metrics

import "github.com/pipectl/pipectl/runtime"

// Source is what the server reads at scrape time; *runtime.Job satisfies it. Both methods
// must be safe to call concurrently with the running job.
type Source interface {
	// Status returns the job's identity and counters.
	Status() runtime.Status
	// StateEntries counts the entries of every keyed state.
	StateEntries() []runtime.StateCount
}

// The CLI serves a *runtime.Job.
var _ Source = (*runtime.Job)(nil)
