package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/pipectl/pipectl/connectors"
)

// JSONSchema returns a JSON Schema (draft 2020-12) of the pipeline file, for editors
// (yaml-language-server) and CI linters. It is generated from the same tables the loader
// validates with — the top-level keys, each operator kind's keys and the connectors'
// registrations — so it lists exactly the keys validate accepts. Any scalar may also be a
// string holding ${VAR} (substituted before validation). Types, JS and graph checks stay
// validate's job: the schema describes shapes.
func JSONSchema() ([]byte, error) {
	defs := map[string]any{
		"env":      map[string]any{"type": "string", "pattern": `\$\{`, "description": "a ${VAR} or ${VAR:-default} replaced from the environment"},
		"duration": map[string]any{"type": "string", "pattern": `^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h|d))+$|^0$|\$\{`, "description": "a duration such as 500ms, 10s, 1m, 24h or 7d"},
		"type":     map[string]any{"description": "a type: an expression such as \"{room: int, time: int}\" or \"list<string>\", a mapping of fields, or a sequence (a tuple)", "type": []string{"string", "object", "array"}},
		"function": map[string]any{"type": "string", "description": "a JavaScript function (e => …) or the name of a function defined in script"},
		"source":   itemSchema(sourceCommon, sourceKinds, connectors.RoleSource, "source"),
		"operator": itemSchema(operatorCommon, operatorKinds, -1, "operator"),
		"sink":     itemSchema(sinkCommon, sinkKinds, connectors.RoleSink, "sink"),
	}
	props := map[string]any{}
	for _, role := range []string{"sources", "operators", "sinks"} {
		props[role] = map[string]any{"type": "array", "items": ref(role[:len(role)-1])}
	}
	for _, k := range topKeys {
		if props[k] != nil {
			continue
		}
		s, ok := topKeySchemas[k]
		if !ok {
			return nil, fmt.Errorf("pipeline: top-level key %q has no JSON Schema", k)
		}
		props[k] = s
	}
	for _, role := range []map[string]kindSpec{sourceKinds, operatorKinds, sinkKinds} {
		for kind, spec := range role {
			for _, k := range allowedKeys(nil, spec) {
				if _, ok := itemKeySchemas[k]; !ok && connectorKey(kind, k) == nil {
					return nil, fmt.Errorf("pipeline: key %q of kind %q has no JSON Schema", k, kind)
				}
			}
		}
	}
	doc := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"title":                "pipectl pipeline",
		"description":          "A pipectl pipeline file: sources, operators and sinks with JavaScript functions and typed state.",
		"type":                 "object",
		"required":             []string{"name", "sources", "sinks"},
		"additionalProperties": false,
		"properties":           props,
		"$defs":                defs,
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// itemSchema is the schema of one source, operator or sink: uid and kind, then per kind (an
// if/then on kind) exactly the keys that kind takes. connRole is the connectors' role for
// sources and sinks (their options come from the registrations), -1 for operators.
func itemSchema(common []string, kinds map[string]kindSpec, connRole connectors.Role, what string) map[string]any {
	names := kindNames(kinds)
	var cases []any
	for _, kind := range names {
		spec := kinds[kind]
		props := map[string]any{}
		for _, k := range allowedKeys(common, spec) {
			if connRole >= 0 {
				if ck := connectorKeyOf(connRole, kind, k); ck != nil {
					props[k] = optionSchema(*ck)
					continue
				}
			}
			props[k] = itemKeySchemas[k]
		}
		props["kind"] = map[string]any{"const": kind}
		cases = append(cases, map[string]any{
			"if":   map[string]any{"properties": map[string]any{"kind": map[string]any{"const": kind}}, "required": []string{"kind"}},
			"then": map[string]any{"properties": props, "required": append([]string{"uid", "kind"}, spec.required...), "additionalProperties": false},
		})
	}
	return map[string]any{
		"type":        "object",
		"description": "a " + what,
		"required":    []string{"uid", "kind"},
		"properties": map[string]any{
			"uid":  itemKeySchemas["uid"],
			"kind": orEnv(map[string]any{"enum": names}),
		},
		"allOf": cases,
	}
}

// connectorKey finds the declaration of a connector option by kind and name, in either role.
func connectorKey(kind, name string) *connectors.Key {
	if k := connectorKeyOf(connectors.RoleSource, kind, name); k != nil {
		return k
	}
	return connectorKeyOf(connectors.RoleSink, kind, name)
}

func connectorKeyOf(role connectors.Role, kind, name string) *connectors.Key {
	spec, ok := connectors.Lookup(role, kind)
	if !ok {
		return nil
	}
	i := slices.IndexFunc(spec.Keys, func(k connectors.Key) bool { return k.Name == name })
	if i < 0 {
		return nil
	}
	return &spec.Keys[i]
}

// optionSchema is the schema of one connector option.
func optionSchema(k connectors.Key) map[string]any {
	var s map[string]any
	switch k.Type {
	case connectors.TypeBool:
		s = orEnv(map[string]any{"type": "boolean"})
	case connectors.TypeInt:
		s = orEnv(map[string]any{"type": "integer", "minimum": 0})
	case connectors.TypeNumber:
		s = orEnv(map[string]any{"type": "number", "exclusiveMinimum": 0})
	case connectors.TypeDuration:
		s = ref("duration")
	case connectors.TypeEnum:
		s = orEnv(map[string]any{"enum": k.Enum})
	case connectors.TypeStringList:
		s = map[string]any{"anyOf": []any{
			map[string]any{"type": "array", "items": map[string]any{"type": "string"}, "minItems": 1},
			map[string]any{"type": "string", "description": "comma-separated"},
		}}
	case connectors.TypeObject:
		props := map[string]any{}
		var req []string
		for _, sk := range k.Keys {
			props[sk.Name] = optionSchema(sk)
			if sk.Required {
				req = append(req, sk.Name)
			}
		}
		s = map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(req) > 0 {
			s["required"] = req
		}
	case connectors.TypeFunction:
		s = ref("function")
	case connectors.TypePathOrFunction:
		s = map[string]any{"type": []string{"string", "integer"}, "description": "a field path (room, user.id) or a JavaScript function"}
	default:
		s = map[string]any{"type": "string"}
	}
	out := map[string]any{"description": k.Doc}
	for key, v := range s {
		out[key] = v
	}
	if k.Default != "" {
		out["default"] = k.Default
	}
	return out
}

func ref(def string) map[string]any { return map[string]any{"$ref": "#/$defs/" + def} }

// orEnv lets a non-string scalar also be written as a ${VAR} string.
func orEnv(s map[string]any) map[string]any {
	return map[string]any{"anyOf": []any{s, ref("env")}}
}

// described returns a copy of s with a description.
func described(s map[string]any, doc string) map[string]any {
	out := maps.Clone(s) // s may be shared (intSchema): each key gets its own description
	out["description"] = doc
	return out
}

var (
	intSchema       = orEnv(map[string]any{"type": "integer", "minimum": 1})
	stringSchema    = map[string]any{"type": "string"}
	uidSchema       = map[string]any{"type": "string", "pattern": `^[A-Za-z0-9._-]+$|\$\{`}
	uidListSchema   = map[string]any{"type": "array", "items": uidSchema}
	selectorSchema  = map[string]any{"type": []string{"string", "integer"}, "description": "a field path (room, user.id, 0) or a JavaScript function"}
	stateDeclSchema = map[string]any{"anyOf": []any{ref("type"), map[string]any{
		"type": "object", "required": []string{"type"}, "additionalProperties": false,
		"properties": map[string]any{
			"type":         ref("type"),
			"kind":         map[string]any{"enum": []string{"value", "list", "map"}},
			"map_key":      map[string]any{"enum": []string{"string", "int"}},
			"ttl":          ref("duration"),
			"migrate":      ref("function"),
			"migrate_from": stringSchema,
		},
	}}}
)

// topKeySchemas holds the schema of every top-level key (a test checks that topKeys has
// no key without one).
var topKeySchemas = map[string]any{
	"name":             described(map[string]any{"type": "string", "pattern": `^([a-z0-9_.-]+|.*\$\{.*)$`}, "the pipeline's name: a-z, 0-9, '-', '_', '.'"),
	"parallelism":      described(intSchema, "default subtasks per operator"),
	"max_parallelism":  described(intSchema, "number of key groups, fixed for the life of the state"),
	"state_backend":    described(orEnv(map[string]any{"enum": []string{"badger", "memory"}}), "where keyed state lives"),
	"memory":           described(map[string]any{"type": "string", "pattern": `^[0-9]+(KiB|MiB|GiB)$|\$\{`}, "the job's memory budget, e.g. 512MiB"),
	"function_timeout": described(ref("duration"), "per call of a JavaScript function"),
	"buffer_timeout":   described(ref("duration"), "how long a partly filled batch or sink buffer may wait while records flow"),
	"savepoint_dir":    described(map[string]any{"type": "string"}, "where savepoints go"),
	"checkpoint": map[string]any{"type": "object", "required": []string{"interval"}, "additionalProperties": false,
		"properties": map[string]any{"interval": ref("duration")}},
	"restart": map[string]any{"type": "object", "additionalProperties": false,
		"properties": map[string]any{"attempts": intSchema, "delay": ref("duration")}},
	"params": described(map[string]any{"type": "object"}, "values visible to every function as params.NAME"),
	"script": described(map[string]any{"type": "string"}, "JavaScript shared by all functions"),
}

// itemKeySchemas holds the schema of every key of sources, operators and sinks that is not a
// connector option (a test checks that no kind takes a key without one).
var itemKeySchemas = map[string]any{
	"uid":              uidSchema,
	"kind":             stringSchema,
	"parallelism":      intSchema,
	"previous_uids":    described(uidListSchema, "uids this item had before: its state is taken from the first one a savepoint holds"),
	"input":            stringSchema,
	"inputs":           uidListSchema,
	"schema":           ref("type"),
	"output":           ref("type"),
	"accumulator":      ref("type"),
	"timestamp":        described(map[string]any{"type": "string"}, "a function returning the event time in epoch milliseconds"),
	"idle_timeout":     described(ref("duration"), "how long a source (or a Kafka partition) without records may hold the watermark back"),
	"watermark":        map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{"max_out_of_orderness": ref("duration"), "idle_timeout": ref("duration")}},
	"on_error":         orEnv(map[string]any{"enum": []string{"fail", "skip", "dead_letter"}}),
	"dead_letter":      described(map[string]any{"type": "string"}, "a JSONL file for records that fail"),
	"function_timeout": ref("duration"),
	"buffer_timeout":   described(ref("duration"), "how long this sink's buffer may wait while records flow (default: the pipeline's)"),
	"fn":               ref("function"),
	"init":             ref("function"),
	"result":           ref("function"),
	"on_timer":         ref("function"),
	"reduce":           ref("function"),
	"key_by":           map[string]any{"anyOf": []any{selectorSchema, map[string]any{"type": "array", "items": selectorSchema, "minItems": 2, "maxItems": 2}}},
	"key_type":         ref("type"),
	"field":            map[string]any{"type": []string{"string", "integer"}},
	"state":            stateDeclSchema,
	"states":           map[string]any{"type": "object", "additionalProperties": stateDeclSchema},
	"window": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
		"tumbling": ref("duration"),
		"sliding": map[string]any{"type": "object", "required": []string{"size", "slide"}, "additionalProperties": false,
			"properties": map[string]any{"size": ref("duration"), "slide": ref("duration")}},
		"session": map[string]any{"type": "object", "required": []string{"gap"}, "additionalProperties": false,
			"properties": map[string]any{"gap": ref("duration")}},
	}},
	"allowed_lateness": ref("duration"),
	"late_output":      stringSchema,
	"aggregate": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"init", "fn", "accumulator"},
		"properties": map[string]any{"init": ref("function"), "fn": ref("function"), "result": ref("function"), "accumulator": ref("type")}},
}
