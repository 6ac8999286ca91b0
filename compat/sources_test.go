package compat

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
)

// sourceMeta is a savepoint holding one source (or sink) uid "in" with the given kind and
// offsets.
func sourceMeta(kind string, offsets map[string]int64) *savepoints.Metadata {
	return &savepoints.Metadata{FormatVersion: savepoints.FormatVersion1, MaxParallelism: 128,
		Operators: []savepoints.OperatorMeta{{UID: "in", Kind: kind, Parallelism: 1, Offsets: offsets,
			States: []savepoints.StateMeta{}}}}
}

// handMade is a pipeline with one node "in" of the given role and kind, built by hand from
// raw: a source or sink of any kind, without the keys its kind requires.
func handMade(role pipeline.Role, kind, raw string) *pipeline.Pipeline {
	n := &pipeline.Node{Role: role, UID: "in", Kind: kind, Pos: pipeline.Pos{Line: 3, Col: 5},
		Keys: map[string]pipeline.Pos{"kind": {Line: 4, Col: 5}, "topics": {Line: 5, Col: 5}, "topic_pattern": {Line: 5, Col: 5}}}
	p := &pipeline.Pipeline{File: "new.yaml", Raw: []byte(raw), MaxParallelism: 128,
		Nodes: map[string]*pipeline.Node{"in": n}}
	if role == pipeline.RoleSource {
		p.Sources = []*pipeline.Node{n}
	} else {
		p.Sinks = []*pipeline.Node{n}
	}
	return p
}

const kafkaRaw = `name: k
sources:
  - uid: in
    kind: kafka
    %s
`

func TestSourceRules(t *testing.T) {
	kafkaOffsets := map[string]int64{"a/0": 5, "a/1": 7, "b/0": 3, "old-x/0": 1, "old-x/1": 2, "old-x/2": 9}
	tests := []struct {
		name       string
		old        *savepoints.Metadata
		p          *pipeline.Pipeline
		allow      bool
		verdict    schema.Verdict
		rule       schema.Rule
		compatible bool
		reason     string // a substring of the reason
		line       int
	}{{
		name:    "a generator's offsets under a file source are dropped",
		old:     sourceMeta("generator", map[string]int64{"next": 30}),
		p:       handMade(pipeline.RoleSource, "file", "name: k\n"),
		verdict: schema.Dropped, rule: schema.RuleSourceKindChanged, line: 4,
		reason: "source in was a generator and is now a file: the generator offsets it stored would not be restored, so the restore fails; fix: keep kind generator under uid in",
	}, {
		name: "with --allow-non-restored-state they are dropped with a warning",
		old:  sourceMeta("generator", map[string]int64{"next": 30}),
		p:    handMade(pipeline.RoleSource, "file", "name: k\n"), allow: true,
		verdict: schema.Dropped, rule: schema.RuleSourceKindChanged, compatible: true, line: 4,
		reason: "are dropped on restore (--allow-non-restored-state)",
	}, {
		name:    "a source that stored nothing changes kind freely",
		old:     sourceMeta("stdin", nil),
		p:       handMade(pipeline.RoleSource, "file", "name: k\n"),
		verdict: schema.Compatible, rule: schema.RuleStateUnchanged, compatible: true, line: 3,
	}, {
		name:    "a file sink's committed length under a stdout sink is dropped",
		old:     sourceMeta("file", map[string]int64{"length": 1200}),
		p:       handMade(pipeline.RoleSink, "stdout", "name: k\n"),
		verdict: schema.Dropped, rule: schema.RuleStateDropped, line: 4,
		reason: "sink in was a file and is now a stdout",
	}, {
		name:    "kafka topics no longer read",
		old:     sourceMeta("kafka", kafkaOffsets),
		p:       handMade(pipeline.RoleSource, "kafka", strings.Replace(kafkaRaw, "%s", "topics: [a, b, c]", 1)),
		verdict: schema.Compatible, rule: schema.RuleSourceTopicsDropped, compatible: true, line: 5,
		reason: "kafka source in no longer reads topic old-x (3 partitions): their offsets are dropped; the offsets of a, b are restored",
	}, {
		name:    "kafka topic_pattern keeps the topics it matches",
		old:     sourceMeta("kafka", kafkaOffsets),
		p:       handMade(pipeline.RoleSource, "kafka", strings.Replace(kafkaRaw, "%s", `topic_pattern: "old-.*|a"`, 1)),
		verdict: schema.Compatible, rule: schema.RuleSourceTopicsDropped, compatible: true, line: 5,
		reason: "no longer reads topic b (1 partition): their offsets are dropped; the offsets of a, old-x are restored",
	}, {
		name:    "kafka reading every stored topic",
		old:     sourceMeta("kafka", kafkaOffsets),
		p:       handMade(pipeline.RoleSource, "kafka", strings.Replace(kafkaRaw, "%s", "topics: [a, b, old-x]", 1)),
		verdict: schema.Compatible, rule: schema.RuleStateUnchanged, compatible: true, line: 3,
	}, {
		name:    "a kafka source's offsets under a file source",
		old:     sourceMeta("kafka", kafkaOffsets),
		p:       handMade(pipeline.RoleSource, "file", "name: k\n"),
		verdict: schema.Dropped, rule: schema.RuleSourceKindChanged, line: 4,
		reason: "the kafka offsets it stored",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep := Check(tc.old, tc.p, Options{AllowNonRestoredState: tc.allow})
			if len(rep.Results) != 1 {
				t.Fatalf("%d results, want 1: %+v", len(rep.Results), rep.Results)
			}
			r := rep.Results[0]
			if r.Verdict != tc.verdict || r.Rule != tc.rule || rep.Compatible != tc.compatible ||
				r.UID != "in" || r.State != "" || r.Line != tc.line {
				t.Errorf("got %s %s line %d (report compatible %v), want %s %s line %d (%v): %s",
					r.Verdict, r.Rule, r.Line, rep.Compatible, tc.verdict, tc.rule, tc.line, tc.compatible, r.Reason)
			}
			if !strings.Contains(r.Reason, tc.reason) {
				t.Errorf("reason %q lacks %q", r.Reason, tc.reason)
			}
		})
	}
}

