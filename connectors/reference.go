package connectors

import (
	"fmt"
	"strings"
)

// Reference renders the reference of every registered source and sink kind as Markdown:
// docs/connectors.md is this text (a test fails when it drifts), so a connector's options
// are documented where they are declared.
func Reference() string {
	var b strings.Builder
	b.WriteString("# Connector reference\n\n")
	b.WriteString("<!-- Generated from the connectors' registrations: `go test ./connectors -run TestReference -update`. -->\n\n")
	b.WriteString("Every source also takes `uid`, `kind`, `schema`, `timestamp`, `watermark`, `on_error`, `dead_letter`\n")
	b.WriteString("and `parallelism`; every sink takes `uid`, `kind`, `input` and `parallelism` (see pipelines.md).\n")
	for _, role := range []Role{RoleSource, RoleSink} {
		fmt.Fprintf(&b, "\n## %ss\n", capitalize(role.String()))
		for _, s := range Kinds(role) {
			fmt.Fprintf(&b, "\n### `%s` %s\n\n%s\n", s.Kind, role, s.Summary)
			if role == RoleSource {
				replay := "no"
				if s.Replayable {
					replay = "yes"
				}
				fmt.Fprintf(&b, "\nReplayable: %s. Stored in savepoints and checkpoints: %s.\n", replay, s.Offsets)
			} else if s.Offsets != "" {
				fmt.Fprintf(&b, "\nStored in savepoints and checkpoints: %s.\n", s.Offsets)
			}
			if len(s.Keys) == 0 {
				continue
			}
			b.WriteString("\n| key | type | default | |\n|---|---|---|---|\n")
			writeKeys(&b, "", s.Keys)
		}
	}
	return b.String()
}

// writeKeys writes one table row per key, sub-keys of objects as parent.child.
func writeKeys(b *strings.Builder, prefix string, keys []Key) {
	for _, k := range keys {
		def := k.Default
		switch {
		case k.Required:
			def = "required"
		case def == "":
			def = "—"
		default:
			def = "`" + def + "`"
		}
		fmt.Fprintf(b, "| `%s%s` | %s | %s | %s |\n", prefix, k.Name, k.typeName(), def, k.Doc)
		if k.Type == TypeObject {
			writeKeys(b, prefix+k.Name+".", k.Keys)
		}
	}
}

// typeName describes a key's type for the reference.
func (k Key) typeName() string {
	switch k.Type {
	case TypeBool:
		return "bool"
	case TypeInt:
		return "integer"
	case TypeNumber:
		return "number"
	case TypeDuration:
		return "duration"
	case TypeEnum:
		return "`" + strings.Join(k.Enum, "` \\| `") + "`"
	case TypePath:
		return "path"
	case TypeStringList:
		return "list of strings"
	case TypeObject:
		return "mapping"
	case TypeFunction:
		return "function"
	case TypePathOrFunction:
		return "field path or function"
	}
	return "string"
}

func capitalize(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
