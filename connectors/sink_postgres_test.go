package connectors

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pipectl/pipectl/internal/pgtest"
	"github.com/pipectl/pipectl/schema"
)

func TestPostgresOptionChecks(t *testing.T) {
	spec, _ := Lookup(RoleSink, "postgres")
	base := func() Options {
		return Options{"dsn": "postgres://app:s3cr3t@db.example:5432/shop", "table": "rooms"}
	}
	tests := []struct {
		name string
		set  Options
		want []string // "key: message part", in order
	}{
		{"valid", Options{"key": []string{"room"}, "batch_size": int64(10), "retry_timeout": time.Second}, nil},
		{"schema-qualified table", Options{"table": "app.room_states"}, nil},
		{"bad table", Options{"table": "rooms; drop"}, []string{"table: table: \"rooms; drop\" is not `name` or `schema.name`"}},
		{"three-part table", Options{"table": "a.b.c"}, []string{"table: table: \"a.b.c\" is not"}},
		{"batch_size 0", Options{"batch_size": int64(0)}, []string{"batch_size: batch_size must be at least 1"}},
		{"key twice", Options{"key": []string{"room", "day", "room"}}, []string{"key: key: field \"room\" is listed twice"}},
		{"bad dsn", Options{"dsn": "postgres://app:s3cr3t@db.example:99999999/shop"}, []string{"dsn: dsn: cannot parse"}},
		{"bad key=value dsn", Options{"dsn": "host=db password=s3cr3t port=x"}, []string{"dsn: dsn: cannot parse"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			for k, v := range tt.set {
				o[k] = v
			}
			var got []string
			for _, e := range spec.Check(o) {
				got = append(got, e.Key+": "+e.Msg)
				if strings.Contains(e.Msg, "s3cr3t") {
					t.Errorf("the message shows the password: %s", e.Msg)
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("findings %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("finding %d = %q, want it to start with %q", i, got[i], w)
				}
			}
		})
	}
}

func TestPostgresInputChecks(t *testing.T) {
	spec, _ := Lookup(RoleSink, "postgres")
	tests := []struct {
		typ  string
		key  []string
		want []string
	}{
		{"{room: int, state: string, at: int?}", []string{"room"}, nil},
		{"{room: int, day: string, n: int}", []string{"room", "day"}, nil},
		{"(int, string)", nil, []string{": a postgres sink writes records, one field per column, but its input is (int, string)"}},
		{"{room: int}", []string{"rome"}, []string{"key: key: \"rome\" is not a field of the input {room: int}"}},
		{"{room: int?, x: any}", []string{"room", "x"}, []string{
			"key: key: field \"room\" is int?, which may be null",
			"key: key: field \"x\" is any, which may be null",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			var got []string
			for _, e := range spec.CheckInput(Options{"key": tt.key}, mustType(t, tt.typ)) {
				got = append(got, e.Key+": "+e.Msg)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("findings %q, want %q", got, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("finding %d = %q, want it to start with %q", i, got[i], w)
				}
			}
		})
	}
}

func TestPostgresSQL(t *testing.T) {
	cols := columnsOf(mustType(t, "{room: int, day: string, state: {on: bool}, note: string?, n: float, raw: bytes, tags: list<string>}"))
	table := pgx.Identifier{"app", "rooms"}
	tests := []struct{ name, got, want string }{
		{"create", createSQL(table, cols, []int{0, 1}),
			`CREATE TABLE IF NOT EXISTS "app"."rooms" ("room" bigint NOT NULL, "day" text NOT NULL, "state" jsonb NOT NULL, "note" text, "n" double precision NOT NULL, "raw" bytea NOT NULL, "tags" jsonb NOT NULL, PRIMARY KEY ("room", "day"))`},
		{"create without key", createSQL(table, cols[:2], nil),
			`CREATE TABLE IF NOT EXISTS "app"."rooms" ("room" bigint NOT NULL, "day" text NOT NULL)`},
		{"upsert", upsertSQL(table, cols[:3], []int{0}),
			`INSERT INTO "app"."rooms" ("room", "day", "state") SELECT "room", "day", "state" FROM pipectl_stage ON CONFLICT ("room") DO UPDATE SET "day" = EXCLUDED."day", "state" = EXCLUDED."state"`},
		{"upsert of key columns only", upsertSQL(table, cols[:2], []int{0, 1}),
			`INSERT INTO "app"."rooms" ("room", "day") SELECT "room", "day" FROM pipectl_stage ON CONFLICT ("room", "day") DO NOTHING`},
		{"stage", stageSQL(table, cols[:2]),
			`CREATE TEMP TABLE pipectl_stage ON COMMIT DELETE ROWS AS SELECT "room", "day" FROM "app"."rooms" WITH NO DATA`},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, tt.got, tt.want)
		}
	}
}

