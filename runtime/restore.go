package runtime

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
	"github.com/pipectl/pipectl/statebackend"
)

// RestoreSummary says what a restore did, for the status line.
type RestoreSummary struct {
	Path     string
	States   int   // states restored
	Entries  int64 // entries restored
	Migrated int64 // entries rewritten by a migration
	Dropped  []string
	Duration time.Duration
}

// String is the one-line summary printed on stderr.
func (r *RestoreSummary) String() string {
	s := fmt.Sprintf("restored %d entries of %d states from %s in %d ms", r.Entries, r.States, r.Path, r.Duration.Milliseconds())
	if r.Migrated > 0 {
		s += fmt.Sprintf(" (%d migrated)", r.Migrated)
	}
	if len(r.Dropped) > 0 {
		s += "; dropped (--allow-non-restored-state): " + strings.Join(r.Dropped, ", ")
	}
	return s
}

// restoreBatch is the number of entries loaded per backend write batch.
const restoreBatch = 16384

// restore loads a savepoint's state into the backend, mapped by uid, migrating where the
// schemas differ, and keeps its source and sink offsets for the instances.
func (j *Job) restore(sp *savepoints.Savepoint) (*RestoreSummary, error) {
	meta := sp.Meta
	if meta.MaxParallelism != j.maxPar {
		return nil, fmt.Errorf("max_parallelism is %d but the savepoint was taken with %d: the number of key groups is fixed for the life of the state", j.maxPar, meta.MaxParallelism)
	}
	start := j.now()
	sum := &RestoreSummary{Path: sp.Path}
	defer func() { sum.Duration = j.now().Sub(start) }()
	j.restoreOffsets = map[string]map[string]int64{}
	moved := map[string]bool{} // "uid/state" taken by a migrate_from
	for _, n := range j.p.Order {
		for _, d := range n.States {
			if d.MigrateFrom != "" {
				moved[n.UID+"/"+d.MigrateFrom] = true
			}
		}
	}
	take := j.p.TakeOver(func(uid string) bool { return findOperator(meta, uid) != nil })
	var rt *script.Runtime
	for _, om := range meta.Operators {
		n := take.Owner[om.UID]
		if err := j.restoreOffsetsOf(&om, n, sum); err != nil {
			return nil, err
		}
		for _, sm := range om.States {
			if n != nil && (findState(n, sm.Name) != nil || moved[n.UID+"/"+sm.Name]) {
				continue
			}
			name := om.UID + "/" + sm.Name
			if !j.cfg.AllowNonRestoredState {
				return nil, fmt.Errorf("the savepoint holds state %q of uid %q that the new pipeline does not have; restore with --allow-non-restored-state to drop it", sm.Name, om.UID)
			}
			sum.Dropped = append(sum.Dropped, name)
		}
	}
	for _, n := range j.p.Order {
		stored, ok := take.Stored[n]
		if !ok {
			continue
		}
		for _, d := range n.States {
			restored := false
			srcs := storedSources(meta, stored, d)
			for _, src := range srcs {
				count, migrated, err := j.restoreState(sp, n, d, src.om, src.sm, len(srcs), &rt)
				if err != nil {
					return nil, err
				}
				if !restored {
					sum.States++
					restored = true
				}
				sum.Entries += count
				sum.Migrated += migrated
				j.live.counter(n.UID, d.Name).Add(count)
			}
		}
	}
	return sum, nil
}

// restoreState loads one stored state (sm of operator om, one of sources stored states d
// restores from) into the table of d, or maps it for a lazy restore.
func (j *Job) restoreState(sp *savepoints.Savepoint, n *pipeline.Node, d *pipeline.StateDesc, om *savepoints.OperatorMeta, sm *savepoints.StateMeta, sources int, rt **script.Runtime) (count, migrated int64, err error) {
	if om.Kind != n.Kind {
		return 0, 0, fmt.Errorf("uid %q was a %s and is now a %s: its state cannot be restored", n.UID, om.Kind, n.Kind)
	}
	if kt := n.KeyType(); kt != nil && om.KeyType != "" && om.KeyType != kt.String() {
		return 0, 0, fmt.Errorf("uid %q: key type changed from %s to %s: keys never evolve", n.UID, om.KeyType, kt)
	}
	conv, err := j.converter(n, d, sm, rt)
	if err != nil {
		return 0, 0, err
	}
	if j.canRestoreLazily(n, d, sm, conv, sources) {
		count, err := j.mapState(sp, n, d, om, sm)
		if !errors.Is(err, savepoints.ErrNotMappable) {
			return count, 0, err
		}
	}
	return j.loadState(sp, n, d, om, sm, conv)
}

