package pipeline

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadOptions tune Load.
type LoadOptions struct {
	// Params overrides `params:` values: each value is read as YAML (`5000` is a number). A
	// name that the file's params lack is an error of type *ParamError.
	Params map[string]string
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
}

// Load reads, validates and type-checks a pipeline file, compiling its JavaScript (never
// opening data files). It returns *ReadError when the file cannot be read, *ParamError for an
// unknown --param, and Diagnostics (every error found, in file order) when it is invalid.
// Warnings alone do not fail a load; they are in the returned pipeline's Warnings.
func Load(path string, opts LoadOptions) (*Pipeline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ReadError{Path: path, Err: err}
	}
	return Parse(path, data, opts)
}

// Parse is Load on bytes already read; file names the file in diagnostics and resolves
// relative paths.
func Parse(file string, data []byte, opts LoadOptions) (*Pipeline, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, &ReadError{Path: file, Err: err}
	}
	l := &loader{
		file: file,
		p: &Pipeline{
			File:     abs,
			Dir:      filepath.Dir(abs),
			Raw:      data,
			Nodes:    map[string]*Node{},
			compiled: &compiled{},
		},
	}
	l.aux, l.split, l.quotedEnv = map[*Node]*aux{}, map[*yaml.Node]bool{}, map[*yaml.Node]bool{}
	l.unresolved = map[*yaml.Node]bool{}
	l.lines = strings.Split(string(data), "\n")
	lookupEnv := opts.LookupEnv
	if lookupEnv == nil {
		lookupEnv = os.LookupEnv
	}
	l.lookupEnv = func(name string) (string, bool) {
		v, ok := lookupEnv(name)
		if l.p.Env == nil {
			l.p.Env = map[string]*string{}
		}
		l.p.Env[name] = nil
		if ok {
			l.p.Env[name] = &v
		}
		return v, ok
	}
	if err := l.load(opts.Params); err != nil {
		return nil, err
	}
	var unresolved []Pos
	for n := range l.unresolved {
		unresolved = append(unresolved, posOf(n))
	}
	l.diags = l.diags.afterEnv(unresolved)
	l.diags.sort()
	if l.diags.HasErrors() {
		return nil, l.diags
	}
	l.p.Warnings = l.diags
	return l.p, nil
}

// loader holds the state of one Parse: the pipeline being filled and the findings so far.
type loader struct {
	file      string // the file as named by the caller, for diagnostics
	lookupEnv func(string) (string, bool)
	p         *Pipeline
	diags     Diagnostics
	lines     []string // the file's lines, for positions that YAML does not give
	// streams maps every readable stream uid to its producer (late outputs included).
	streams map[string]stream
	aux     map[*Node]*aux
	split   map[*yaml.Node]bool // halves of a type expression split by YAML, already reported
	// quotedEnv holds the quoted scalars that held a ${VAR}: they stay strings, but where a
	// number or a boolean is expected their text is read as one ("${PAR:-2}" inside a
	// one-line {...}, where YAML needs the quotes).
	quotedEnv map[*yaml.Node]bool
	// unresolved holds the scalars whose ${VAR} could not be substituted (already reported):
	// their text is the reference itself, so nothing more is checked about them.
	unresolved map[*yaml.Node]bool
}

// load runs every phase, collecting findings. It returns an error only for what is not a
// finding of the file: an unknown --param.
func (l *loader) load(params map[string]string) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(l.p.Raw, &doc); err != nil {
		l.yamlError(err)
		return nil
	}
	if len(doc.Content) == 0 {
		l.errorf(Pos{1, 1}, CodeValue, "the pipeline file is empty")
		return nil
	}
	root := doc.Content[0]
	if !l.resolveAliases(root) {
		return nil
	}
	l.substituteEnv(root)
	if err := l.top(root, params); err != nil {
		return err
	}
	l.sortFuncs()
	l.graph()
	l.compileJS()
	return nil
}

// errorf records an error at pos.
func (l *loader) errorf(pos Pos, code, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{File: l.file, Line: pos.Line, Col: pos.Col,
		Severity: SeverityError, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// warnf records a warning at pos.
func (l *loader) warnf(pos Pos, code, format string, args ...any) {
	l.diags = append(l.diags, Diagnostic{File: l.file, Line: pos.Line, Col: pos.Col,
		Severity: SeverityWarning, Code: code, Msg: fmt.Sprintf(format, args...)})
}

// resolvePath makes a path from the file absolute against the file's directory.
func (l *loader) resolvePath(p string) string {
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(l.p.Dir, p)
}

// posOf is the position of a YAML node.
func posOf(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

// sortFuncs puts Funcs in file order and numbers them.
func (l *loader) sortFuncs() {
	slices.SortStableFunc(l.p.Funcs, func(a, b *Code) int {
		return cmp.Or(cmp.Compare(a.Pos.Line, b.Pos.Line), cmp.Compare(a.Pos.Col, b.Pos.Col))
	})
	for i, c := range l.p.Funcs {
		c.Index = i
	}
}

// maxExpandedNodes bounds the size of the file once its aliases are expanded: a pipeline is a
// few hundred nodes, and a "billion laughs" of a few hundred bytes, whose aliases of aliases
// expand exponentially, would exhaust the memory of whatever walks it.
const maxExpandedNodes = 100000

// resolveAliases replaces every alias (*name) by the node it names, so that the rest of the
// loader sees plain mappings, sequences and scalars. An anchor comes before its aliases, so
// its node is already resolved when an alias is replaced. It counts the nodes of the tree as
// if every alias were copied; past maxExpandedNodes it reports the alias that crossed the
// bound and returns false (the tree must not be walked then).
func (l *loader) resolveAliases(root *yaml.Node) bool {
	sizes := map[*yaml.Node]int{} // expanded size of every node resolved so far
	var walk func(n *yaml.Node) (int, bool)
	walk = func(n *yaml.Node) (int, bool) {
		size := 1
		for i, c := range n.Content {
			if c.Kind == yaml.AliasNode && c.Alias != nil {
				n.Content[i] = c.Alias
				s, ok := sizes[c.Alias]
				if !ok { // an alias of a node being resolved: yaml.v3 refuses these, be safe
					l.errorf(posOf(c), CodeYAML, "invalid YAML: alias *%s refers to a node that contains it", c.Value)
					return 0, false
				}
				if size += s; size > maxExpandedNodes {
					l.errorf(posOf(c), CodeYAML,
						"invalid YAML: the aliases expand the file to more than %d nodes (alias *%s here); write the values out instead", maxExpandedNodes, c.Value)
					return 0, false
				}
				continue
			}
			s, ok := walk(c)
			if !ok {
				return 0, false
			}
			size += s
		}
		sizes[n] = size
		return size, true
	}
	size, ok := walk(root)
	if ok && size > maxExpandedNodes {
		l.errorf(posOf(root), CodeYAML, "the file has more than %d YAML nodes", maxExpandedNodes)
		return false
	}
	return ok
}
