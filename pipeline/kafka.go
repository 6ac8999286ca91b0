package pipeline

import (
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/pipectl/pipectl/connectors"
)

// kafkaSink checks what the connector registry cannot: an exactly_once Kafka sink needs the
// pipeline's checkpoint: (its transactions commit when a checkpoint completes), and its
// transaction_timeout must exceed the checkpoint interval.
func (l *loader) kafkaSink(node *Node, what string) {
	if node.Kind != "kafka" || node.Options.String("delivery", "") != "exactly_once" {
		return
	}
	interval := l.p.CheckpointInterval
	if interval <= 0 {
		l.errorf(node.Keys["delivery"], CodeValue, "%s: delivery exactly_once needs checkpoint: {interval: …} in the pipeline file: its transactions are committed when a checkpoint completes", what)
		return
	}
	timeout := node.Options.Duration("transaction_timeout", connectors.DefaultTransactionTimeout)
	if timeout <= interval {
		pos, ok := node.Keys["transaction_timeout"]
		if !ok {
			pos = node.Keys["delivery"]
		}
		l.errorf(pos, CodeValue, "%s: transaction_timeout %s must exceed the checkpoint interval %s", what, fmtDuration(timeout), fmtDuration(interval))
	}
}

// fmtDuration renders a duration without zero units ("15m", not "15m0s").
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// kafkaTimestamp reads `timestamp: kafka` (the records' Kafka timestamps), which only a kafka
// source takes; it reports whether the value was that word.
func (l *loader) kafkaTimestamp(node *Node, n *yaml.Node, what string) bool {
	if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) != "kafka" {
		return false
	}
	if node.Kind != "kafka" {
		l.errorf(posOf(n), CodeValue, "%s: timestamp: kafka is for kafka sources; a %s source takes a function e => … returning epoch milliseconds", what, node.Kind)
		return true
	}
	node.ConnectorTime = true
	return true
}
