package connectors

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pipectl/pipectl/schema"
)

func init() {
	Register(Spec{
		Kind: "postgres", Role: RoleSink,
		Summary: "Writes records as rows of a PostgreSQL table, field to column of the same name. With key: upserts (idempotent: a replay after a restore rewrites the same rows); without: inserts, at least once.",
		Offsets: "nothing (every batch is committed before a snapshot completes; with key, replayed records upsert the same rows)",
		Keys: []Key{
			{Name: "dsn", Type: TypeString, Required: true, Doc: "a libpq connection URL or key=value string, e.g. `${PG_DSN}`; errors name its host and database, never its password"},
			{Name: "table", Type: TypeString, Required: true, Doc: "the table, `name` or `schema.name` (used as written: unquoted lowercase names are safest)"},
			{Name: "key", Type: TypeStringList, Doc: "fields forming the table's primary key or a unique constraint: records are routed to subtasks by them, a batch keeps the last record per key, and rows are upserted"},
			{Name: "create_table", Type: TypeBool, Default: "false", Doc: "create a missing table from the input type (the key columns form its primary key)"},
			{Name: "batch_size", Type: TypeInt, Default: "1000", Doc: "rows per batch; a batch is also written within buffer_timeout and before every checkpoint or savepoint completes"},
			{Name: "retry_timeout", Type: TypeDuration, Default: "60s", Doc: "how long a lost connection is retried, with backoff, before the job fails"},
		},
		Check:      checkPostgresOptions,
		CheckInput: checkPostgresInput,
		RouteKey:   func(o Options) []string { return o.Strings("key") },
		NewSink:    func(cfg SinkConfig) (Sink, error) { return newPostgresSink(cfg) },
	})
}

// Defaults of the postgres sink's options.
const (
	pgDefaultBatch = 1000
	pgDefaultRetry = 60 * time.Second
)

// checkPostgresOptions validates the options that need no input type.
func checkPostgresOptions(o Options) []OptionError {
	var errs []OptionError
	if dsn, ok := o["dsn"].(string); ok {
		if _, err := pgx.ParseConfig(dsn); err != nil {
			errs = append(errs, OptionError{Key: "dsn", Msg: "dsn: " + redact(err.Error(), dsnSecrets(dsn, nil))})
		}
	}
	if t, ok := o["table"].(string); ok {
		if _, err := parseTableName(t); err != nil {
			errs = append(errs, OptionError{Key: "table", Msg: "table: " + err.Error()})
		}
	}
	if n, ok := o["batch_size"].(int64); ok && n < 1 {
		errs = append(errs, OptionError{Key: "batch_size", Msg: "batch_size must be at least 1"})
	}
	if d, ok := o["retry_timeout"].(time.Duration); ok && d <= 0 {
		errs = append(errs, OptionError{Key: "retry_timeout", Msg: "retry_timeout must be positive"})
	}
	keys := o.Strings("key")
	for i, k := range keys {
		if slices.Contains(keys[:i], k) {
			errs = append(errs, OptionError{Key: "key", Msg: fmt.Sprintf("key: field %q is listed twice", k)})
		}
	}
	return errs
}

// checkPostgresInput checks that the input is a record and that every key field is one of its
// fields, never null.
func checkPostgresInput(o Options, in *schema.Type) []OptionError {
	if in.Kind != schema.Record {
		return []OptionError{{Msg: fmt.Sprintf("a postgres sink writes records, one field per column, but its input is %s: map it to a record first", in)}}
	}
	var errs []OptionError
	for _, k := range o.Strings("key") {
		f := fieldOf(in, k)
		switch {
		case f == nil:
			errs = append(errs, OptionError{Key: "key", Msg: fmt.Sprintf("key: %q is not a field of the input %s", k, in)})
		case f.Type.Kind == schema.Optional || f.Type.Kind == schema.Any:
			errs = append(errs, OptionError{Key: "key", Msg: fmt.Sprintf("key: field %q is %s, which may be null: key columns are never null", k, f.Type)})
		}
	}
	return errs
}

// fieldOf returns the field of a record type by name, or nil.
func fieldOf(t *schema.Type, name string) *schema.Field {
	for i := range t.Fields {
		if t.Fields[i].Name == name {
			return &t.Fields[i]
		}
	}
	return nil
}

// postgresSink writes records into one table in batches, each batch in one transaction:
// with key, COPY into a session-local staging table and one INSERT … SELECT … ON CONFLICT
// DO UPDATE; without key, COPY straight into the table.
type postgresSink struct {
	cfg     *pgx.ConnConfig
	secrets []string // the password, as it may appear in messages
	where   string   // "host H, database D, table T": the context of every error
	table   pgx.Identifier
	cols    []pgColumn
	keys    []int // the key columns' indexes in cols
	batch   int
	retry   time.Duration
	create  bool

	logf   func(format string, args ...any)
	conn   *pgx.Conn
	staged bool  // the staging table exists in conn's session
	failed error // a write that failed for good: the buffered rows are not written again

	rows   [][]any
	byKey  map[string]int // key bytes -> index in rows
	keyBuf []byte
	upsert string // the INSERT … ON CONFLICT statement (with key)
}

// pgStage is the session-local staging table of an upserting sink.
const pgStage = "pipectl_stage"

