// Package compat is pipectl's compatibility checker (docs/compat-rules.md): it compares the state of an old
// side — a savepoint's metadata, a running job's pipeline, or an old pipeline file turned into
// metadata by Describe — with the state descriptors of a new pipeline, and gives one Result per
// uid and state: a verdict, the stable rule id that decided it (both from the catalog in
// schema/rules.go), a reason naming the path, both types and the fix, and the position in the
// new file of the declaration that decides it.
//
// The evolution of one type into another is schema.Evolve's job; this package adds what only
// operators know: uids and the `previous_uids` that take over renamed ones (the same decision
// as a restore's, pipeline.TakeOver), operator kinds, key types, dropped and new states,
// `migrate` functions, `migrate_from`, the offsets and committed state of sources and sinks
// (sources.go), max_parallelism and --allow-non-restored-state. A Report is written as text,
// JSON or GitHub annotations.
//
// Every case of testdata/*.txtar is one old.yaml, one new.yaml (and optional flags) with the
// expected reports; `go test ./compat -rewrite` (or `-update`) regenerates them.
package compat
