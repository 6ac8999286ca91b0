package ui

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseGraph(t *testing.T) {
	for _, tc := range []struct {
		name   string
		yaml   string
		layers string // uid:layer in file order
		edges  string // from>to, late ones from~>to
	}{
		{
			name: "chain",
			yaml: `
sources: [{uid: a, kind: file}]
operators: [{uid: b, kind: map, input: a}]
sinks: [{uid: c, kind: stdout, input: b}]`,
			layers: "a:0 b:1 c:2",
			edges:  "a>b b>c",
		},
		{
			name: "union of a short and a long branch",
			yaml: `
sources: [{uid: s1, kind: file}, {uid: s2, kind: generator}]
operators:
  - {uid: m, kind: map, input: s1}
  - {uid: f, kind: filter, input: m}
  - {uid: u, kind: union, inputs: [f, s2]}
sinks: [{uid: out, kind: file, input: u}]`,
			layers: "s1:0 s2:0 m:1 f:2 u:3 out:4",
			edges:  "s1>m m>f f>u s2>u u>out",
		},
		{
			name: "window with late output and a join",
			yaml: `
sources: [{uid: l, kind: file}, {uid: r, kind: file}]
operators:
  - {uid: w, kind: window, input: l, late_output: late}
  - {uid: j, kind: window_join, inputs: [w, r]}
sinks:
  - {uid: main, kind: stdout, input: j}
  - {uid: dlq, kind: file, input: late}`,
			layers: "l:0 r:0 w:1 j:2 main:3 dlq:2",
			edges:  "l>w w>j r>j j>main w~>dlq",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := parseGraph([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			var layers, edges []string
			for _, n := range g.Nodes {
				layers = append(layers, fmt.Sprintf("%s:%d", n.UID, n.Layer))
			}
			for _, e := range g.Edges {
				arrow := ">"
				if e.Late {
					arrow = "~>"
				}
				edges = append(edges, e.From+arrow+e.To)
			}
			if got := strings.Join(layers, " "); got != tc.layers {
				t.Errorf("layers %q, want %q", got, tc.layers)
			}
			if got := strings.Join(edges, " "); got != tc.edges {
				t.Errorf("edges %q, want %q", got, tc.edges)
			}
		})
	}
}

func TestParseGraphErrors(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"not yaml", "sources: [", "read the pipeline's graph"},
		{"unknown input", "sinks: [{uid: c, kind: stdout, input: nowhere}]", `"c" reads "nowhere"`},
		{"cycle", "operators: [{uid: a, kind: map, input: b}, {uid: b, kind: map, input: a}]", "cycle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseGraph([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
