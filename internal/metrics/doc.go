// Package metrics serves a running job's observability endpoints (docs/operations.md, Metrics): Prometheus
// metrics on GET /metrics and the job's JSON status on GET /job.
//
// Every metric is read from the Source at scrape time by one collector, so the record path
// does no metrics work: the runtime keeps its own atomic counters and the collector turns a
// Status snapshot into samples. The server uses its own registry, never the global one, so
// several servers (tests, one per job) can live in one process.
package metrics
