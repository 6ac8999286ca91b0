package connectors

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
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
// (one INSERT … SELECT FROM unnest(…) ON CONFLICT DO UPDATE per batch of 1000, and the same
// in batches of 10,000) and "insert" without (a COPY per batch); "copy" is the baseline, a plain pgx CopyFrom of the same rows
// into a table without index in batches of 1000, without the sink. Each also reports the CPU
// time per row of the server's backend and of the benchmark's process, steadier than rows/s
// on a loaded machine.
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
		cpu := startCPUMeter(b, s.(*postgresSink).conn)
		b.ReportAllocs()
		b.ResetTimer()
		start := time.Now()
		for i := range b.N {
			if err := s.Write(recs[i%len(recs)]); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Committed(); err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		cpu.stop(b) // before Close ends the backend
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
	}
	b.Run("upsert", func(b *testing.B) { run(b, Options{"key": []string{"room"}}) })
	b.Run("upsert-batch-10000", func(b *testing.B) { run(b, Options{"key": []string{"room"}, "batch_size": int64(10_000)}) })
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
		cpu := startCPUMeter(b, conn)
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
		cpu.stop(b)
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "rows/s")
	})
}

// cpuMeter measures the CPU time of a benchmark: its own process's and that of the server
// backend serving one connection (read from /proc: the cluster runs on this machine).
type cpuMeter struct {
	pid            int
	self0, server0 time.Duration
}

func startCPUMeter(b *testing.B, conn *pgx.Conn) *cpuMeter {
	m := &cpuMeter{pid: int(conn.PgConn().PID())}
	m.self0, m.server0 = selfCPU(b), procCPU(b, m.pid)
	return m
}

// stop reports the CPU time per row (b.N rows) since the start.
func (m *cpuMeter) stop(b *testing.B) {
	self, server := selfCPU(b)-m.self0, procCPU(b, m.pid)-m.server0
	b.ReportMetric(float64(server.Nanoseconds())/1e3/float64(b.N), "server-µs/row")
	b.ReportMetric(float64(self.Nanoseconds())/1e3/float64(b.N), "client-µs/row")
}

// selfCPU is the user and system CPU time of this process.
func selfCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the user and system CPU time of process pid (fields 14 and 15 of
// /proc/PID/stat, in clock ticks of 10ms).
func procCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatalf("the server's CPU time: %v", err)
	}
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])) // after the command's name
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("/proc/%d/stat: %q", pid, stat)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
