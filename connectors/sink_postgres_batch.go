package connectors

import (
	"encoding/binary"
	"math"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/pipectl/pipectl/schema"
)

// pgBatch is a batch of rows, column by column as the upsert's unnest and COPY read them.
type pgBatch struct {
	cols []pgArray
	n    int // rows
}

func newPgBatch(cols []pgColumn) *pgBatch {
	b := &pgBatch{cols: make([]pgArray, len(cols))}
	for i, c := range cols {
		b.cols[i] = c.newArray()
	}
	return b
}

// put writes row (the values of pgColumn.value) as row at: a new row when at is n, else in
// place of an earlier one.
func (b *pgBatch) put(at int, row []any) {
	for i, a := range b.cols {
		if at == b.n {
			a.add(row[i])
		} else {
			a.set(at, row[i])
		}
	}
	if at == b.n {
		b.n++
	}
}

func (b *pgBatch) reset() {
	for _, a := range b.cols {
		a.reset()
	}
	b.n = 0
}

// pgArray is one column of a batch. Its values come from pgColumn.value, so their dynamic
// types are already checked.
type pgArray interface {
	add(v any)        // appends a value
	set(i int, v any) // replaces the i-th value
	at(i int) any     // the i-th value, as pgx encodes it for COPY
	// appendBinary appends the column as a one-dimensional array in PostgreSQL's binary
	// format (the upsert's parameter: the server parses no text).
	appendBinary(dst []byte) []byte
	reset()
}

// typedArray is a pgArray of values of type T, made from canonical values by of and encoded
// by enc as an array of element type oid.
type typedArray[T any] struct {
	vals []T
	of   func(v any) T
	enc  func(dst []byte, v T) ([]byte, bool) // false: v is null
	oid  uint32
}

func (a *typedArray[T]) add(v any)        { a.vals = append(a.vals, a.of(v)) }
func (a *typedArray[T]) set(i int, v any) { a.vals[i] = a.of(v) }
func (a *typedArray[T]) at(i int) any     { return a.vals[i] }
func (a *typedArray[T]) reset()           { clear(a.vals); a.vals = a.vals[:0] }

// appendBinary writes the array header (one dimension, the null flag, the element type, the
// length, lower bound 1), then each element as its length and bytes (length -1: null).
func (a *typedArray[T]) appendBinary(dst []byte) []byte {
	be := binary.BigEndian
	dst = be.AppendUint32(dst, 1)
	hasNull := len(dst)
	dst = be.AppendUint32(dst, 0)
	dst = be.AppendUint32(dst, a.oid)
	dst = be.AppendUint32(dst, uint32(len(a.vals)))
	dst = be.AppendUint32(dst, 1)
	for _, v := range a.vals {
		at := len(dst)
		dst = be.AppendUint32(dst, 0)
		var ok bool
		if dst, ok = a.enc(dst, v); ok {
			be.PutUint32(dst[at:], uint32(len(dst)-at-4))
		} else {
			dst = dst[:at+4]
			be.PutUint32(dst[at:], math.MaxUint32) // -1
			be.PutUint32(dst[hasNull:], 1)
		}
	}
	return dst
}

// newArray makes the batch column of c, in the type of c.sqlType. Nullable scalars use pgx's
// nullable types; bytes and JSON text are byte slices (nil is null).
func (c pgColumn) newArray() pgArray {
	be := binary.BigEndian
	switch {
	case c.json:
		return &typedArray[[]byte]{of: bytesOf, oid: pgtype.JSONBOID, enc: func(dst, v []byte) ([]byte, bool) {
			return append(append(dst, 1), v...), v != nil // jsonb's binary form: version 1, the text
		}}
	case c.inner.Kind == schema.Bytes:
		return &typedArray[[]byte]{of: bytesOf, oid: pgtype.ByteaOID, enc: func(dst, v []byte) ([]byte, bool) {
			return append(dst, v...), v != nil
		}}
	case c.inner.Kind == schema.Int:
		return &typedArray[pgtype.Int8]{oid: pgtype.Int8OID,
			of: func(v any) pgtype.Int8 {
				n, ok := v.(int64)
				return pgtype.Int8{Int64: n, Valid: ok}
			},
			enc: func(dst []byte, v pgtype.Int8) ([]byte, bool) {
				return be.AppendUint64(dst, uint64(v.Int64)), v.Valid
			}}
	case c.inner.Kind == schema.Float:
		return &typedArray[pgtype.Float8]{oid: pgtype.Float8OID,
			of: func(v any) pgtype.Float8 {
				f, ok := v.(float64)
				return pgtype.Float8{Float64: f, Valid: ok}
			},
			enc: func(dst []byte, v pgtype.Float8) ([]byte, bool) {
				return be.AppendUint64(dst, math.Float64bits(v.Float64)), v.Valid
			}}
	case c.inner.Kind == schema.Bool:
		return &typedArray[pgtype.Bool]{oid: pgtype.BoolOID,
			of: func(v any) pgtype.Bool {
				b, ok := v.(bool)
				return pgtype.Bool{Bool: b, Valid: ok}
			},
			enc: func(dst []byte, v pgtype.Bool) ([]byte, bool) {
				if v.Bool {
					return append(dst, 1), v.Valid
				}
				return append(dst, 0), v.Valid
			}}
	default: // string
		return &typedArray[pgtype.Text]{oid: pgtype.TextOID,
			of: func(v any) pgtype.Text {
				s, ok := v.(string)
				return pgtype.Text{String: s, Valid: ok}
			},
			enc: func(dst []byte, v pgtype.Text) ([]byte, bool) {
				return append(dst, v.String...), v.Valid
			}}
	}
}

func bytesOf(v any) []byte {
	b, _ := v.([]byte)
	return b
}
