package runtime

import (
	"fmt"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/statebackend"
)

// typeCodec adapts a schema type to the state backend's Codec.
type typeCodec struct{ t *schema.Type }

func (c typeCodec) Append(dst []byte, v any) ([]byte, error) { return c.t.AppendBinary(dst, v) }

func (c typeCodec) Decode(b []byte) (any, error) {
	v, rest, err := c.t.DecodeBinary(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes after a value of %s", len(rest), c.t)
	}
	return v, nil
}

// keyedState is one state of one keyed instance: the backend table and this subtask's
// write-back cache in front of it. Values are the whole value per key (Desc.Schema).
type keyedState struct {
	node  *pipeline.Node
	desc  *pipeline.StateDesc
	table statebackend.Table
	cache *statebackend.Cache
}

// openState opens state d of subtask i of node n; a lazily restored state becomes the base
// of its cache.
func (j *Job) openState(n *pipeline.Node, i int, d *pipeline.StateDesc) (*keyedState, error) {
	t, err := j.backend.Table(n.UID, d.Name)
	if err != nil {
		return nil, fmt.Errorf("operator %q: state %q: %w", n.UID, d.Name, err)
	}
	c := statebackend.NewCache(t, typeCodec{d.Schema}, statebackend.CacheOptions{
		MaxBytes:   j.cacheBytes,
		TTL:        d.TTL,
		Now:        j.nowMs,
		Scale:      &j.cacheScale,
		Live:       j.live.counter(n.UID, d.Name),
		SecondTier: true,
	})
	s := &keyedState{node: n, desc: d, table: t, cache: c}
	j.attachBase(n, i, s)
	return s, nil
}

// get reads the state of e's key. An error names the uid, the state and the key: a value
// that does not decode may come from a savepoint still being checked (restoreCheck).
func (s *keyedState) get(e *element) (any, bool, error) {
	v, ok, err := s.cache.Get(e.kg, e.keyBytes)
	if err != nil {
		return nil, false, fmt.Errorf("operator %q: state %q: key %s (key group %d): %w", s.node.UID, s.desc.Name, describeKey(s.node, e.keyBytes), e.kg, err)
	}
	return v, ok, nil
}

func (s *keyedState) put(e *element, v any) error { return s.cache.Put(e.kg, e.keyBytes, v) }

func (s *keyedState) del(e *element) error { return s.cache.Delete(e.kg, e.keyBytes) }

// stateByName returns the instance's state of that name.
func (in *instance) stateByName(name string) *keyedState {
	for _, s := range in.states {
		if s.desc.Name == name {
			return s
		}
	}
	return nil
}
