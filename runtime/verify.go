package runtime

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/pipectl/pipectl/pipeline"
	"github.com/pipectl/pipectl/savepoints"
	"github.com/pipectl/pipectl/schema"
	"github.com/pipectl/pipectl/script"
)

// VerifyFailure is one savepoint entry that cannot be restored into the new pipeline.
type VerifyFailure struct {
	UID, State string
	Key        string // the key in its JSON form
	Err        string
}

// VerifyReport is the outcome of VerifyState.
type VerifyReport struct {
	States   int
	Entries  int64
	Migrated int64
	Failures []VerifyFailure
}

// maxVerifyFailures bounds the failures a report lists (the count stays exact).
const maxVerifyFailures = 100

// VerifyState decodes every entry of the savepoint that the pipeline would restore and runs
// its migration (a migrate function or the evolution rules), without writing anything: the
// check behind `check-compat --verify-state`. failed counts every entry that throws, does not
// decode, or does not fit the new schema.
func VerifyState(sp *savepoints.Savepoint, p *pipeline.Pipeline, prog *script.Program) (rep *VerifyReport, failed int64, err error) {
	j := &Job{p: p, prog: prog, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	rep = &VerifyReport{}
	var rt *script.Runtime
	take := p.TakeOver(func(uid string) bool { return findOperator(sp.Meta, uid) != nil })
	for _, n := range p.Order {
		stored, ok := take.Stored[n]
		if !ok {
			continue
		}
		for _, d := range n.States {
			for _, src := range storedSources(sp.Meta, stored, d) {
				om, sm := src.om, src.sm
				old, perr := schema.Parse(sm.Schema)
				if perr != nil {
					return nil, 0, fmt.Errorf("uid %q state %q: savepoint schema %q: %w", n.UID, sm.Name, sm.Schema, perr)
				}
				conv, cerr := j.converter(n, d, sm, &rt)
				if cerr != nil {
					failed++
					rep.Failures = append(rep.Failures, VerifyFailure{UID: n.UID, State: d.Name, Err: cerr.Error()})
					continue
				}
				rep.States++
				fail := func(key []byte, e error) {
					failed++
					if len(rep.Failures) < maxVerifyFailures {
						rep.Failures = append(rep.Failures, VerifyFailure{UID: n.UID, State: d.Name, Key: describeKey(n, key), Err: e.Error()})
					}
				}
				err := sp.ReadState(om.UID, sm.Name, func(kg uint16, key, value []byte) error {
					rep.Entries++
					_, raw, err := decodeStored(sm, value)
					if err != nil {
						fail(key, err)
						return nil
					}
					v, rest, err := old.DecodeBinary(raw)
					if err != nil || len(rest) != 0 {
						fail(key, fmt.Errorf("cannot decode a %s", old))
						return nil
					}
					if conv == nil {
						return nil
					}
					nv, err := conv(v)
					if err != nil {
						fail(key, err)
						return nil
					}
					if nv != nil {
						if _, err := d.Schema.AppendBinary(nil, nv); err != nil {
							fail(key, err)
							return nil
						}
					}
					rep.Migrated++
					return nil
				})
				if err != nil {
					return nil, 0, err
				}
			}
		}
	}
	return rep, failed, nil
}
