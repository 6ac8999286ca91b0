package runtime

import (
	"testing"

	"github.com/pipectl/pipectl/pipeline"
)

// TestEveryOperatorKindHasAConstructor fails when an operator kind is declared in
// pipeline.Operators but the runtime cannot make its operator, or the other way round.
func TestEveryOperatorKindHasAConstructor(t *testing.T) {
	for _, kind := range pipeline.OpKinds() {
		if newOperators[kind] == nil {
			t.Errorf("operator kind %q has no constructor in newOperators", kind)
		}
	}
	for kind := range newOperators {
		if _, ok := pipeline.Operators[kind]; !ok {
			t.Errorf("newOperators makes kind %q, which pipeline.Operators does not declare", kind)
		}
	}
	for kind := range aggKinds {
		if pipeline.Operators[kind].Field == pipeline.FieldNone {
			t.Errorf("aggKinds has %q, which is not a built-in aggregation", kind)
		}
	}
}
