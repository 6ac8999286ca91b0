package compat

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
)

// Describe turns a pipeline into the metadata a savepoint of it would carry, schemas only (no
// entries, files or offsets): the old side for `check-compat --against OLD.yaml` and for
// `--job` (the pipeline copy the running job started with). Nodes are listed in file order.
func Describe(p *pipeline.Pipeline) *savepoints.Metadata {
	sum := sha256.Sum256(p.Raw)
	meta := &savepoints.Metadata{
		FormatVersion:  savepoints.FormatVersion1,
		Pipeline:       p.Name,
		PipelineYAML:   string(p.Raw),
		PipelineSHA256: hex.EncodeToString(sum[:]),
		MaxParallelism: p.MaxParallelism,
	}
	for _, n := range fileOrder(p) {
		keyType := typeString(n.KeyType())
		op := savepoints.OperatorMeta{
			UID:         n.UID,
			Kind:        n.Kind,
			Parallelism: n.Parallelism,
			KeyType:     keyType,
			States:      []savepoints.StateMeta{},
		}
		for _, s := range n.States {
			op.States = append(op.States, savepoints.StateMeta{
				Name:    s.Name,
				Kind:    string(s.Kind),
				Schema:  typeString(s.Schema),
				KeyType: keyType,
				TTLMs:   s.TTL.Milliseconds(),
			})
		}
		meta.Operators = append(meta.Operators, op)
	}
	return meta
}

// typeString is the canonical expression of t, "" for nil.
func typeString(t *schema.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}
