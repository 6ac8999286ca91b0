package connectors

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/pipectl/pipectl/schema"
)

// csvFormat reads CSV files: a header line names the columns, each later line is a record whose
// cells are converted to the types of the schema's fields of those names. Columns that are not
// fields are ignored; a field without a column is null, which only an optional field accepts.
// Quoted cells ("a,b", "say ""hi""") are read; a quoted cell may not span lines.
type csvFormat struct{ t *schema.Type }

func (f csvFormat) hasHeader() bool { return true }

// csvColumn is where a column's cells go: the schema field of its header name.
type csvColumn struct {
	field int // index in the record type's fields; -1: not a field, ignored
}

// csvDecoder decodes the records of one CSV file.
type csvDecoder struct {
	t     *schema.Type
	cols  []csvColumn
	cells []string // reused between lines
}

func (f csvFormat) decoder(header []byte) (decoder, error) {
	names, err := splitCSV(header, nil)
	if err != nil {
		return nil, fmt.Errorf("csv header: %w", err)
	}
	d := &csvDecoder{t: f.t, cols: make([]csvColumn, len(names))}
	seen := make([]bool, len(f.t.Fields))
	for i, name := range names {
		d.cols[i].field = -1
		for j, fld := range f.t.Fields {
			if fld.Name == name {
				if seen[j] {
					return nil, fmt.Errorf("csv header: column %q appears twice", name)
				}
				seen[j] = true
				d.cols[i].field = j
			}
		}
	}
	for j, fld := range f.t.Fields {
		if !seen[j] && fld.Type.Kind != schema.Optional {
			return nil, fmt.Errorf("csv header: no column for field %q of the schema (header: %s)", fld.Name, header)
		}
	}
	return d, nil
}

func (d *csvDecoder) decode(line []byte) (any, error) {
	cells, err := splitCSV(line, d.cells[:0])
	d.cells = cells
	if err != nil {
		return nil, err
	}
	if len(cells) != len(d.cols) {
		return nil, fmt.Errorf("%d cells, the header has %d columns", len(cells), len(d.cols))
	}
	rec := make(map[string]any, len(d.t.Fields))
	for _, fld := range d.t.Fields {
		rec[fld.Name] = nil // fields without a column (checked optional by the header)
	}
	for i, c := range d.cols {
		if c.field < 0 {
			continue
		}
		fld := d.t.Fields[c.field]
		v, err := fld.Type.ParseText(cells[i])
		if err != nil {
			var ve *schema.ValueError
			if errors.As(err, &ve) { // the field's path, as for a JSON record: $.room
				ve.Path = "$." + fld.Name + strings.TrimPrefix(ve.Path, "$")
			}
			return nil, fmt.Errorf("column %q: %w", fld.Name, err)
		}
		// Go reads "NaN" and "Inf" as floats, but no output can carry them: a bad record here,
		// not a failure at the sink.
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return nil, fmt.Errorf("column %q: %q is not a finite number", fld.Name, cells[i])
		}
		rec[fld.Name] = v
	}
	return rec, nil
}

var errCSVQuote = errors.New("unterminated quoted cell")

// splitCSV splits one CSV line (RFC 4180, comma separated, no line break inside a cell) into
// cells appended to dst.
func splitCSV(line []byte, dst []string) ([]string, error) {
	for i := 0; ; {
		if i < len(line) && line[i] == '"' {
			cell, n, err := quotedCell(line[i:])
			if err != nil {
				return dst, err
			}
			dst = append(dst, cell)
			i += n
			if i < len(line) && line[i] != ',' {
				return dst, fmt.Errorf("unexpected %q after a quoted cell", line[i])
			}
		} else {
			j := i
			for j < len(line) && line[j] != ',' {
				j++
			}
			dst = append(dst, string(line[i:j]))
			i = j
		}
		if i >= len(line) {
			return dst, nil
		}
		i++ // the comma
	}
}

// quotedCell reads a quoted cell at the start of b and returns its text and length.
func quotedCell(b []byte) (string, int, error) {
	var text []byte
	for i := 1; i < len(b); i++ {
		if b[i] != '"' {
			text = append(text, b[i])
			continue
		}
		if i+1 < len(b) && b[i+1] == '"' {
			text = append(text, '"')
			i++
			continue
		}
		return string(text), i + 1, nil
	}
	return "", 0, errCSVQuote
}
