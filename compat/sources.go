package compat

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/connectors"
	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
)

// Sources and sinks keep no keyed state, but a savepoint holds what they have done: a
// source's offsets, a sink's committed length or transactions. These carry over to a source
// or sink of the same kind under the uid that takes them over; otherwise they are dropped.
// One that stores nothing may change kind or go freely.

// position judges the offsets stored under op for the source or sink n of the new pipeline
// (same uid, or one that takes op over): handled reports whether it gave the result.
func (c *checker) position(op *savepoints.OperatorMeta, n *pipeline.Node) (handled bool) {
	if len(op.States) > 0 || len(n.States) > 0 {
		return false
	}
	if len(op.Offsets) == 0 && !c.oldStoresPosition(op) {
		return c.oldKafkaTopics(op, n)
	}
	switch {
	case op.Kind != n.Kind && n.Role == pipeline.RoleSource:
		c.droppedOffsets(op, n, schema.RuleSourceKindChanged, keyPos(n, "kind"),
			fmt.Sprintf("source %s was a %s and is now a %s: the %s offsets it stored",
				n.UID, op.Kind, n.Kind, op.Kind),
			fmt.Sprintf("keep kind %s under uid %s, or give the %s source a new uid", op.Kind, n.UID, n.Kind))
	case op.Kind != n.Kind:
		c.droppedOffsets(op, n, schema.RuleStateDropped, keyPos(n, "kind"),
			fmt.Sprintf("%s %s was a %s and is now a %s: the committed state it stored",
				roleName(n), n.UID, op.Kind, n.Kind),
			fmt.Sprintf("keep kind %s under uid %s, or give the new %s a new uid", op.Kind, n.UID, n.Kind))
	case n.Role == pipeline.RoleSource && n.Kind == "kafka" && len(op.Offsets) == 0:
		return c.oldKafkaTopics(op, n)
	case n.Role == pipeline.RoleSource && n.Kind == "kafka":
		return c.kafkaTopics(op, n)
	default:
		return false
	}
	return true
}

// oldStoresPosition reports whether op, a source or sink of the old pipeline file (the old
// side is a file, not a savepoint), stores offsets or a committed state in its snapshots: a
// replayable source, or a sink whose kind says so for its options. A savepoint shows its
// offsets instead.
func (c *checker) oldStoresPosition(op *savepoints.OperatorMeta) bool {
	if c.oldFile == nil {
		return false
	}
	if item := pipelineItem(c.oldFile, "sources", op.UID); item != nil {
		spec, ok := connectors.Lookup(connectors.RoleSource, op.Kind)
		return ok && spec.Replayable
	}
	item := pipelineItem(c.oldFile, "sinks", op.UID)
	spec, ok := connectors.Lookup(connectors.RoleSink, op.Kind)
	if item == nil || !ok || spec.StoresPosition == nil {
		return false
	}
	return spec.StoresPosition(func(key string) string {
		if v := itemValue(item, key); v != nil && v.Kind == yaml.ScalarNode {
			return v.Value
		}
		return ""
	})
}

// droppedOffsets reports offsets that nothing restores.
func (c *checker) droppedOffsets(op *savepoints.OperatorMeta, n *pipeline.Node, rule schema.Rule, pos pipeline.Pos, what, keep string) {
	r := Result{UID: n.UID, Verdict: schema.Dropped, Rule: rule}
	if c.opts.AllowNonRestoredState {
		r.Severity = SeverityWarning
		r.Reason = what + " are dropped on restore (--allow-non-restored-state); it starts from its beginning"
	} else {
		r.Reason = what + " would not be restored, so the restore fails; fix: " + keep +
			", or pass --allow-non-restored-state to drop them"
	}
	c.add(r, pos)
}

// removedPosition reports a removed source or sink that stored offsets or a committed state.
func (c *checker) removedPosition(op *savepoints.OperatorMeta) {
	c.droppedOffsets(op, &pipeline.Node{UID: op.UID}, schema.RuleStateDropped, pipeline.Pos{},
		fmt.Sprintf("%s %s is not in the new pipeline: the offsets it stored", op.Kind, op.UID),
		"keep it under uid "+op.UID+" (or list "+op.UID+" in the previous_uids of the item that replaces it)")
}

// roleName is "source", "operator" or "sink".
func roleName(n *pipeline.Node) string {
	switch n.Role {
	case pipeline.RoleSource:
		return "source"
	case pipeline.RoleSink:
		return "sink"
	}
	return "operator"
}

// kafkaTopics judges a Kafka source whose topics may have changed: offsets of the topics it
// still reads carry over; those of topics it no longer reads are dropped with a note. Stored
// offsets are keyed "<topic>/<partition>"; the new topics come from the file's `topics:` or
// `topic_pattern:`.
func (c *checker) kafkaTopics(op *savepoints.OperatorMeta, n *pipeline.Node) bool {
	reads, ok := newTopics(c.p.Raw, n.UID)
	if !ok {
		return false
	}
	partitions := map[string]int{}
	for key := range op.Offsets {
		if i := strings.LastIndexByte(key, '/'); i > 0 {
			partitions[key[:i]]++
		}
	}
	return c.topicsDropped(n, slices.Collect(maps.Keys(partitions)), reads, func(t string) string {
		if partitions[t] == 1 {
			return " (1 partition)"
		}
		return fmt.Sprintf(" (%d partitions)", partitions[t])
	}, "")
}

