// Package testkit holds what the tests of every package need: golden files refreshed by one
// -update flag (Golden), a polling wait with a deadline instead of sleeps (Eventually, Poll),
// a reader and writer of txtar archives (Archive), and WriteFile for a test's input files. It is imported by _test.go files only.
package testkit