// storedState is a state held by a savepoint.
type storedState struct {
	om *savepoints.OperatorMeta
	sm *savepoints.StateMeta
}

// restoreOffsetsOf keeps the offsets (a source's position, a sink's committed state) stored
// under om for node n, the node that takes om over (nil: none). Offsets that nothing takes
// over — the uid is gone, or its source or sink is of another kind now — are dropped, which
// needs --allow-non-restored-state.
func (j *Job) restoreOffsetsOf(om *savepoints.OperatorMeta, n *pipeline.Node, sum *RestoreSummary) error {
	if len(om.Offsets) == 0 {
		return nil
	}
	if n != nil && n.Kind == om.Kind {
		j.restoreOffsets[n.UID] = om.Offsets
		return nil
	}
	what := "the new pipeline does not have it"
	if n != nil {
		what = fmt.Sprintf("it was a %s and is now a %s", om.Kind, n.Kind)
	}
	if !j.cfg.AllowNonRestoredState {
		return fmt.Errorf("the savepoint holds the offsets of %s %q but %s; restore with --allow-non-restored-state to drop them", om.Kind, om.UID, what)
	}
	sum.Dropped = append(sum.Dropped, om.UID+" (offsets)")
	return nil
}

// findOperator returns the metadata of one uid (nil: the savepoint does not hold it).
func findOperator(meta *savepoints.Metadata, uid string) *savepoints.OperatorMeta {
	for i := range meta.Operators {
		if meta.Operators[i].UID == uid {
			return &meta.Operators[i]
		}
	}
	return nil
}

// storedSources returns the stored states under the stored uid that state d restores from,
// in load order: none for a new state; its own old entries; with migrate_from, first the
// entries of the state it names and then its own old entries (those a lazy migration already
// moved), so that for a key in both its own, newer entry wins.
func storedSources(meta *savepoints.Metadata, stored string, d *pipeline.StateDesc) []storedState {
	names := []string{d.Name}
	if d.MigrateFrom != "" {
		names = []string{d.MigrateFrom, d.Name}
	}
	var out []storedState
	for _, name := range names {
		if om, sm := findMeta(meta, stored, name); sm != nil {
			out = append(out, storedState{om, sm})
		}
	}
	return out
}

