package connectors

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/pipectl/pipectl/schema"
)

// pgColumn is the column of one input field.
type pgColumn struct {
	name     string
	t        *schema.Type // the field's type
	inner    *schema.Type // without the optional
	nullable bool
	sqlType  string   // the type create_table gives it
	accepts  []string // the column types (regtype names) it may have in an existing table
	json     bool     // written as JSON text
}

// columnsOf maps the fields of a record type to columns: int → bigint, float → double
// precision, string → text, bool → boolean, bytes → bytea, everything else (records, tuples,
// lists, maps, any) → jsonb; an optional field is a nullable column.
func columnsOf(t *schema.Type) []pgColumn {
	cols := make([]pgColumn, len(t.Fields))
	for i, f := range t.Fields {
		c := pgColumn{name: f.Name, t: f.Type, inner: f.Type}
		if f.Type.Kind == schema.Optional {
			c.inner, c.nullable = f.Type.Elem, true
		}
		switch c.inner.Kind {
		case schema.Int:
			c.sqlType, c.accepts = "bigint", []string{"bigint", "numeric"}
		case schema.Float:
			c.sqlType, c.accepts = "double precision", []string{"double precision", "numeric"}
		case schema.String:
			c.sqlType, c.accepts = "text", []string{"text", "character varying"}
		case schema.Bool:
			c.sqlType, c.accepts = "boolean", []string{"boolean"}
		case schema.Bytes:
			c.sqlType, c.accepts = "bytea", []string{"bytea"}
		default:
			c.sqlType, c.accepts, c.json = "jsonb", []string{"jsonb", "json"}, true
			c.nullable = c.nullable || c.inner.Kind == schema.Any // any may hold null
		}
		cols[i] = c
	}
	return cols
}

// value converts a canonical field value to what pgx writes into the column.
func (c pgColumn) value(v any) (any, error) {
	if v == nil || !c.json {
		return v, nil
	}
	b, err := c.inner.AppendJSON(nil, v)
	if err != nil {
		return nil, err
	}
	if string(b) == "null" {
		return nil, nil
	}
	return json.RawMessage(b), nil
}

func columnNames(cols []pgColumn) []string {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
	}
	return names
}

// identList is a comma-separated list of quoted identifiers.
func identList(names []string) string {
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = pgx.Identifier{n}.Sanitize()
	}
	return strings.Join(quoted, ", ")
}

// tableNamePart is one unquoted part of a table name.
var tableNamePart = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// parseTableName reads `name` or `schema.name`.
func parseTableName(s string) (pgx.Identifier, error) {
	parts := strings.Split(s, ".")
	if len(parts) > 2 {
		return nil, fmt.Errorf("%q is not `name` or `schema.name`", s)
	}
	for _, p := range parts {
		if !tableNamePart.MatchString(p) {
			return nil, fmt.Errorf("%q is not `name` or `schema.name` (letters, digits, _ and $, not starting with a digit)", s)
		}
	}
	return pgx.Identifier(parts), nil
}

// stageSQL creates the session's staging table: the sink's columns with the table's own
// column types, emptied at every commit.
func stageSQL(table pgx.Identifier, cols []pgColumn) string {
	return fmt.Sprintf("CREATE TEMP TABLE %s ON COMMIT DELETE ROWS AS SELECT %s FROM %s WITH NO DATA",
		pgStage, identList(columnNames(cols)), table.Sanitize())
}

// upsertSQL moves the staged rows into the table: a row whose key exists is updated.
func upsertSQL(table pgx.Identifier, cols []pgColumn, keys []int) string {
	names := identList(columnNames(cols))
	keyNames := make([]string, len(keys))
	var set []string
	for i, k := range keys {
		keyNames[i] = cols[k].name
	}
	for i, c := range cols {
		if !slices.Contains(keys, i) {
			q := pgx.Identifier{c.name}.Sanitize()
			set = append(set, q+" = EXCLUDED."+q)
		}
	}
	action := "DO NOTHING" // every column is a key column: an existing row is already right
	if len(set) > 0 {
		action = "DO UPDATE SET " + strings.Join(set, ", ")
	}
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s ON CONFLICT (%s) %s",
		table.Sanitize(), names, names, pgStage, identList(keyNames), action)
}

