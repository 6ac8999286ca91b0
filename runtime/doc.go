// Package runtime executes a validated pipeline: it plans the job graph into subtasks, chains
// forward edges into one goroutine, routes keyed edges by key group in batches over bounded
// channels, runs each operator kind, and takes consistent snapshots (savepoints and
// checkpoints) with aligned barriers.
//
// The shape of a running job:
//
//	source subtask ──chain──▶ map ──chain──▶ filter ──▶ exchange ═══▶ inbox ──▶ keyed op ──▶ …
//	  (goroutine)                                    (batches by key group)   (goroutine)
//
// A group is a head node (a source, or a node whose input crosses a channel) plus every node
// chained behind it (one input, not keyed, same parallelism). Each group runs as
// `parallelism` goroutines. A goroutine flushes its partly filled batches whenever its inbox
// is empty, so a slow stream flows at once and a fast one moves in full batches; bounded
// channels give backpressure all the way to the sources.
//
// Barriers: the coordinator injects a barrier into every live source; a subtask with several
// senders aligns (holds back the senders that delivered the barrier until all have), then
// every node instance in its chain snapshots its part (source offsets, its key groups of each
// keyed state, a sink's committed length) and forwards the barrier. When every instance has
// acknowledged, the coordinator writes the savepoint while the job runs on.
package runtime