// findState returns n's state of that name.
func findState(n *pipeline.Node, name string) *pipeline.StateDesc {
	for _, d := range n.States {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// findMeta returns the metadata of one uid's state.
func findMeta(meta *savepoints.Metadata, uid, state string) (*savepoints.OperatorMeta, *savepoints.StateMeta) {
	for i := range meta.Operators {
		om := &meta.Operators[i]
		if om.UID != uid {
			continue
		}
		for k := range om.States {
			if om.States[k].Name == state {
				return om, &om.States[k]
			}
		}
	}
	return nil, nil
}

// valueConverter turns a stored value of the old schema into one of the new (nil: drop).
type valueConverter func(v any) (any, error)

// converter decides how entries of a stored state become entries of d: unchanged (nil), by a
// migrate function, or by the evolution rules.
func (j *Job) converter(n *pipeline.Node, d *pipeline.StateDesc, sm *savepoints.StateMeta, rt **script.Runtime) (valueConverter, error) {
	old, err := schema.Parse(sm.Schema)
	if err != nil {
		return nil, fmt.Errorf("uid %q state %q: savepoint schema %q: %w", n.UID, sm.Name, sm.Schema, err)
	}
	if old.Equal(d.Schema) {
		return nil, nil
	}
	if d.Migrate != nil {
		if *rt == nil {
			if *rt, err = j.prog.NewRuntime(j.consoleLog("migrate", 0)); err != nil {
				return nil, err
			}
		}
		r := *rt
		fn := r.Func(d.Migrate.Index, n.FunctionTimeout)
		return func(v any) (any, error) {
			res, err := fn.Call(r.ToJSTyped(v, old))
			if err != nil {
				return nil, err
			}
			if goja.IsNull(res) || goja.IsUndefined(res) {
				return nil, nil // the migration drops this entry
			}
			return r.FromJSAs(res, d.Schema)
		}, nil
	}
	ev := schema.Evolve(old, d.Schema)
	if ev.Verdict == schema.Incompatible {
		return nil, fmt.Errorf("uid %q state %q: %s (%s); declare a migrate function, or restore with --allow-non-restored-state after renaming the state", n.UID, d.Name, ev.Reason, ev.Rule)
	}
	return func(v any) (any, error) { return schema.Migrate(old, d.Schema, v) }, nil
}

// loadState streams one stored state into the backend table of d: in one bulk load when the
// backend offers it, with batches of Apply otherwise.
func (j *Job) loadState(sp *savepoints.Savepoint, n *pipeline.Node, d *pipeline.StateDesc, om *savepoints.OperatorMeta, sm *savepoints.StateMeta, conv valueConverter) (count, migrated int64, err error) {
	sink, err := j.openStateSink(n.UID, d.Name)
	if err != nil {
		return 0, 0, err
	}
	old, _ := schema.Parse(sm.Schema)
	oldTTL, newTTL := msDuration(sm.TTLMs), d.TTL
	now := j.nowMs()
	bar := j.progress(fmt.Sprintf("restoring %s/%s", n.UID, d.Name), sm.Entries)
	defer bar.Done()
	var stored, encoded []byte // reused: the sink copies what it keeps
	err = sp.ReadState(om.UID, sm.Name, func(kg uint16, key, value []byte) error {
		written, raw, err := decodeStored(sm, value)
		if err != nil {
			return err
		}
		if statebackend.Expired(oldTTL, written, now) {
			return nil // expired
		}
		if oldTTL == 0 {
			written = now
		}
		// Every value is decoded before it is taken: a savepoint may come from untrusted
		// hands, and a value its schema does not read fails here, naming its key, rather than
		// later in a function.
		v, rest, err := old.DecodeBinary(raw)
		if err != nil || len(rest) != 0 {
			return fmt.Errorf("key %s (key group %d): the stored value is not a %s", describeKey(n, key), kg, old)
		}
		if conv != nil {
			nv, err := conv(v)
			if err != nil {
				return fmt.Errorf("migrating key %s of %q state %q: %w", describeKey(n, key), n.UID, d.Name, err)
			}
			if nv == nil {
				return nil
			}
			if encoded, err = d.Schema.AppendBinary(encoded[:0], nv); err != nil {
				return err
			}
			raw = encoded
			migrated++
		}
		stored = statebackend.EncodeStored(stored[:0], newTTL, written, raw)
		if err := sink.add(kg, key, stored); err != nil {
			return err
		}
		count++
		bar.Add(1)
		return nil
	})
	if err == nil {
		err = sink.finish()
	} else {
		sink.abort()
	}
	if err != nil {
		return 0, 0, fmt.Errorf("restore %q state %q: %w", n.UID, d.Name, err)
	}
	return count, migrated, nil
}

// describeKey renders a key for messages.
func describeKey(n *pipeline.Node, key []byte) string {
	if kt := n.KeyType(); kt != nil {
		if v, _, err := kt.DecodeBinary(key); err == nil {
			if b, err := kt.AppendJSON(nil, v); err == nil {
				return string(b)
			}
		}
	}
	return fmt.Sprintf("%x", key)
}

// decodeStored splits a savepoint entry's stored bytes into write time and value bytes.
func decodeStored(sm *savepoints.StateMeta, stored []byte) (int64, []byte, error) {
	return statebackend.DecodeStored(msDuration(sm.TTLMs), stored)
}