func TestPostgresRedact(t *testing.T) {
	tests := []struct{ dsn, secret string }{
		{"postgres://app:s3cr3t@db:5432/shop", "s3cr3t"},
		{"postgres://app:p%40ss%2Fw0rd@db/shop", "p@ss/w0rd"},
		{"postgres://app:p%40ss%2Fw0rd@db/shop", "p%40ss%2Fw0rd"},
		{"host=db user=app password=s3cr3t dbname=shop", "s3cr3t"},
		{"host=db user=app password='two words' dbname=shop", "two words"},
		{"postgres://app@db/shop?password=s3cr3t", "s3cr3t"},
	}
	for _, tt := range tests {
		cfg, _ := pgx.ParseConfig(tt.dsn)
		msg := redact("failed: "+tt.secret+" and "+tt.dsn, dsnSecrets(tt.dsn, cfg))
		if strings.Contains(msg, tt.secret) {
			t.Errorf("%s: %q still holds %q", tt.dsn, msg, tt.secret)
		}
	}
}

// TestPostgresSink runs the sink against a real server: one cluster, a database per case.
func TestPostgresSink(t *testing.T) {
	c := pgtest.Start(t)

	t.Run("upsert keeps the last record per key", func(t *testing.T) {
		dsn := c.CreateDB(t)
		typ := mustType(t, "{room: int, state: string, level: float, on: bool, raw: bytes, info: {by: string, tags: list<string>}, note: string?}")
		pgtest.MustExec(t, dsn, `CREATE TABLE rooms (room bigint PRIMARY KEY, state text NOT NULL, level double precision, "on" boolean, raw bytea, info jsonb, note text, extra text DEFAULT 'x')`)
		s := newTestPostgresSink(t, dsn, typ, Options{"table": "rooms", "key": []string{"room"}, "batch_size": int64(3)})
		rec := func(room int64, state string, note any) map[string]any {
			return map[string]any{"room": room, "state": state, "level": float64(room) / 2, "on": room%2 == 0, "raw": []byte{byte(room)},
				"info": map[string]any{"by": "sensor", "tags": []any{"a", state}}, "note": note}
		}
		for _, r := range []map[string]any{rec(1, "idle", nil), rec(2, "busy", "x"), rec(1, "busy", "y"), rec(3, "idle", nil), rec(2, "idle", nil)} {
			if err := s.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Committed(); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(rec(3, "busy", "z")); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		want := []string{
			`1	busy	0.5	f	\x01	{"by": "sensor", "tags": ["a", "busy"]}	y	x`,
			`2	idle	1	t	\x02	{"by": "sensor", "tags": ["a", "idle"]}	NULL	x`,
			`3	busy	1.5	f	\x03	{"by": "sensor", "tags": ["a", "busy"]}	z	x`,
		}
		assertRows(t, dsn, `SELECT * FROM rooms ORDER BY room`, want)
	})

	t.Run("inserts without key", func(t *testing.T) {
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, `CREATE TABLE events (room bigint, n bigint, id serial)`)
		s := newTestPostgresSink(t, dsn, mustType(t, "{room: int, n: int}"), Options{"table": "events", "batch_size": int64(2)})
		for i := range int64(5) {
			if err := s.Write(map[string]any{"room": i % 2, "n": i}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		assertRows(t, dsn, `SELECT room, n FROM events ORDER BY n`, []string{"0\t0", "1\t1", "0\t2", "1\t3", "0\t4"})
	})

	t.Run("create_table", func(t *testing.T) {
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, `CREATE SCHEMA app`)
		typ := mustType(t, "{room: int, day: string, n: float, ok: bool, raw: bytes, pair: (int, string), m: map<string, int>, x: any, note: string?}")
		s := newTestPostgresSink(t, dsn, typ, Options{"table": "app.daily", "key": []string{"room", "day"}, "create_table": true})
		if err := s.Write(map[string]any{"room": int64(1), "day": "mon", "n": 1.5, "ok": true, "raw": []byte("hi"),
			"pair": []any{int64(2), "b"}, "m": map[string]any{"k": int64(3)}, "x": nil, "note": nil}); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		assertRows(t, dsn, `SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'daily' ORDER BY ordinal_position`, []string{
			"room\tbigint\tNO", "day\ttext\tNO", "n\tdouble precision\tNO", "ok\tboolean\tNO", "raw\tbytea\tNO",
			"pair\tjsonb\tNO", "m\tjsonb\tNO", "x\tjsonb\tYES", "note\ttext\tYES",
		})
		assertRows(t, dsn, `SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'app.daily'::regclass AND i.indisprimary ORDER BY a.attnum`, []string{"room", "day"})
		assertRows(t, dsn, `SELECT room, day, n, ok, raw, pair, m, x, note FROM app.daily`, []string{"1\tmon\t1.5\tt\t\\x6869\t[2, \"b\"]\t{\"k\": 3}\tNULL\tNULL"})
		// A second sink finds the table it created and fits it.
		newTestPostgresSink(t, dsn, typ, Options{"table": "app.daily", "key": []string{"room", "day"}, "create_table": true}).Close()
	})

	t.Run("every mismatch at once, nothing written", func(t *testing.T) {
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, `CREATE TABLE rooms (room integer NOT NULL, state text NOT NULL, owner text NOT NULL, at bigint)`)
		_, err := openTestPostgresSink(dsn, mustType(t, "{room: int, state: string?, level: float, at: int}"), Options{"table": "rooms", "key": []string{"room"}})
		if err == nil {
			t.Fatal("the sink opened a table that does not fit")
		}
		for _, want := range []string{
			"host 127.0.0.1:", `database "test_`, `table "rooms"`, "(5 mismatches; nothing was written)",
			`column "room" is integer: field "room" is int (want bigint or numeric)`,
			`column "state" is NOT NULL: field "state" is string?, which may be null`,
			`column "level" is missing: field "level" is float (want a double precision column)`,
			`column "owner" is NOT NULL without a default, and the input has no field "owner"`,
			`no primary key or unique constraint on (room)`,
		} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q:\n%v", want, err)
			}
		}
		if IsRetryable(err) {
			t.Errorf("a table that does not fit is retryable by a restart: %v", err)
		}
		assertRows(t, dsn, `SELECT count(*) FROM rooms`, []string{"0"})
	})

	t.Run("a unique constraint is enough for an upsert", func(t *testing.T) {
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, `CREATE TABLE rooms (id serial PRIMARY KEY, day text NOT NULL, room bigint NOT NULL, n bigint, UNIQUE (room, day))`)
		s := newTestPostgresSink(t, dsn, mustType(t, "{day: string, room: int, n: int}"), Options{"table": "rooms", "key": []string{"day", "room"}})
		for i := range int64(4) {
			if err := s.Write(map[string]any{"day": "mon", "room": i % 2, "n": i}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Committed(); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		assertRows(t, dsn, `SELECT room, n FROM rooms ORDER BY room`, []string{"0\t2", "1\t3"})
	})

	t.Run("missing table", func(t *testing.T) {
		dsn := c.CreateDB(t)
		_, err := openTestPostgresSink(dsn, mustType(t, "{room: int}"), Options{"table": "nowhere"})
		if err == nil || !strings.Contains(err.Error(), `table "nowhere" does not exist: create it, or set create_table: true`) {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("a wrong password is named by host, never shown", func(t *testing.T) {
		dsn := c.CreateDB(t)
		db := dsn[strings.LastIndex(dsn, "/")+1 : strings.Index(dsn, "?")]
		c.CreateRole(t, "writer", "right-pass")
		const secret = "Wr0ng-Passw0rd"
		start := time.Now()
		_, err := openTestPostgresSink(c.UserDSN("writer", secret, db), mustType(t, "{room: int}"), Options{"table": "rooms"})
		if err == nil {
			t.Fatal("connected with a wrong password")
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error shows the password: %v", err)
		}
		if want := fmt.Sprintf("host 127.0.0.1:%d", c.Port); !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "password authentication failed") {
			t.Errorf("error %q lacks %q or the cause", err, want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("a wrong password was retried for %v: it cannot get better", d)
		}
		if IsRetryable(err) {
			t.Errorf("a wrong password is retryable by a restart: %v", err)
		}
	})

	t.Run("a lost connection is retried", func(t *testing.T) {
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, `CREATE TABLE rooms (room bigint PRIMARY KEY, n bigint)`)
		var logs []string
		s, err := NewSink(SinkConfig{UID: "pg", Kind: "postgres", Type: mustType(t, "{room: int, n: int}"),
			Options: Options{"dsn": dsn, "table": "rooms", "key": []string{"room"}},
			Logf:    func(format string, args ...any) { logs = append(logs, fmt.Sprintf(format, args...)) }})
		if err != nil {
			t.Fatal(err)
		}
		write := func(n int64) {
			t.Helper()
			if err := s.Write(map[string]any{"room": int64(1), "n": n}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Committed(); err != nil {
				t.Fatalf("a batch after the connection was killed: %v", err)
			}
		}
		write(1)
		pgtest.MustExec(t, dsn, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
		write(2)
		s.Close()
		assertRows(t, dsn, `SELECT room, n FROM rooms`, []string{"1\t2"})
		if len(logs) != 1 || !strings.Contains(logs[0], "host 127.0.0.1:") || !strings.Contains(logs[0], "retrying in 100ms") {
			t.Errorf("logged %q, want one line naming the host and the retry", logs)
		}
	})

	t.Run("a batch that fails for good is not written again", func(t *testing.T) {
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, `CREATE TABLE rooms (room bigint PRIMARY KEY, n bigint CHECK (n < 100))`)
		s := newTestPostgresSink(t, dsn, mustType(t, "{room: int, n: int}"), Options{"table": "rooms", "key": []string{"room"}})
		if err := s.Write(map[string]any{"room": int64(1), "n": int64(100)}); err != nil {
			t.Fatal(err)
		}
		_, err := s.Committed()
		if err == nil || !strings.Contains(err.Error(), "violates check constraint") {
			t.Fatalf("Committed() = %v, want the check constraint's error", err)
		}
		if cerr := s.Close(); cerr != err {
			t.Errorf("Close() = %v, want the same error %v", cerr, err)
		}
	})

	t.Run("an unreachable server fails after retry_timeout", func(t *testing.T) {
		l := closedPort(t)
		dsn := fmt.Sprintf("postgres://app:Secr3tPass@127.0.0.1:%d/db?sslmode=disable", l)
		start := time.Now()
		_, err := openTestPostgresSink(dsn, mustType(t, "{room: int}"), Options{"table": "rooms", "retry_timeout": 400 * time.Millisecond})
		if err == nil {
			t.Fatalf("the sink connected to port %d, which was closed", l)
		}
		for _, want := range []string{fmt.Sprintf("host 127.0.0.1:%d", l), "not back within retry_timeout 400ms"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error lacks %q: %v", want, err)
			}
		}
		if !IsRetryable(err) {
			t.Errorf("a server that stayed away is not retryable by a restart: %v", err)
		}
		if strings.Contains(err.Error(), "Secr3tPass") {
			t.Errorf("the error shows the password: %v", err)
		}
		if d := time.Since(start); d < 100*time.Millisecond || d > 5*time.Second {
			t.Errorf("gave up after %v, want about 400ms", d)
		}
	})
}

// openTestPostgresSink opens a postgres sink through the registry, as the runtime does.
func openTestPostgresSink(dsn string, typ *schema.Type, o Options) (Sink, error) {
	o["dsn"] = dsn
	return NewSink(SinkConfig{UID: "pg", Kind: "postgres", Type: typ, Options: o})
}

// newTestPostgresSink opens a postgres sink that must open.
func newTestPostgresSink(t *testing.T, dsn string, typ *schema.Type, o Options) Sink {
	t.Helper()
	s, err := openTestPostgresSink(dsn, typ, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// assertRows compares a query's rows (tab-separated text) with want.
func assertRows(t *testing.T, dsn, query string, want []string) {
	t.Helper()
	if got := pgtest.Rows(t, dsn, query); !slices.Equal(got, want) {
		t.Errorf("%s:\n got %q\nwant %q", query, got, want)
	}
}

// closedPort returns a loopback port that nothing listens on: one the kernel just handed out
// and that was closed again.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}