// oldKafkaTopics judges a Kafka source against the old pipeline's file: the topics its old
// `topics:` list names are those whose offsets the job stores. A `topic_pattern:` on either
// side is not judged: which topics it matches is the broker's to say.
func (c *checker) oldKafkaTopics(op *savepoints.OperatorMeta, n *pipeline.Node) bool {
	if c.oldFile == nil || n.Role != pipeline.RoleSource || op.Kind != "kafka" || n.Kind != "kafka" {
		return false
	}
	old, ok := listedTopics(sourceItem(c.oldFile, op.UID))
	if !ok {
		return false
	}
	now, ok := listedTopics(sourceItem(c.p.Raw, n.UID))
	if !ok {
		return false
	}
	return c.topicsDropped(n, old, func(t string) bool { return slices.Contains(now, t) },
		func(string) string { return "" }, " (how many partitions they have is known only from a savepoint)")
}

// topicsDropped reports, when the Kafka source n no longer reads some of the topics whose
// offsets it stored, that their offsets are dropped; detail follows the name of a dropped
// topic (its number of partitions), note the dropping. It reports whether it gave the result.
func (c *checker) topicsDropped(n *pipeline.Node, stored []string, reads func(string) bool, detail func(string) string, note string) bool {
	var dropped, kept []string
	for _, topic := range stored {
		if reads(topic) {
			kept = append(kept, topic)
		} else {
			dropped = append(dropped, topic)
		}
	}
	if len(dropped) == 0 {
		return false
	}
	slices.Sort(dropped)
	slices.Sort(kept)
	var parts []string
	for _, t := range dropped {
		parts = append(parts, t+detail(t))
	}
	reason := fmt.Sprintf("kafka source %s no longer reads topic %s: their offsets are dropped%s",
		n.UID, strings.Join(parts, ", "), note)
	if len(kept) > 0 {
		reason += "; the offsets of " + strings.Join(kept, ", ") + " are restored"
	}
	reason += "; to read a dropped topic again from its stored offsets, list it in topics: again"
	c.add(Result{UID: n.UID, Verdict: schema.Compatible, Rule: schema.RuleSourceTopicsDropped,
		Reason: reason}, keyPos(n, "topics", "topic_pattern"))
	return true
}

// newTopics returns which topics the source uid of the pipeline file reads: those of its
// `topics:` list, or those its `topic_pattern:` regexp matches. ok is false when the file
// says neither in a form that can be read here (e.g. a ${VAR}).
func newTopics(raw []byte, uid string) (reads func(string) bool, ok bool) {
	item := sourceItem(raw, uid)
	if topics, ok := listedTopics(item); ok {
		return func(t string) bool { return slices.Contains(topics, t) }, true
	}
	if v := itemValue(item, "topic_pattern"); v != nil && v.Kind == yaml.ScalarNode && !strings.Contains(v.Value, "${") {
		re, err := regexp.Compile("^(?:" + v.Value + ")$")
		if err != nil {
			return nil, false
		}
		return re.MatchString, true
	}
	return nil, false
}

// listedTopics returns the `topics:` list of a source's mapping (a sequence, or one
// comma-separated value); ok is false without one, or when a ${VAR} makes it unknown here.
func listedTopics(item *yaml.Node) (topics []string, ok bool) {
	v := itemValue(item, "topics")
	switch {
	case v == nil:
		return nil, false
	case v.Kind == yaml.SequenceNode:
		for _, t := range v.Content {
			topics = append(topics, t.Value)
		}
	case v.Kind == yaml.ScalarNode:
		for t := range strings.SplitSeq(v.Value, ",") {
			if t = strings.TrimSpace(t); t != "" {
				topics = append(topics, t)
			}
		}
	default:
		return nil, false
	}
	if slices.ContainsFunc(topics, func(t string) bool { return strings.Contains(t, "${") }) {
		return nil, false
	}
	return topics, true
}

// itemValue is the value of key in a mapping, or nil (also for a nil mapping).
func itemValue(item *yaml.Node, key string) *yaml.Node {
	for i := 0; item != nil && i+1 < len(item.Content); i += 2 {
		if item.Content[i].Value == key {
			return item.Content[i+1]
		}
	}
	return nil
}

// sourceItem is the mapping of the source uid in a pipeline file, or nil.
func sourceItem(raw []byte, uid string) *yaml.Node { return pipelineItem(raw, "sources", uid) }

// pipelineItem is the mapping of uid in a section (sources, operators, sinks) of a pipeline
// file, or nil.
func pipelineItem(raw []byte, section, uid string) *yaml.Node {
	var doc yaml.Node
	if yaml.Unmarshal(raw, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != section || root.Content[i+1].Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range root.Content[i+1].Content {
			for j := 0; item.Kind == yaml.MappingNode && j+1 < len(item.Content); j += 2 {
				if item.Content[j].Value == "uid" && item.Content[j+1].Value == uid {
					return item
				}
			}
		}
	}
	return nil
}
