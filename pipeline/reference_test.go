package pipeline

import (
	"testing"

	"github.com/pipectl/pipectl/internal/testkit"
)

// TestOperatorReference fails when docs/operators.md differs from what the operator kinds'
// declarations generate: run it with -update after changing pipeline/kinds.go.
func TestOperatorReference(t *testing.T) {
	testkit.Golden(t, "../docs/operators.md", OperatorReference())
}
