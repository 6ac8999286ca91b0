package savepoints

import (
	"bufio"
	"fmt"
	"io"

	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/statebackend"
)

// Dump writes the entries of one state of uid as JSON lines {"key":…,"value":…}, in file
// order: the key decoded with the state's key type (an int key is a JSON number; a state
// with no key type shows its key as bytes), the value decoded with its schema after the TTL
// prefix is removed (a list state's value is its array, a map state's its object). With
// state empty, a uid with a single state dumps it; otherwise the error lists the states to
// choose from. An unknown uid or state is an ErrUnknownState error listing what exists.
func (s *Savepoint) Dump(w io.Writer, uid, state string) error {
	op, err := s.operator(uid)
	if err != nil {
		return err
	}
	if state == "" {
		if len(op.States) == 0 {
			return fmt.Errorf("%w: uid %q keeps no state in this savepoint: nothing to dump (inspect shows its offsets)", ErrUnknownState, uid)
		}
		if len(op.States) != 1 {
			return fmt.Errorf("%w: uid %q has %d states, name one with --state (states: %s)",
				ErrUnknownState, uid, len(op.States), quotedList(op.stateNames()))
		}
		state = op.States[0].Name
	}
	_, st, err := s.state(uid, state)
	if err != nil {
		return err
	}
	keyExpr := op.stateKeyType(st)
	if keyExpr == "" {
		keyExpr = "bytes"
	}
	kt, err := schema.Parse(keyExpr)
	if err != nil {
		return invalidCause(err, s.Path, "state %s/%s: key type %q", uid, state, keyExpr)
	}
	vt, err := schema.Parse(st.Schema)
	if err != nil {
		return invalidCause(err, s.Path, "state %s/%s: schema %q", uid, state, st.Schema)
	}
	ttl := st.TTL()
	bw := bufio.NewWriterSize(w, 64<<10)
	var line []byte
	var n int64
	err = s.ReadState(uid, state, func(kg uint16, key, stored []byte) error {
		k, err := decodeAll(kt, key)
		if err != nil {
			return invalidCause(err, s.Path, "state %s/%s: entry %d: key does not decode as %s", uid, state, n, keyExpr)
		}
		_, vb, err := statebackend.DecodeStored(ttl, stored)
		if err != nil {
			return invalidCause(err, s.Path, "state %s/%s: entry %d", uid, state, n)
		}
		v, err := decodeAll(vt, vb)
		if err != nil {
			return invalidCause(err, s.Path, "state %s/%s: entry %d: value does not decode as %s", uid, state, n, st.Schema)
		}
		line = append(line[:0], `{"key":`...)
		if line, err = kt.AppendJSON(line, k); err != nil {
			return fmt.Errorf("dump %s/%s: entry %d: key: %w", uid, state, n, err)
		}
		line = append(line, `,"value":`...)
		if line, err = vt.AppendJSON(line, v); err != nil {
			return fmt.Errorf("dump %s/%s: entry %d: value: %w", uid, state, n, err)
		}
		line = append(line, "}\n"...)
		n++
		_, err = bw.Write(line)
		return err
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}

// decodeAll decodes one value of t that must fill b.
func decodeAll(t *schema.Type, b []byte) (any, error) {
	v, rest, err := t.DecodeBinary(b)
	if err != nil {
		return nil, err
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%d bytes left over", len(rest))
	}
	return v, nil
}
