package pipeline

import (
	"slices"
	"testing"
)

// TestOperatorTable checks that each operator kind's properties agree with its keys, so that
// a new kind cannot be declared half-way.
func TestOperatorTable(t *testing.T) {
	for _, kind := range OpKinds() {
		s := Operators[kind]
		keys := map[string]OpKey{}
		for _, k := range s.Keys {
			if _, dup := keys[k.Name]; dup {
				t.Errorf("%s: key %q declared twice", kind, k.Name)
			}
			if k.Doc == "" {
				t.Errorf("%s: key %q has no doc", kind, k.Name)
			}
			keys[k.Name] = k
		}
		_, keyBy := keys["key_by"]
		_, inputs := keys["inputs"]
		_, window := keys["window"]
		_, field := keys["field"]
		stateNames := make([]string, len(s.States))
		for i, st := range s.States {
			stateNames[i] = st.Name
		}
		for _, c := range []struct {
			what string
			ok   bool
		}{
			{"its kind", s.Kind == kind},
			{"a summary", s.Summary != ""},
			{"key_by exactly when keyed", keyBy == s.Keyed},
			{"inputs exactly when it reads several streams", inputs == (s.Inputs != 1)},
			{"input exactly when it reads one stream", keys["input"].Required == (s.Inputs == 1)},
			{"window exactly when windowed", window == s.Windowed},
			{"field exactly with a field rule", field == (s.Field != FieldNone)},
			{"an output rule", s.Output != 0},
			{"timers when windowed", !s.Windowed || slices.Contains(stateNames, StateTimers)},
			{"no internal state when stateless", s.Keyed || s.Windowed || len(s.States) == 0},
			{"one subtask only when unkeyed", !s.OneSubtask || !s.Keyed},
		} {
			if !c.ok {
				t.Errorf("%s: the declaration does not have %s", kind, c.what)
			}
		}
	}
}
