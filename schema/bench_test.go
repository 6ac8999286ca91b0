package schema

import (
	"encoding/json"
	"testing"
)

var (
	benchJSON   = []byte(`{"type":"motion","room":17,"time":1700000000000}`)
	benchRecord = MustParse("{type: string, room: int, time: int}")
	benchValue  = map[string]any{"type": "motion", "room": int64(17), "time": int64(1700000000000)}
	benchTuple  = MustParse("(bool, int)")
	benchPair   = []any{true, int64(1700000000000)}
)

func BenchmarkDecodeJSON(b *testing.B) {
	b.Run("schema", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := benchRecord.DecodeJSON(benchJSON); err != nil {
				b.Fatal(err)
			}
		}
	})
	// A decoder of the lines of one file: repeated short strings are shared.
	b.Run("JSONDecoder", func(b *testing.B) {
		dec := benchRecord.NewJSONDecoder()
		b.ReportAllocs()
		for b.Loop() {
			if _, err := dec.Decode(benchJSON); err != nil {
				b.Fatal(err)
			}
		}
	})
	// Baseline: plain encoding/json into a map, no checking.
	b.Run("encoding-json-map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(benchJSON, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The alternative design: encoding/json, then Convert.
	b.Run("encoding-json+Convert", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m map[string]any
			if err := json.Unmarshal(benchJSON, &m); err != nil {
				b.Fatal(err)
			}
			if _, err := benchRecord.Convert(m); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	for b.Loop() {
		var err error
		if buf, err = benchRecord.AppendJSON(buf[:0], benchValue); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBinary(b *testing.B) {
	for _, c := range []struct {
		name string
		typ  *Type
		v    any
	}{{"tuple", benchTuple, benchPair}, {"record", benchRecord, benchValue}} {
		enc, err := c.typ.AppendBinary(nil, c.v)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("Append/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			buf := make([]byte, 0, 64)
			for b.Loop() {
				if buf, err = c.typ.AppendBinary(buf[:0], c.v); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Decode/"+c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := c.typ.DecodeBinary(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkConvertCanonical(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := benchRecord.Convert(benchValue); err != nil {
			b.Fatal(err)
		}
	}
}
