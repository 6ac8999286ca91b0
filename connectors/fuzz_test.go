package connectors

import (
	"bytes"
	"testing"

	"github.com/pipectl/pipectl/schema"
)

// Input records come from untrusted files: the fuzz targets feed the JSONL and CSV decoders
// arbitrary lines, which must decode to a value of the schema or fail with an error, never
// panic. Run each bounded:
//
//	go test ./connectors -run '^$' -fuzz FuzzJSONLRecord -fuzztime 15s
//	go test ./connectors -run '^$' -fuzz FuzzCSVRecord -fuzztime 15s

// fuzzSchema has a field of every kind a record may hold.
const fuzzSchema = "{s: string, n: int, x: float?, b: bool, l: list<int>, m: map<string, float>, t: (int, string?), r: {a: bytes?}?}"

func FuzzJSONLRecord(f *testing.F) {
	t, err := schema.Parse(fuzzSchema)
	if err != nil {
		f.Fatal(err)
	}
	form, err := newFormat("jsonl", t)
	if err != nil {
		f.Fatal(err)
	}
	dec, err := form.decoder(nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"s":"a","n":1,"x":1.5,"b":true,"l":[1,2],"m":{"k":2},"t":[1,null],"r":{"a":"AAE="}}`))
	f.Add([]byte(`{"s":"a","n":9007199254740993,"b":false,"l":[],"m":{},"t":[1,"z"],"r":null}`))
	f.Add([]byte("\ufeff{}"))
	f.Add([]byte(`{"l":[[[[[[[[[[[[]]]]]]]]]]]}`))
	f.Fuzz(func(tt *testing.T, line []byte) {
		rec, err := dec.decode(line)
		if err != nil {
			return
		}
		if _, err := t.AppendJSON(nil, rec); err != nil {
			tt.Fatalf("decoded %q into %v, which does not encode: %v", line, rec, err)
		}
	})
}

func FuzzCSVRecord(f *testing.F) {
	t, err := schema.Parse("{name: string, n: int, x: float, ok: bool, note: string?}")
	if err != nil {
		f.Fatal(err)
	}
	form, err := newFormat("csv", t)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("ok,n,name,x,note"), []byte(`true,1,"a, b",1.5,`))
	f.Add([]byte("name,n,x,ok"), []byte(`"say ""hi""",-2,1e308,false`))
	f.Add([]byte("\ufeffname,n,x,ok,extra"), []byte(`x,1,NaN,true,"unterminated`))
	f.Fuzz(func(tt *testing.T, header, line []byte) {
		if bytes.ContainsAny(header, "\n") || bytes.ContainsAny(line, "\n") {
			return // one line each
		}
		dec, err := form.decoder(header)
		if err != nil {
			return
		}
		rec, err := dec.decode(line)
		if err != nil {
			return
		}
		if _, err := t.AppendJSON(nil, rec); err != nil {
			tt.Fatalf("decoded %q into %v, which does not encode: %v", line, rec, err)
		}
	})
}