// TestKafkaTopicsDroppedLoaded judges a loaded pipeline with a Kafka source whose topics
// changed against savepoint metadata holding offsets of the old topics.
func TestKafkaTopicsDroppedLoaded(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.yaml")
	src := `name: k
sources:
  - uid: in
    kind: kafka
    brokers: [127.0.0.1:9092]
    topics: [sensors]
    schema: {room: int}
sinks:
  - {uid: out, kind: stdout, input: in}
`
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	old := sourceMeta("kafka", map[string]int64{"sensors/0": 4, "sensors-legacy/0": 9, "sensors-legacy/1": 2})
	old.Operators = append(old.Operators, savepoints.OperatorMeta{UID: "out", Kind: "stdout", States: []savepoints.StateMeta{}})
	rep := Check(old, load(t, path), Options{})
	r := rep.Results[0]
	if !rep.Compatible || r.Rule != schema.RuleSourceTopicsDropped || r.Verdict != schema.Compatible || r.Line != 6 ||
		!strings.Contains(r.Reason, "no longer reads topic sensors-legacy (2 partitions)") {
		t.Errorf("got %s %s at line %d: %s", r.Verdict, r.Rule, r.Line, r.Reason)
	}
}

// TestKafkaTopicsDroppedJob judges against a running job's description, as `--job` gets it
// (Describe of the job's pipeline, sent as JSON): the old topics: list says which topics'
// offsets the job holds.
func TestKafkaTopicsDroppedJob(t *testing.T) {
	dir := t.TempDir()
	src := `name: k
sources:
  - uid: in
    kind: kafka
    brokers: [127.0.0.1:9092]
    topics: %s
    schema: {room: int}
sinks:
  - {uid: out, kind: stdout, input: in}
`
	write := func(name, topics string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(strings.Replace(src, "%s", topics, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	data, err := json.Marshal(Describe(load(t, write("old.yaml", "[sensors, sensors-legacy]"))))
	if err != nil {
		t.Fatal(err)
	}
	var job savepoints.Metadata
	if err := json.Unmarshal(data, &job); err != nil {
		t.Fatal(err)
	}
	rep := Check(&job, load(t, write("new.yaml", "sensors")), Options{})
	r := rep.Results[0]
	if !rep.Compatible || r.Rule != schema.RuleSourceTopicsDropped || r.Verdict != schema.Compatible || r.Line != 6 ||
		!strings.Contains(r.Reason, "no longer reads topic sensors-legacy: their offsets are dropped") ||
		!strings.Contains(r.Reason, "the offsets of sensors are restored") {
		t.Errorf("got %s %s at line %d: %s", r.Verdict, r.Rule, r.Line, r.Reason)
	}
}
