package schema

// Migrate converts a canonical value of old into one of new under the rules of Evolve (for
// types whose evolution is compatible or compatible after migration): added optional fields
// get nil, removed fields are dropped, int widens to float, T becomes T?, tuples, lists and
// maps convert element-wise. A value or a type change that no rule converts (an incompatible
// evolution) is a *ValueError naming the path; Migrate(t, t, v) returns v itself.
func Migrate(old, new *Type, v any) (any, error) {
	out, err := migrate(old, new, v)
	if err != nil {
		return nil, rootPath(err)
	}
	return out, nil
}

// anyType is the type `any`, for converting values into it.
var anyType = ScalarOf(Any)

func migrate(old, new *Type, v any) (any, error) {
	if old.Equal(new) {
		return v, nil
	}
	switch {
	case new.Kind == Any:
		out, _, err := convAny(anyType, v, 0)
		return out, err
	case old.Kind == Optional && new.Kind == Optional:
		if v == nil {
			return nil, nil
		}
		return migrate(old.Elem, new.Elem, v)
	case new.Kind == Optional && old.Kind != Any:
		return migrate(old, new.Elem, v)
	case old.Kind == Int && new.Kind == Float:
		if i, ok := v.(int64); ok {
			return float64(i), nil
		}
	case old.Kind != new.Kind:
	case old.Kind == Record:
		if m, ok := v.(map[string]any); ok {
			return migrateRecord(old, new, m)
		}
	case old.Kind == Tuple && len(old.Elems) == len(new.Elems), old.Kind == List:
		if s, ok := v.([]any); ok && (old.Kind == List || len(s) == len(old.Elems)) {
			out := make([]any, len(s))
			for i, x := range s {
				var err error
				if out[i], err = migrate(old.elemAt(i), new.elemAt(i), x); err != nil {
					return nil, prefixPath(err, indexSeg(i))
				}
			}
			return out, nil
		}
	case old.Kind == Map && old.Key.Equal(new.Key):
		if m, ok := v.(map[string]any); ok {
			out := make(map[string]any, len(m))
			for k, x := range m {
				var err error
				if out[k], err = migrate(old.Elem, new.Elem, x); err != nil {
					return nil, prefixPath(err, keySeg(k))
				}
			}
			return out, nil
		}
	}
	return nil, &ValueError{Expected: new.String(), Got: shortJSON(v), Detail: "no rule converts " + old.String() + "; declare a migrate function"}
}

func migrateRecord(old, new *Type, m map[string]any) (any, error) {
	out := make(map[string]any, len(new.Fields))
	for _, f := range new.Fields {
		ot := old.field(f.Name)
		switch {
		case ot != nil:
			x, err := migrate(ot, f.Type, m[f.Name])
			if err != nil {
				return nil, prefixPath(err, fieldSeg(f.Name))
			}
			out[f.Name] = x
		case f.Type.Kind == Optional || f.Type.Kind == Any:
			out[f.Name] = nil
		default:
			return nil, prefixPath(&ValueError{Expected: f.Type.String(), Got: "nothing",
				Detail: "required field added; declare a migrate function that sets it"}, fieldSeg(f.Name))
		}
	}
	return out, nil
}

// field returns the type of the record field name, or nil.
func (t *Type) field(name string) *Type {
	for _, f := range t.Fields {
		if f.Name == name {
			return f.Type
		}
	}
	return nil
}
