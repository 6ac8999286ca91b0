package savepoints

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// inspectJSON is the shape of `pipectl inspect --output json` (docs/operations.md).
type inspectJSON struct {
	ID             string            `json:"id"`
	JobID          string            `json:"job_id"`
	Pipeline       string            `json:"pipeline"`
	Created        time.Time         `json:"created"`
	Trigger        string            `json:"trigger"`
	FormatVersion  int               `json:"format_version"`
	MaxParallelism int               `json:"max_parallelism"`
	Operators      []inspectOperator `json:"operators"`
}

type inspectOperator struct {
	UID         string           `json:"uid"`
	Kind        string           `json:"kind"`
	Parallelism int              `json:"parallelism"`
	Offsets     map[string]int64 `json:"offsets"`
	States      []inspectState   `json:"states"`
}

type inspectState struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Schema  string `json:"schema"`
	KeyType string `json:"key_type"`
	Entries int64  `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

// WriteInspectJSON writes what the savepoint holds as the JSON of `pipectl inspect --output
// json`: every uid (sources with their offsets) with its states. offsets is always an object
// and states always an array.
func (s *Savepoint) WriteInspectJSON(w io.Writer) error {
	m := s.Meta
	out := inspectJSON{
		ID: m.ID, JobID: m.JobID, Pipeline: m.Pipeline, Created: m.Created, Trigger: m.Trigger,
		FormatVersion: m.FormatVersion, MaxParallelism: m.MaxParallelism,
		Operators: make([]inspectOperator, len(m.Operators)),
	}
	for i, op := range m.Operators {
		o := inspectOperator{UID: op.UID, Kind: op.Kind, Parallelism: op.Parallelism,
			Offsets: op.Positions(), States: make([]inspectState, len(op.States))}
		for j, st := range op.States {
			o.States[j] = inspectState{Name: st.Name, Kind: st.Kind, Schema: st.Schema,
				KeyType: op.stateKeyType(&st), Entries: st.Entries, Bytes: st.Bytes}
		}
		out.Operators[i] = o
	}
	b, err := encodeJSON(&out, true)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", m.ID, err)
	}
	_, err = w.Write(b)
	return err
}

// stateKeyType is the key type of a state: its own, else its operator's.
func (op *OperatorMeta) stateKeyType(st *StateMeta) string {
	if st.KeyType != "" {
		return st.KeyType
	}
	return op.KeyType
}

// WriteInspectTable writes what the savepoint holds for humans: a header (id, job,
// pipeline, created, trigger, format, max parallelism), then a table of every uid and state
// (UID, KIND, STATE, STATE KIND, SCHEMA, ENTRIES, BYTES) with the offsets of sources (and
// sinks' committed lengths) under their row, then totals.
func (s *Savepoint) WriteInspectTable(w io.Writer) error {
	m := s.Meta
	var b strings.Builder
	header := [][]string{
		{"Savepoint", m.ID},
		{"Job", m.JobID},
		{"Pipeline", m.Pipeline},
		{"Created", m.Created.UTC().Format(time.RFC3339Nano)},
		{"Trigger", m.Trigger},
		{"Format version", strconv.Itoa(m.FormatVersion)},
		{"Max parallelism", strconv.Itoa(m.MaxParallelism)},
	}
	writeAligned(&b, header, nil, nil)
	b.WriteByte('\n')

	rows := [][]string{{"UID", "KIND", "STATE", "STATE KIND", "SCHEMA", "ENTRIES", "BYTES"}}
	extra := map[int][]string{}
	var states, entries, bytes int64
	for _, op := range m.Operators {
		if len(op.States) == 0 {
			rows = append(rows, []string{op.UID, op.Kind, "-", "-", "-", "-", "-"})
		}
		for _, st := range op.States {
			rows = append(rows, []string{op.UID, op.Kind, st.Name, st.Kind, st.Schema,
				strconv.FormatInt(st.Entries, 10), strconv.FormatInt(st.Bytes, 10)})
			states++
			entries += st.Entries
			bytes += st.Bytes
		}
		positions := op.Positions()
		for _, k := range slices.Sorted(maps.Keys(positions)) {
			extra[len(rows)-1] = append(extra[len(rows)-1], fmt.Sprintf("  offset %s: %d", k, positions[k]))
		}
	}
	writeAligned(&b, rows, map[int]bool{5: true, 6: true}, extra)
	fmt.Fprintf(&b, "\n%d uids, %d states, %d entries, %d bytes\n", len(m.Operators), states, entries, bytes)
	_, err := io.WriteString(w, b.String())
	return err
}

// writeAligned writes rows as columns separated by two spaces, right-aligning the columns
// in right, and writes the lines of extra[i] after row i (they take no part in alignment).
func writeAligned(b *strings.Builder, rows [][]string, right map[int]bool, extra map[int][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	for ri, r := range rows {
		var line strings.Builder
		for i, c := range r {
			if i > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[i]-len(c))
			if right[i] {
				line.WriteString(pad + c)
			} else {
				line.WriteString(c + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
		for _, e := range extra[ri] {
			b.WriteString(e + "\n")
		}
	}
}
