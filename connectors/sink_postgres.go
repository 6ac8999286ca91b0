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

// postgresSink writes records into one table in batches, each batch one statement (so one
// transaction): with key, one INSERT … SELECT FROM unnest($1::type[], …) ON CONFLICT DO UPDATE
// whose parameters are the batch's columns; without key, a binary COPY straight into the table.
// A full batch is written by a goroutine while Write fills the next one; the next is sent only
// once that one is committed, so batches commit in order, one at a time, on one connection.
type postgresSink struct {
	cfg     *pgx.ConnConfig
	secrets []string // the password, as it may appear in messages
	where   string   // "host H, database D, table T": the context of every error
	table   pgx.Identifier
	cols    []pgColumn
	names   []string // the columns' names
	keys    []int    // the key columns' indexes in cols
	batch   int
	retry   time.Duration
	create  bool

	logf   func(format string, args ...any)
	conn   *pgx.Conn // used by the batch in flight's goroutine while there is one
	failed error     // a write that failed for good: nothing is written after it

	cur      *pgBatch       // the batch Write fills
	spare    *pgBatch       // the batch in flight, or an empty one
	inFlight bool           // a goroutine is writing spare
	done     chan error     // its result
	row      []any          // the record being converted
	byKey    map[string]int // key bytes -> row index in cur (with key)
	keyBuf   []byte
	upsert   string   // the INSERT … ON CONFLICT statement (with key)
	prepared bool     // upsert is prepared in conn's session
	params   [][]byte // the upsert's parameters, the batch's columns as binary arrays
	formats  []int16  // all binary
}

// pgUpsert names the prepared upsert in the sink's session.
const pgUpsert = "pipectl_upsert"

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
	s.names = columnNames(s.cols)
	s.cur, s.spare, s.done = newPgBatch(s.cols), newPgBatch(s.cols), make(chan error, 1)
	s.row = make([]any, len(s.cols))
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
		s.params = make([][]byte, len(s.cols))
		s.formats = slices.Repeat([]int16{pgx.BinaryFormatCode}, len(s.cols))
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
	for i, c := range s.cols {
		v, err := c.value(m[c.name])
		if err != nil {
			return fmt.Errorf("field %q: %w", c.name, err)
		}
		s.row[i] = v
	}
	b := s.cur
	at := b.n
	if s.byKey != nil {
		kb := s.keyBuf[:0]
		for _, k := range s.keys {
			var err error
			if kb, err = s.cols[k].t.AppendBinary(kb, m[s.cols[k].name]); err != nil {
				return fmt.Errorf("key field %q: %w", s.cols[k].name, err)
			}
		}
		s.keyBuf = kb
		if i, ok := s.byKey[string(kb)]; ok {
			at = i // the last record per key wins
		} else {
			s.byKey[string(kb)] = b.n
		}
	}
	b.put(at, s.row)
	if b.n >= s.batch {
		return s.send()
	}
	return nil
}

// Flush hands the buffered rows to a goroutine that writes and commits them in one
// statement (retrying a lost connection until retry_timeout), once the batch before them is
// committed. The error of an earlier batch is returned here or by a later call.
func (s *postgresSink) Flush() error { return s.send() }

// send starts writing the current batch once the one in flight is committed.
func (s *postgresSink) send() error {
	if err := s.wait(); err != nil || s.cur.n == 0 {
		return err
	}
	b := s.cur
	s.cur, s.spare, s.inFlight = s.spare, b, true
	clear(s.byKey)
	go func() {
		s.done <- s.retrying("write", func(ctx context.Context) error { return s.writeBatch(ctx, b) })
	}()
	return nil
}

// wait waits until the batch in flight, if any, is committed. A batch that failed for good
// fails the sink: the rows after it are not written.
func (s *postgresSink) wait() error {
	if s.failed != nil || !s.inFlight {
		return s.failed
	}
	s.inFlight = false
	if err := <-s.done; err != nil {
		s.failed = err
		return err
	}
	s.spare.reset()
	return nil
}

// writeBatch writes a batch in one statement, which commits it: the upsert with one array
// parameter per column, or a COPY.
func (s *postgresSink) writeBatch(ctx context.Context, b *pgBatch) error {
	if s.upsert != "" {
		if !s.prepared {
			if _, err := s.conn.PgConn().Prepare(ctx, pgUpsert, s.upsert, nil); err != nil {
				return err
			}
			s.prepared = true
		}
		for i, a := range b.cols {
			s.params[i] = a.appendBinary(s.params[i][:0])
		}
		_, err := s.conn.PgConn().ExecPrepared(ctx, pgUpsert, s.params, s.formats, nil).Close()
		return err
	}
	row := make([]any, len(b.cols))
	_, err := s.conn.CopyFrom(ctx, s.table, s.names, pgx.CopyFromSlice(b.n, func(r int) ([]any, error) {
		for i, a := range b.cols {
			row[i] = a.at(r)
		}
		return row, nil
	}))
	return err
}

// Committed writes and commits the buffered rows and waits until every batch is committed: a
// snapshot completes only after them. The sink stores nothing in snapshots.
func (s *postgresSink) Committed() (Offsets, error) {
	if err := s.send(); err != nil {
		return nil, err
	}
	return nil, s.wait()
}

// Restore does nothing: the table keeps its rows, and the replayed records after the restored
// snapshot upsert the same rows again (without key they are inserted again: at least once).
func (s *postgresSink) Restore(Offsets) error { return nil }

// Close writes the buffered rows and closes the connection.
func (s *postgresSink) Close() error {
	_, err := s.Committed()
	s.disconnect()
	return err
}
