package connectors

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/pipectl/pipectl/internal/pgtest"
)

// roomStateType is the record of the benchmarks: a room's state, as the pit stop's example
// upserts it.
const roomStateType = "{room: int, state: string, since: int, motions: int, info: {sensor: string, level: float}}"

// pgBenchRooms is the number of distinct rooms (keys) the benchmark records cycle through.
const pgBenchRooms = 100_000

func roomState(i int) map[string]any {
	return map[string]any{
		"room": int64(i % pgBenchRooms), "state": [...]string{"idle", "motion", "alarm"}[i%3],
		"since": int64(1_700_000_000_000 + i), "motions": int64(i / pgBenchRooms),
		"info": map[string]any{"sensor": fmt.Sprintf("s-%d", i%97), "level": float64(i%1000) / 10},
	}
}

// roomStates makes the records of a benchmark of n rows (it cycles through them).
func roomStates(n int) []map[string]any {
	recs := make([]map[string]any, min(n, 2*pgBenchRooms))
	for i := range recs {
		recs[i] = roomState(i)
	}
	return recs
}

// BenchmarkPostgresSink writes b.N room states through the sink into a real server (one
// throwaway cluster, a database per sub-benchmark) and reports rows/s: "upsert" with key
// (COPY into a staging table, then INSERT … ON CONFLICT DO UPDATE, batches of 1000) and
// "insert" without; "copy" is the baseline, a plain pgx CopyFrom of the same rows into an
// empty table in batches of 1000, without the sink.
func BenchmarkPostgresSink(b *testing.B) {
	c := pgtest.Start(b)
	typ := mustType(b, roomStateType)
	const create = `CREATE TABLE rooms (room bigint PRIMARY KEY, state text NOT NULL, since bigint NOT NULL, motions bigint NOT NULL, info jsonb NOT NULL)`

	run := func(b *testing.B, o Options) {
		dsn := c.CreateDB(b)
		pgtest.MustExec(b, dsn, create)
		if o["key"] == nil {
			pgtest.MustExec(b, dsn, "ALTER TABLE rooms DROP CONSTRAINT rooms_pkey")
		}
		o["table"] = "rooms"
		s, err := openTestPostgresSink(dsn, typ, o)
		if err != nil {
			b.Fatal(err)
		}
		recs := roomStates(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			if err := s.Write(recs[i%len(recs)]); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
	}
	b.Run("upsert", func(b *testing.B) { run(b, Options{"key": []string{"room"}}) })
	b.Run("insert", func(b *testing.B) { run(b, Options{}) })
	b.Run("copy", func(b *testing.B) {
		dsn := c.CreateDB(b)
		pgtest.MustExec(b, dsn, create+"; ALTER TABLE rooms DROP CONSTRAINT rooms_pkey")
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		cols := columnsOf(typ)
		names := columnNames(cols)
		rows := make([][]any, 0, pgDefaultBatch)
		recs := roomStates(b.N)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		flush := func() {
			if _, err := conn.CopyFrom(ctx, pgx.Identifier{"rooms"}, names, pgx.CopyFromRows(rows)); err != nil {
				b.Fatal(err)
			}
			rows = rows[:0]
		}
		for i := range b.N {
			rec := recs[i%len(recs)]
			row := make([]any, len(cols))
			for j, col := range cols {
				if row[j], err = col.value(rec[col.name]); err != nil {
					b.Fatal(err)
				}
			}
			if rows = append(rows, row); len(rows) == pgDefaultBatch {
				flush()
			}
		}
		if len(rows) > 0 {
			flush()
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
	})
}
