// Package progress draws a one-line progress indicator on a terminal for long savepoints,
// restores and migrations (docs/operations.md, Metrics).
//
// A Bar stays silent unless its writer is a terminal and the work has lasted longer than a
// delay (one second by default), so quick operations and redirected output print nothing.
// Add is an atomic add, cheap enough to call per state entry; a ticker-driven goroutine
// redraws the line a few times a second.
package progress
