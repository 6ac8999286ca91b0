package statedir

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a process that holds a state directory until it is killed (the
// claim must die with its holder): with holderEnv set to "DIR JOBID", TestMain claims DIR
// instead of running the tests.
const (
	holderEnv = "PIPECTL_STATEDIR_TEST_HOLDER"
	// holderLifetime is a safety net: a holder no test killed exits by itself.
	holderLifetime = 2 * time.Minute
	// testWait bounds every poll in the tests.
	testWait = 10 * time.Second
)

func TestMain(m *testing.M) {
	if v := os.Getenv(holderEnv); v != "" {
		var dir, id string
		fmt.Sscan(v, &dir, &id)
		if _, err := Claim(dir, id); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM)
		select {
		case <-sig:
		case <-time.After(holderLifetime):
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
