package pgtest

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestCluster(t *testing.T) {
	c := Start(t)
	dsn := c.CreateDB(t)
	MustExec(t, dsn, "CREATE TABLE t (a bigint, b text); INSERT INTO t VALUES (1, 'x'), (2, NULL)")
	got := strings.Join(Rows(t, dsn, "SELECT a, b FROM t ORDER BY a"), "|")
	if want := "1\tx|2\tNULL"; got != want {
		t.Fatalf("rows = %q, want %q", got, want)
	}
	if other := c.CreateDB(t); other == dsn {
		t.Fatalf("CreateDB returned the same database twice: %s", dsn)
	}

	c.CreateRole(t, "alice", "s3cret")
	db := strings.TrimPrefix(dsn[strings.LastIndex(dsn, "/"):], "/")
	db = strings.TrimSuffix(db, "?sslmode=disable")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.UserDSN("alice", "s3cret", db))
	if err != nil {
		t.Fatalf("the right password: %v", err)
	}
	conn.Close(ctx)
	if conn, err := pgx.Connect(ctx, c.UserDSN("alice", "wrong", db)); err == nil {
		conn.Close(ctx)
		t.Fatal("a wrong password was accepted: the password role is trusted")
	}
}
