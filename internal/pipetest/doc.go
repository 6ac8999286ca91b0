// Package pipetest runs pipeline test files (`pipectl test`): each test feeds listed records
// to a pipeline and compares what its sinks receive, and optionally the final keyed state,
// with what the test expects.
//
// A test runs the real runtime (same operators, same JavaScript, same state semantics) at
// parallelism 1 on the memory backend, with every source replaced by a feed of the listed
// records and every sink by a capture: no file is read and nothing connects. Processing
// time is a fake clock that starts at the test's `now:` and moves only with `advance:` steps.
//
// Input order. The input is one sequence of steps: with `input:` as a mapping (source uid →
// entries), the steps are the entries in the order they are written in the file, source
// after source; with `input:` as a sequence of single-key mappings (`- sensor-events: {…}`,
// `- advance: 5s`), the steps interleave sources in the order written. After every step the
// runner waits until the whole job has processed it (a barrier that snapshots nothing goes
// through the job, and the processing-time timers due by then fire before it), so the
// outcome does not depend on goroutine scheduling. A source emits its watermark after each
// of its records; at the end of input every source ends, the watermark reaches the end of
// time, and windows and event-time timers fire.
//
// Files: file.go reads a test file (positions, unknown keys); bind.go checks its records and
// values against the pipeline's types; run.go runs one test; compare.go judges it;
// report.go prints text and JUnit XML; suite.go finds files and runs them all.
package pipetest
