package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/pgtest"
	"github.com/pipectl/pipectl/internal/testkit"
)

// postgresPipeline is a paced, bounded job whose running sums per key are upserted into
// PostgreSQL by a sink of two subtasks (records routed by key): a lost or doubled record,
// or an old value written last, changes the table. PG_DSN, COUNT and RATE come from the
// environment of the commands that name the file (harness.bindEnv); more top-level keys may
// follow it.
const postgresPipeline = `name: pg-sums
parallelism: 2
sources:
  - uid: numbers
    kind: generator
    count: ${COUNT}
    rate: ${RATE}
    schema: {id: int, k: int}
    fn: "i => ({id: i, k: i % 7})"
operators:
  - uid: sums
    kind: sum
    input: numbers
    key_by: k
    field: id
sinks:
  - uid: table
    kind: postgres
    input: sums
    parallelism: 2
    dsn: "${PG_DSN}"
    table: sums
    key: [k]
    create_table: true
    batch_size: 50
`

// pgPipeline writes postgresPipeline as p.yaml, with the top-level keys of extra after it,
// and binds its variables.
func (h *harness) pgPipeline(dsn, extra string, count, rate int) {
	h.write("p.yaml", postgresPipeline+extra+"\n")
	h.bindEnv("p.yaml", map[string]string{"PG_DSN": dsn, "COUNT": itoa(count), "RATE": itoa(rate)})
}

// wantSums is the table an uninterrupted run leaves: per k, the sum of the ids i < count
// with i % 7 == k.
func wantSums(count int) []string {
	var sums [7]int
	for i := range count {
		sums[i%7] += i
	}
	var rows []string
	for k, s := range sums {
		rows = append(rows, fmt.Sprintf("%d\t%d", k, s))
	}
	return rows
}

