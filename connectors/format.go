package connectors

import (
	"errors"
	"fmt"

	"github.com/pipectl/pipectl/schema"
)

// decoder turns one line of input into a canonical record of the source's schema.
type decoder interface {
	decode(line []byte) (any, error)
}

// format reads one input format: it makes the decoder of one file (or stream).
type format interface {
	// hasHeader reports whether the first line of each file is a header, not a record.
	hasHeader() bool
	// decoder returns the decoder for a file whose header line is header (nil without one).
	decoder(header []byte) (decoder, error)
}

// newFormat returns the format of a file or stdin source.
func newFormat(name string, t *schema.Type) (format, error) {
	if t == nil {
		return nil, errors.New("no schema")
	}
	switch name {
	case "jsonl", "":
		return jsonlFormat{t}, nil
	case "csv":
		if t.Kind != schema.Record {
			return nil, fmt.Errorf("format csv needs a record schema, not %s", t)
		}
		return csvFormat{t}, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want jsonl or csv)", name)
	}
}

// jsonlFormat is one JSON document per line.
type jsonlFormat struct{ t *schema.Type }

func (f jsonlFormat) hasHeader() bool { return false }
func (f jsonlFormat) decoder([]byte) (decoder, error) {
	return jsonlDecoder{f.t.NewJSONDecoder()}, nil
}

// jsonlDecoder decodes the lines of one file, sharing repeated short strings between them.
type jsonlDecoder struct{ dec *schema.JSONDecoder }

func (d jsonlDecoder) decode(line []byte) (any, error) { return d.dec.Decode(line) }