func newPostgresSink(cfg SinkConfig) (*postgresSink, error) {
	if cfg.Type == nil || cfg.Type.Kind != schema.Record {
		return nil, errors.New("a postgres sink needs a record input")
	}
	o := cfg.Options
	dsn := o.String("dsn", "")
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("dsn: " + redact(err.Error(), dsnSecrets(dsn, nil)))
	}
	table, err := parseTableName(o.String("table", ""))
	if err != nil {
		return nil, err
	}
	s := &postgresSink{
		cfg: pc, secrets: dsnSecrets(dsn, pc), table: table,
		cols: columnsOf(cfg.Type), batch: int(o.Int("batch_size", pgDefaultBatch)),
		retry: o.Duration("retry_timeout", pgDefaultRetry), create: o.Bool("create_table", false),
		logf: cfg.Logf,
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	s.where = fmt.Sprintf("host %s, database %q, table %s", hostOf(pc), pc.Database, table.Sanitize())
	for _, k := range o.Strings("key") {
		i := slices.IndexFunc(s.cols, func(c pgColumn) bool { return c.name == k })
		if i < 0 {
			return nil, fmt.Errorf("key: %q is not a field of the input %s", k, cfg.Type)
		}
		s.keys = append(s.keys, i)
	}
	if len(s.keys) > 0 {
		s.byKey = map[string]int{}
		s.upsert = upsertSQL(table, s.cols, s.keys)
	}
	if err := s.open(); err != nil {
		s.disconnect()
		return nil, err
	}
	return s, nil
}

// open connects and checks the table against the input type (creating it when asked): every
// mismatch is reported at once, before anything is written.
func (s *postgresSink) open() error {
	return s.retrying("open", func(ctx context.Context) error {
		problems, err := s.prepareTable(ctx)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			return &mismatchError{problems: problems}
		}
		return nil
	})
}

// mismatchError lists every way the table does not fit the input.
type mismatchError struct{ problems []string }

func (e *mismatchError) Error() string {
	msg := fmt.Sprintf("the table does not fit the sink's input (%d mismatch", len(e.problems))
	if len(e.problems) > 1 {
		msg += "es"
	}
	msg += "; nothing was written):"
	for _, p := range e.problems {
		msg += "\n  - " + p
	}
	return msg
}

func (s *postgresSink) Write(rec any) error {
	m, ok := rec.(map[string]any)
	if !ok {
		return fmt.Errorf("postgres sink: record expected, got %T", rec)
	}
	row := make([]any, len(s.cols))
	for i, c := range s.cols {
		v, err := c.value(m[c.name])
		if err != nil {
			return fmt.Errorf("field %q: %w", c.name, err)
		}
		row[i] = v
	}
	if s.byKey == nil {
		s.rows = append(s.rows, row)
	} else {
		kb := s.keyBuf[:0]
		for _, k := range s.keys {
			var err error
			if kb, err = s.cols[k].t.AppendBinary(kb, m[s.cols[k].name]); err != nil {
				return fmt.Errorf("key field %q: %w", s.cols[k].name, err)
			}
		}
		s.keyBuf = kb
		if i, ok := s.byKey[string(kb)]; ok {
			s.rows[i] = row // the last record per key wins
		} else {
			s.byKey[string(kb)] = len(s.rows)
			s.rows = append(s.rows, row)
		}
	}
	if len(s.rows) >= s.batch {
		return s.Flush()
	}
	return nil
}

// Flush writes and commits the buffered rows as one transaction, retrying a lost connection
// until retry_timeout.
func (s *postgresSink) Flush() error {
	if s.failed != nil {
		return s.failed
	}
	if len(s.rows) == 0 {
		return nil
	}
	if err := s.retrying("write", s.writeBatch); err != nil {
		s.failed = err
		return err
	}
	clear(s.rows)
	s.rows = s.rows[:0]
	clear(s.byKey)
	return nil
}

// writeBatch writes the buffered rows in one transaction.
func (s *postgresSink) writeBatch(ctx context.Context) error {
	if s.byKey != nil && !s.staged {
		if _, err := s.conn.Exec(ctx, stageSQL(s.table, s.cols)); err != nil {
			return err
		}
		s.staged = true
	}
	tx, err := s.conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	names := columnNames(s.cols)
	if s.byKey == nil {
		_, err = tx.CopyFrom(ctx, s.table, names, pgx.CopyFromRows(s.rows))
	} else if _, err = tx.CopyFrom(ctx, pgx.Identifier{pgStage}, names, pgx.CopyFromRows(s.rows)); err == nil {
		_, err = tx.Exec(ctx, s.upsert)
	}
	if err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// Committed writes and commits the buffered rows: a snapshot completes only after them. The
// sink stores nothing in snapshots.
func (s *postgresSink) Committed() (Offsets, error) { return nil, s.Flush() }

// Restore does nothing: the table keeps its rows, and the replayed records after the restored
// snapshot upsert the same rows again (without key they are inserted again: at least once).
func (s *postgresSink) Restore(Offsets) error { return nil }

// Close writes the buffered rows and closes the connection.
func (s *postgresSink) Close() error {
	err := s.Flush()
	s.disconnect()
	return err
}