// TestPostgresSink drives the built binary against a throwaway PostgreSQL cluster (one for
// all cases, a database per case).
func TestPostgresSink(t *testing.T) {
	t.Parallel()
	c := pgtest.Start(t)
	const count = 3000
	want := wantSums(count)
	sums := func(t *testing.T, dsn string) []string {
		return pgtest.Rows(t, dsn, "SELECT k, id FROM sums ORDER BY k")
	}

	t.Run("a keyed upsert run", func(t *testing.T) {
		h := newHarness(t)
		dsn := c.CreateDB(t)
		h.pgPipeline(dsn, "", count, 1_000_000)
		h.mustRun(0, "run", "p.yaml")
		if got := sums(t, dsn); !slices.Equal(got, want) {
			t.Errorf("table:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("the example, its dsn from PG_DSN", func(t *testing.T) {
		h := newHarness(t)
		dsn := c.CreateDB(t)
		cmd := h.command(context.Background(), "run", filepath.Join(repoRoot, "examples", "room-states-postgres.yaml"))
		cmd.Env = append(cmd.Env, "PG_DSN="+dsn)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pipectl run examples/room-states-postgres.yaml: %v\n%s", err, out)
		}
		got := pgtest.Rows(t, dsn, "SELECT room, active, since, motions, last_motion FROM room_states ORDER BY room")
		want := []string{"1\tf\t10000\t3\t11000", "2\tt\t3000\t2\t12000", "3\tf\t12500\t1\t12500"}
		if !slices.Equal(got, want) {
			t.Errorf("room_states:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("records reach the sink's subtasks by key", func(t *testing.T) {
		// Both source subtasks produce every key; a trigger logs which connection (sink
		// subtask) writes each row. Routed by key, each key has one writer.
		h := newHarness(t)
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, `CREATE TABLE routed (k bigint PRIMARY KEY, id bigint NOT NULL);
			CREATE TABLE writes (k bigint, pid int);
			CREATE FUNCTION log_write() RETURNS trigger LANGUAGE plpgsql AS
				$$ BEGIN INSERT INTO writes VALUES (NEW.k, pg_backend_pid()); RETURN NEW; END $$;
			CREATE TRIGGER log_write BEFORE INSERT OR UPDATE ON routed FOR EACH ROW EXECUTE FUNCTION log_write();`)
		h.write("p.yaml", `name: routed
sources:
  - uid: numbers
    kind: generator
    parallelism: 2
    count: 2000
    schema: {id: int, k: int}
    fn: "i => ({id: i, k: i % 7})"
sinks:
  - uid: table
    kind: postgres
    input: numbers
    parallelism: 2
    dsn: "`+dsn+`"
    table: routed
    key: [k]
    batch_size: 10
`)
		h.mustRun(0, "run", "p.yaml")
		if got := pgtest.Rows(t, dsn, "SELECT k FROM writes GROUP BY k HAVING count(DISTINCT pid) > 1 ORDER BY k"); len(got) > 0 {
			t.Errorf("keys written by both sink subtasks: %q", got)
		}
		if got := pgtest.Rows(t, dsn, "SELECT count(DISTINCT pid), count(DISTINCT k) FROM writes"); !slices.Equal(got, []string{"2\t7"}) {
			t.Errorf("writers, keys = %q, want both subtasks writing the 7 keys", got)
		}
	})

	t.Run("kill -9 mid-run, run again", func(t *testing.T) {
		h := newHarness(t)
		dsn := c.CreateDB(t)
		h.pgPipeline(dsn, "checkpoint: {interval: 150ms}", count, 1500)
		run := h.start("run", "p.yaml")
		checkpoints := filepath.Join(h.home, "state", "pg-sums", "checkpoints")
		testkit.Eventually(t, 20*time.Second, "a complete checkpoint and some rows", func() bool {
			return completeCheckpoints(checkpoints) > 0 && pgHasRows(dsn)
		})
		run.signal(t, syscall.SIGKILL)
		select {
		case <-run.done:
		case <-time.After(10 * time.Second):
			t.Fatal("the killed process did not end")
		}
		if got := sums(t, dsn); slices.Equal(got, want) {
			t.Fatal("the job had finished before the kill: nothing was tested")
		}
		res := h.mustRun(0, "run", "p.yaml")
		if !regexp.MustCompile(`(?m)^Resuming from checkpoint `).MatchString(res.stderr) {
			t.Errorf("the second run does not say it resumes:\n%s", res.stderr)
		}
		if got := sums(t, dsn); !slices.Equal(got, want) {
			t.Errorf("after kill -9 and a rerun the table holds\n%q\nan uninterrupted run\n%q", got, want)
		}
	})

	t.Run("replay from an older savepoint", func(t *testing.T) {
		h := newHarness(t)
		dsn := c.CreateDB(t)
		h.pgPipeline(dsn, "", count, 1500)
		id := h.detach("run", "-d", "p.yaml")
		sp := h.savepointPath(h.mustRun(0, "savepoint", id))
		if st := h.waitEnded(id); st != "FINISHED" {
			t.Fatalf("job ended %s", st)
		}
		if got := sums(t, dsn); !slices.Equal(got, want) {
			t.Fatalf("the first run left\n%q\nwant\n%q", got, want)
		}
		// Spoil every row: the replay of the records after the savepoint must write them all again.
		pgtest.MustExec(t, dsn, "UPDATE sums SET id = -1")
		res := h.mustRun(0, "run", "p.yaml", "--from-savepoint", sp)
		if !strings.Contains(res.stderr, "Restored") && !strings.Contains(res.stderr, "restored") {
			t.Logf("stderr of the replay:\n%s", res.stderr)
		}
		if got := sums(t, dsn); !slices.Equal(got, want) {
			t.Errorf("after replaying from %s the table holds\n%q\nan uninterrupted run\n%q", sp, got, want)
		}
	})

	t.Run("a table that does not fit fails with every mismatch", func(t *testing.T) {
		h := newHarness(t)
		dsn := c.CreateDB(t)
		pgtest.MustExec(t, dsn, "CREATE TABLE sums (k integer, id text, owner text NOT NULL)")
		h.pgPipeline(dsn, "", count, 1_000_000)
		res := h.mustRun(1, "run", "p.yaml")
		for _, w := range []string{
			fmt.Sprintf("host 127.0.0.1:%d", c.Port), `table "sums"`, "4 mismatches",
			`column "id" is text: field "id" is int (want bigint or numeric)`,
			`column "k" is integer: field "k" is int (want bigint or numeric)`,
			`column "owner" is NOT NULL without a default, and the input has no field "owner"`,
			`no primary key or unique constraint on (k)`,
		} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
			}
		}
		if got := pgtest.Rows(t, dsn, "SELECT count(*) FROM sums"); !slices.Equal(got, []string{"0"}) {
			t.Errorf("rows were written: %v", got)
		}
	})

	t.Run("a wrong password is not shown", func(t *testing.T) {
		h := newHarness(t)
		dsn := c.CreateDB(t)
		db := dsn[strings.LastIndex(dsn, "/")+1 : strings.Index(dsn, "?")]
		c.CreateRole(t, "writer", "the-right-one")
		const secret = "N0t-The-Passw0rd"
		h.pgPipeline(c.UserDSN("writer", secret, db), "", count, 1_000_000)
		if res := h.mustRun(0, "validate", "p.yaml"); res.stdout != "ok\n" { // validate never connects
			t.Errorf("validate: %q", res.stdout)
		}
		res := h.mustRun(1, "run", "p.yaml")
		if strings.Contains(res.stderr+res.stdout, secret) {
			t.Errorf("the output shows the password:\n%s", res.stderr)
		}
		for _, w := range []string{fmt.Sprintf("host 127.0.0.1:%d", c.Port), "password authentication failed"} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("stderr lacks %q:\n%s", w, res.stderr)
			}
		}
	})
}

// pgHasRows reports whether table sums exists and holds rows.
func pgHasRows(dsn string) bool {
	rows, err := pgtest.QueryRows(dsn, "SELECT k FROM sums")
	return err == nil && len(rows) > 0
}
