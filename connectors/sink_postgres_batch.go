package connectors

import (
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

// pgArray is one column of a batch, held in the Go type that pgx sends as a binary array (the
// upsert's parameter) or binary COPY values: the server parses no text. Its values come from
// pgColumn.value, so their dynamic types are already checked.
type pgArray interface {
	add(v any)        // appends a value
	set(i int, v any) // replaces the i-th value
	at(i int) any     // the i-th value, for COPY
	param() any       // the whole column, for the upsert
	reset()
}

// typedArray is a pgArray of values of type T, made from canonical values by of.
type typedArray[T any] struct {
	vals []T
	of   func(v any) T
}

func (a *typedArray[T]) add(v any)        { a.vals = append(a.vals, a.of(v)) }
func (a *typedArray[T]) set(i int, v any) { a.vals[i] = a.of(v) }
func (a *typedArray[T]) at(i int) any     { return a.vals[i] }
func (a *typedArray[T]) param() any       { return a.vals }
func (a *typedArray[T]) reset()           { clear(a.vals); a.vals = a.vals[:0] }

// newArray makes the batch column of c. Nullable scalars use pgx's nullable types; bytes and
// JSON text are byte slices (nil is NULL).
func (c pgColumn) newArray() pgArray {
	switch {
	case c.json || c.inner.Kind == schema.Bytes:
		return &typedArray[[]byte]{of: func(v any) []byte {
			b, _ := v.([]byte)
			return b
		}}
	case c.inner.Kind == schema.Int:
		return &typedArray[pgtype.Int8]{of: func(v any) pgtype.Int8 {
			n, ok := v.(int64)
			return pgtype.Int8{Int64: n, Valid: ok}
		}}
	case c.inner.Kind == schema.Float:
		return &typedArray[pgtype.Float8]{of: func(v any) pgtype.Float8 {
			f, ok := v.(float64)
			return pgtype.Float8{Float64: f, Valid: ok}
		}}
	case c.inner.Kind == schema.Bool:
		return &typedArray[pgtype.Bool]{of: func(v any) pgtype.Bool {
			b, ok := v.(bool)
			return pgtype.Bool{Bool: b, Valid: ok}
		}}
	default: // string
		return &typedArray[pgtype.Text]{of: func(v any) pgtype.Text {
			s, ok := v.(string)
			return pgtype.Text{String: s, Valid: ok}
		}}
	}
}
