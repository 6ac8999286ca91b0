package pipeline

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/pipectl/pipectl/schema"

	"gopkg.in/yaml.v3"
)

// params reads the `params:` mapping into canonical values, in file order.
func (l *loader) params(n *yaml.Node) {
	if n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		l.errorf(posOf(n), CodeValue, "params must be a mapping of name: value, got %s", describe(n))
		return
	}
	l.p.Params = make(map[string]any, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := l.p.Params[k.Value]; dup {
			l.errorf(posOf(k), CodeDuplicate, "duplicate param %q", k.Value)
			continue
		}
		if !identRE.MatchString(k.Value) {
			l.errorf(posOf(k), CodeValue, "param name %q must be a JavaScript identifier (it is read as params.NAME)", k.Value)
		}
		var raw any
		if err := v.Decode(&raw); err != nil {
			l.errorf(posOf(v), CodeValue, "param %q: %v", k.Value, err)
			continue
		}
		val, err := canonical(raw)
		if err != nil {
			l.errorf(posOf(v), CodeValue, "param %q: %v", k.Value, err)
			continue
		}
		l.p.Params[k.Value] = val
		l.p.ParamOrder = append(l.p.ParamOrder, k.Value)
	}
}

// overrideParams applies --param values, each read as YAML; a name the file does not
// declare is a *ParamError (the first one in name order).
func (l *loader) overrideParams(overrides map[string]string) error {
	names := make([]string, 0, len(overrides))
	for name := range overrides {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if _, ok := l.p.Params[name]; !ok {
			return &ParamError{Name: name}
		}
	}
	for _, name := range names {
		v, err := typedParam(name, l.p.Params[name], overrides[name])
		if err != nil {
			return err
		}
		l.p.Params[name] = v
	}
	return nil
}

// typedParam reads a --param value as the type of the value the file declares: a number for a
// number, a boolean for a boolean, a list for a list, a mapping for a mapping, the text as it
// is for a string; anything for null.
func typedParam(name string, declared any, text string) (any, error) {
	if _, ok := declared.(string); ok {
		return text, nil
	}
	v := ParamValue(text)
	want := ""
	switch declared.(type) {
	case int64, float64:
		if _, ok := v.(int64); !ok {
			if _, ok := v.(float64); !ok {
				want = "a number"
				if integerRE.MatchString(strings.TrimSpace(text)) { // an integer ParamValue refused
					want = "a number within ±(2^53-1) (JavaScript would round it)"
				}
			}
		}
	case bool:
		if _, ok := v.(bool); !ok {
			want = "a boolean (true or false)"
		}
	case []any:
		if _, ok := v.([]any); !ok {
			want = "a list"
		}
	case map[string]any:
		if _, ok := v.(map[string]any); !ok {
			want = "a mapping"
		}
	}
	if want != "" {
		return nil, &ParamError{Name: name, Value: text, Want: want}
	}
	return v, nil
}

// integerRE matches the text of an integer.
var integerRE = regexp.MustCompile(`^[-+]?[0-9]+$`)

// ParamValue reads a --param value as YAML (`5000` is a number, `true` a bool, `[1, 2]` a
// list); text that is not valid YAML stays a string.
func ParamValue(text string) any {
	var raw any
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		return text
	}
	if v, err := canonical(raw); err == nil {
		return v
	}
	return text
}

// safeInt refuses an integer that JavaScript numbers cannot hold exactly.
func safeInt(i int64) (any, error) {
	if i < -schema.MaxSafeInt || i > schema.MaxSafeInt {
		return nil, fmt.Errorf("integer %d is beyond ±(2^53-1), which JavaScript would round: write it as a string", i)
	}
	return i, nil
}

// canonical converts a value decoded from YAML into the JSON-like canonical form: int64,
// float64, string, bool, nil, []any and map[string]any.
func canonical(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool, string, float64:
		return x, nil
	case int64:
		return safeInt(x)
	case int:
		return safeInt(int64(x))
	case uint64:
		return nil, fmt.Errorf("integer %d is beyond ±(2^53-1), which JavaScript would round: write it as a string", x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := canonical(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := canonical(e)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			c, err := canonical(e)
			if err != nil {
				return nil, err
			}
			out[fmt.Sprint(k)] = c
		}
		return out, nil
	}
	return fmt.Sprint(v), nil
}
