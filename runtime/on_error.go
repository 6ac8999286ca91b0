package runtime

import (
	"encoding/json"
	"fmt"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
)

// onUserError applies the on_error policy of node n to err, a failure of n's own user code
// or data on record e of types t (a function threw or timed out, a result or a key does not
// fit its type): nil when the record is skipped or dead-lettered, else the error that fails
// the job, naming the record. The error is a plain one, so that an upstream node that the
// failure reaches does not apply its own policy to it.
func (j *Job) onUserError(n *pipeline.Node, t recordTypes, e *element, err error) error {
	where := j.recordContext(e, t)
	if dropped, derr := j.dropFailed(n, err, recordJSON(t.value, e.value), where); dropped {
		return derr
	}
	return fmt.Errorf("%s (%s)", err, where)
}

// dropFailed applies on_error skip or dead_letter of node n to err, a failure of n's own code
// on record (where says which, for messages): skip counts and logs it, dead_letter writes
// record to n's dead-letter file; dropped is false under on_error: fail.
func (j *Job) dropFailed(n *pipeline.Node, err error, record any, where string) (dropped bool, _ error) {
	switch n.OnError {
	case "skip":
		j.countSkipped(n.UID, fmt.Errorf("%w (%s)", err, where))
		return true, nil
	case "dead_letter":
		return true, j.writeDeadLetter(n.UID, err.Error(), record, "", 0, nil, where)
	}
	return false, nil
}

// recordJSON is a record as JSON, its fields in the declared order of its type t as the
// sinks write them; a value that does not fit t (or a nil t) is encoded as encoding/json
// does.
func recordJSON(t *schema.Type, v any) json.RawMessage {
	if t != nil {
		if b, err := t.AppendJSON(nil, v); err == nil {
			return b
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(fmt.Sprint(v)) // a string always encodes
	}
	return b
}

// recordTypes are the types of the records of one input of a node and of their key, for
// showing them; nil when unknown (or unkeyed).
type recordTypes struct{ value, key *schema.Type }

// inputTypes returns the types of node n's logical input i.
func inputTypes(n *pipeline.Node, i int) recordTypes {
	var t recordTypes
	if i >= 0 && i < len(n.InTypes) {
		t.value = n.InTypes[i]
	}
	switch {
	case i >= 0 && i < len(n.KeyBy):
		t.key = n.KeyBy[i].Type
	case len(n.KeyBy) > 0:
		t.key = n.KeyBy[0].Type
	}
	return t
}