// createSQL creates the table from the input type; the key columns form the primary key.
func createSQL(table pgx.Identifier, cols []pgColumn, keys []int) string {
	defs := make([]string, len(cols))
	for i, c := range cols {
		defs[i] = pgx.Identifier{c.name}.Sanitize() + " " + c.sqlType
		if !c.nullable {
			defs[i] += " NOT NULL"
		}
	}
	if len(keys) > 0 {
		names := make([]string, len(keys))
		for i, k := range keys {
			names[i] = cols[k].name
		}
		defs = append(defs, "PRIMARY KEY ("+identList(names)+")")
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (%s)", table.Sanitize(), strings.Join(defs, ", "))
}

// tableColumn is a column of the existing table.
type tableColumn struct {
	name, typ  string
	notNull    bool
	hasDefault bool
}

// columnsSQL lists a table's columns (none when it does not exist).
const columnsSQL = `SELECT a.attname, a.atttypid::regtype::text, a.attnotnull,
	a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> ''
FROM pg_attribute a
WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum`

// uniqueSQL lists the column sets of a table's unique indexes that ON CONFLICT can use
// (not partial, no expressions).
const uniqueSQL = `SELECT array_agg(a.attname::text)
FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY i.indexrelid`

// prepareTable creates the table when it is missing and create_table says so, then lists
// every way it does not fit the input.
func (s *postgresSink) prepareTable(ctx context.Context) ([]string, error) {
	cols, err := s.tableColumns(ctx)
	if err != nil {
		return nil, err
	}
	if len(cols) == 0 && s.create {
		if err := s.createTable(ctx); err != nil {
			return nil, err
		}
		if cols, err = s.tableColumns(ctx); err != nil {
			return nil, err
		}
	}
	if len(cols) == 0 {
		return []string{fmt.Sprintf("table %s does not exist: create it, or set create_table: true", s.table.Sanitize())}, nil
	}
	problems := s.columnProblems(cols)
	if len(s.keys) > 0 {
		p, err := s.keyProblem(ctx)
		if err != nil {
			return nil, err
		}
		if p != "" {
			problems = append(problems, p)
		}
	}
	return problems, nil
}

// tableColumns reads the table's columns.
func (s *postgresSink) tableColumns(ctx context.Context) ([]tableColumn, error) {
	rows, err := s.conn.Query(ctx, columnsSQL, s.table.Sanitize())
	if err != nil {
		return nil, err
	}
	var cols []tableColumn
	for rows.Next() {
		var c tableColumn
		if err := rows.Scan(&c.name, &c.typ, &c.notNull, &c.hasDefault); err != nil {
			rows.Close()
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, rows.Err()
}

// createTable creates the table; subtasks creating it at once take turns (an advisory lock).
func (s *postgresSink) createTable(ctx context.Context) error {
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1))", s.table.Sanitize()); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, createSQL(s.table, s.cols, s.keys)); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	return tx.Commit(ctx)
}

// columnProblems compares the table's columns with the input's fields.
func (s *postgresSink) columnProblems(cols []tableColumn) []string {
	var problems []string
	byName := map[string]tableColumn{}
	for _, c := range cols {
		byName[c.name] = c
	}
	for _, c := range s.cols {
		tc, ok := byName[c.name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("column %q is missing: field %q is %s (want a %s column)", c.name, c.name, c.t, c.sqlType))
		case !slices.Contains(c.accepts, tc.typ):
			problems = append(problems, fmt.Sprintf("column %q is %s: field %q is %s (want %s)", c.name, tc.typ, c.name, c.t, strings.Join(c.accepts, " or ")))
		case tc.notNull && c.nullable:
			problems = append(problems, fmt.Sprintf("column %q is NOT NULL: field %q is %s, which may be null", c.name, c.name, c.t))
		}
	}
	for _, tc := range cols {
		if tc.notNull && !tc.hasDefault && !slices.ContainsFunc(s.cols, func(c pgColumn) bool { return c.name == tc.name }) {
			problems = append(problems, fmt.Sprintf("column %q is NOT NULL without a default, and the input has no field %q", tc.name, tc.name))
		}
	}
	return problems
}

// keyProblem says what is wrong when no primary key or unique constraint covers exactly the
// key columns (an upsert's ON CONFLICT needs one), else "".
func (s *postgresSink) keyProblem(ctx context.Context) (string, error) {
	want := make([]string, len(s.keys))
	for i, k := range s.keys {
		want[i] = s.cols[k].name
	}
	sorted := slices.Sorted(slices.Values(want))
	rows, err := s.conn.Query(ctx, uniqueSQL, s.table.Sanitize())
	if err != nil {
		return "", err
	}
	found := false
	for rows.Next() {
		var cols []string
		if err := rows.Scan(&cols); err != nil {
			rows.Close()
			return "", err
		}
		slices.Sort(cols)
		found = found || slices.Equal(cols, sorted)
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if found {
		return "", nil
	}
	return fmt.Sprintf("no primary key or unique constraint on (%s): an upsert needs one (ALTER TABLE %s ADD PRIMARY KEY (%s))",
		strings.Join(want, ", "), s.table.Sanitize(), identList(want)), nil
}
