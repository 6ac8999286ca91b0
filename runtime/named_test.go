package runtime

import (
	"errors"
	"testing"

	"github.com/pipectl/pipectl/pipeline"
)

// An error is named once, by the innermost item that failed.
func TestNamedOnce(t *testing.T) {
	for _, c := range []struct {
		role pipeline.Role
		uid  string
		err  string
		want string
	}{
		{pipeline.RoleSource, "src", "file a.jsonl: bad line", `source "src": file a.jsonl: bad line`},
		{pipeline.RoleSource, "src", `sink "o": $.k: expected string, got null`, `sink "o": $.k: expected string, got null`},
		{pipeline.RoleSource, "src", `operator "check": check.fn: Error: boom`, `operator "check": check.fn: Error: boom`},
		{pipeline.RoleSink, "o", `sink "o": cannot reach the Kafka brokers`, `sink "o": cannot reach the Kafka brokers`},
		{pipeline.RoleSink, "o", "write out.jsonl: no space left on device", `sink "o": write out.jsonl: no space left on device`},
		{pipeline.RoleOperator, "agg", `the key "sink \"x\"" is bad`, `operator "agg": the key "sink \"x\"" is bad`},
	} {
		inner := errors.New(c.err)
		got := named(c.role, c.uid, inner)
		if got.Error() != c.want {
			t.Errorf("named(%s, %q, %q) = %q, want %q", c.role, c.uid, c.err, got, c.want)
		}
		if !errors.Is(got, inner) {
			t.Errorf("named(%s, %q, %q) does not wrap the error", c.role, c.uid, c.err)
		}
	}
}
