// Package pipeline is the YAML model of a pipeline: loading (yaml.Node positions, ${ENV}),
// validation with positioned diagnostics, the DAG, type inference along the edges, and each
// operator's state descriptors (including the internal state of each kind).
//
// Load runs these phases, collecting every finding rather than stopping at the first:
//
//  1. YAML syntax (yaml.v3): a syntax error is the one finding, with its line, a column and
//     the usual cause explained (a JS function with ": " that must be a block scalar, a type
//     split by a one-line {...}, a tab).
//  2. ${VAR} and ${VAR:-default} in scalar values, except JavaScript fields; a plain scalar
//     is read again as YAML, so a number stays a number.
//  3. Keys and values of the top level and of each source, operator and sink, per kind
//     (kinds.go declares the operator kinds, the connectors register theirs, spec.go lists
//     the keys common to a role); unknown keys with the closest known key as a suggestion.
//  4. The graph: inputs exist, cycles (reported before any type checking), streams nobody
//     reads, the topological Order.
//  5. Types along the edges in Order, key selectors and fields, and the state descriptors.
//  6. One compilation of all JavaScript (script.Compile), its syntax errors positioned in
//     the pipeline file.
//
// Decisions where docs/pipelines.md is silent:
//
//   - aggregate (and a window's `aggregate:`): with `result:` the output type must be
//     declared (`output:`); without it the output is the accumulator, and an `output:` if
//     written must equal it. A window with `reduce:` outputs its input type.
//   - a window takes exactly one of fn, reduce and aggregate; the accumulator of a window
//     aggregate is `aggregate.accumulator`, and Node.Accumulator tells the runtime which
//     form a window has (see Node.Accumulator, Node.WindowReduce).
//   - process, window, window_all, window_join and co_group keep an internal state
//     `timers` of schema TimersType: {event: list<int>, processing: list<int>}.
//   - a window's inputs must all carry event time (a source with `timestamp:` upstream) or
//     none; Window.ProcessingTime says which.
//   - a late_output stream is read with `input: NAME`; Pipeline.Stream resolves it to its
//     window. A late_output that nothing reads is a warning (late records are dropped).
//   - key_by paths and `field:` cannot go through an optional; a key may not be optional.
package pipeline
