// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb and pg_ctl from the
// local installation (Debian's postgresql package, or whatever pg_ctl is on PATH) in a
// temporary directory, listening on 127.0.0.1 at a free port with its unix socket in the same
// directory, trust authentication for every user but the password roles a test creates.
// When the test runs as root, the cluster runs as the `postgres` user (PostgreSQL refuses to
// run as root). A test that needs a server and finds no binaries is skipped, saying why.
//
// Start one cluster per test binary or per top-level test, and give each test a database of
// its own with CreateDB.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	Host string // 127.0.0.1
	Port int
	dir  string // holds data/, the socket and the log
	bin  string // the directory of initdb, pg_ctl and postgres
	as   string // the user the server runs as ("" for the current one)
	dbs  atomic.Int64
}

// BinDir returns the directory of the PostgreSQL server binaries (initdb, pg_ctl), or an
// error saying why there is none.
func BinDir() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := os.Stat(filepath.Join(filepath.Dir(p), "initdb")); err == nil {
			return filepath.Dir(p), nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) }) // newest first
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries (initdb, pg_ctl) on PATH or under /usr/lib/postgresql/*/bin: install the postgresql package")
}

// version is the major version in /usr/lib/postgresql/<version>/bin (0 when not a number).
func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start starts a cluster that is stopped and removed when tb's test ends. It skips tb when
// PostgreSQL is not installed, and fails it when the cluster does not start.
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := StartCluster()
	if errors.Is(err, errNotInstalled) {
		tb.Skipf("pgtest: %v", err)
	}
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(c.Stop)
	return c
}

// errNotInstalled is what StartCluster wraps when there are no server binaries: Start skips.
var errNotInstalled = errors.New("PostgreSQL is not installed")

// StartCluster starts a cluster; the caller must Stop it. The error wraps a "not installed"
// error when the binaries are absent.
func StartCluster() (*Cluster, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNotInstalled, err)
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Host: "127.0.0.1", dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		if err := c.runAsPostgres(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	if err := c.initdb(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	var lastErr error
	for range 3 { // the free port may be taken between choosing it and binding it
		if c.Port, err = freePort(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if lastErr = c.start(); lastErr == nil {
			return c, nil
		}
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

// runAsPostgres prepares running the server as the postgres user: PostgreSQL refuses root.
func (c *Cluster) runAsPostgres() error {
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chmod(c.dir, 0o755); err != nil {
		return err
	}
	if err := os.Chown(c.dir, uid, gid); err != nil {
		return err
	}
	c.as = "postgres"
	return nil
}

// command runs one of the server binaries, as the postgres user when the test is root.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, name)
	if c.as != "" {
		return exec.Command("runuser", append([]string{"-u", c.as, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *Cluster) run(name string, args ...string) error {
	cmd := c.command(name, args...)
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

// initdb creates the cluster and its access rules: role pgtest_password (and any role a test
// creates with CreateRole) must give its password; everyone else is trusted.
func (c *Cluster) initdb() error {
	if err := c.run("initdb", "-D", c.data(), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		return err
	}
	hba := "local all all trust\n" +
		"host all +pgtest_password 127.0.0.1/32 scram-sha-256\n" +
		"host all all 127.0.0.1/32 trust\n"
	return os.WriteFile(filepath.Join(c.data(), "pg_hba.conf"), []byte(hba), 0o600)
}

// start starts the server on c.Port and waits until it accepts connections.
func (c *Cluster) start() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=50", c.Port, c.dir)
	if err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "server.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		return fmt.Errorf("%v\nserver log:\n%s", err, log)
	}
	return c.Exec("postgres", "CREATE ROLE pgtest_password NOLOGIN")
}

// Stop stops the server at once and removes its directory.
func (c *Cluster) Stop() {
	_ = c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	os.RemoveAll(c.dir)
}

// DSN is the URL of database db for user postgres (trusted: no password).
func (c *Cluster) DSN(db string) string {
	return c.UserDSN("postgres", "", db)
}

// UserDSN is the URL of database db for a user with a password ("" for none).
func (c *Cluster) UserDSN(usr, password, db string) string {
	u := url.URL{Scheme: "postgres", Host: net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	if password != "" {
		u.User = url.UserPassword(usr, password)
	} else {
		u.User = url.User(usr)
	}
	return u.String()
}

// CreateDB creates a fresh database and returns its DSN.
func (c *Cluster) CreateDB(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test_%d", c.dbs.Add(1))
	if err := c.Exec("postgres", "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return c.DSN(name)
}

// CreateRole creates a login role that must authenticate with password (over TCP); it is a
// superuser, so that it may create tables in any test database.
func (c *Cluster) CreateRole(tb testing.TB, name, password string) {
	tb.Helper()
	sql := fmt.Sprintf("CREATE ROLE %s LOGIN SUPERUSER PASSWORD '%s' IN ROLE pgtest_password", pgx.Identifier{name}.Sanitize(), strings.ReplaceAll(password, "'", "''"))
	if err := c.Exec("postgres", sql); err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
}

// Exec runs SQL statements in database db.
func (c *Cluster) Exec(db, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("%s: %w", sql, err)
	}
	return nil
}

// MustExec runs SQL statements in the database of dsn, failing tb on an error.
func MustExec(tb testing.TB, dsn, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("pgtest: %s: %v", sql, err)
	}
}

// Rows returns the result of a query as lines of tab-separated text values (NULL for null),
// in the query's order: easy to compare with a want list. An error fails tb.
func Rows(tb testing.TB, dsn, query string) []string {
	tb.Helper()
	rows, err := QueryRows(dsn, query)
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	return rows
}

// QueryRows is Rows returning its error (for polling a table that may not exist yet).
func QueryRows(dsn, query string) ([]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, query, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	var out []string
	for rows.Next() {
		raw := rows.RawValues()
		cols := make([]string, len(raw))
		for i, v := range raw {
			if v == nil {
				cols[i] = "NULL"
			} else {
				cols[i] = string(v)
			}
		}
		out = append(out, strings.Join(cols, "\t"))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", query, err)
	}
	return out, nil
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
