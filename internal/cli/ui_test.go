package cli

import (
	"context"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/internal/testkit"
)

func TestUIAddr(t *testing.T) {
	for _, tc := range []struct {
		addr, token string
		ok          bool
	}{
		{"127.0.0.1:8081", "", true},
		{"127.0.0.2:0", "", true},
		{"localhost:8081", "", true},
		{"[::1]:8081", "", true},
		{"0.0.0.0:8081", "", false},
		{":8081", "", false},
		{"192.168.1.10:8081", "", false},
		{"[::]:8081", "", false},
		{"dashboard.example:8081", "", false},
		{"0.0.0.0:8081", "t0ken", true},
		{":8081", "t0ken", true},
		{"8081", "", false},
		{"127.0.0.1", "t0ken", false},
	} {
		err := checkUIAddr(tc.addr, tc.token)
		if (err == nil) != tc.ok {
			t.Errorf("checkUIAddr(%q, %q) = %v, want ok=%v", tc.addr, tc.token, err, tc.ok)
		}
		if err != nil && exitCode(err) != 2 {
			t.Errorf("checkUIAddr(%q, %q): exit code %d, want 2", tc.addr, tc.token, exitCode(err))
		}
	}
}

func TestUICommand(t *testing.T) {
	gs, stdout, _ := testState(t, "ui", "--addr", "127.0.0.1:0")
	var stderr testkit.Buffer
	gs.Stderr = &stderr
	sigs := make(chan os.Signal, 1)
	gs.Signals = func() (<-chan os.Signal, func()) { return sigs, func() {} }
	code := make(chan int, 1)
	go func() { code <- Main(gs) }()

	url := regexp.MustCompile(`dashboard: (http://127\.0\.0\.1:\d+/)\n`)
	var base string
	if !testkit.Poll(10*time.Second, func() bool {
		if m := url.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		}
		return base != ""
	}) {
		t.Fatalf("no dashboard line on stderr: %q", stderr.String())
	}
	resp, err := http.Get(base + "api/jobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET api/jobs: %d", resp.StatusCode)
	}
	sigs <- syscall.SIGINT
	select {
	case c := <-code:
		if c != 0 {
			t.Errorf("exit %d after SIGINT, want 0; stderr: %s", c, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ui did not end on SIGINT")
	}
	if stdout.Len() != 0 {
		t.Errorf("ui wrote on stdout: %q", stdout.String())
	}
}

func TestUIRefusesOpenAddressWithoutToken(t *testing.T) {
	gs, stdout, stderr := testState(t, "ui", "--addr", "0.0.0.0:0")
	if code := Main(gs); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr.String(), "--auth-token") || stdout.Len() != 0 {
		t.Errorf("stdout %q, stderr %q", stdout, stderr)
	}
}

func TestUICompatOfAFinishedJob(t *testing.T) {
	gs, _, _ := testState(t)
	h, err := home(gs)
	if err != nil {
		t.Fatal(err)
	}
	jb, err := jobs.Create(h, jobs.Info{ID: jobs.NewID(), Name: "motion"}, []byte(motionV1))
	if err != nil {
		t.Fatal(err)
	}
	jb.SetStatus(jobs.StatusFinished, jobs.Extra{})
	jb.Close()
	writeFile(t, gs, "same.yaml", motionV1)
	writeFile(t, gs, "rekeyed.yaml", strings.Replace(motionV1, "key_by: room", "key_by: type", 1))
	writeFile(t, gs, "broken.yaml", "name: [")
	compat := uiCompat(gs, h)
	for _, tc := range []struct {
		file, format string
		ok           bool
		want         string // in the report, or in the error
		fails        bool
	}{
		{"same.yaml", "text", true, "checked against the pipeline it ran", false},
		{"rekeyed.yaml", "text", false, "KEY_TYPE_CHANGED", false},
		{"rekeyed.yaml", "json", false, `"compatible": false`, false},
		{"broken.yaml", "text", false, "broken.yaml", true},
		{"missing.yaml", "text", false, "missing.yaml", true},
	} {
		report, ok, err := compat(context.Background(), jb.ID(), tc.file, tc.format)
		if tc.fails {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s: error %v, want one naming %q (report %q)", tc.file, err, tc.want, report)
			}
			continue
		}
		if err != nil || ok != tc.ok || !strings.Contains(report, tc.want) {
			t.Errorf("%s (%s): ok %v, err %v, want ok %v and a report holding %q:\n%s", tc.file, tc.format, ok, err, tc.ok, tc.want, report)
		}
	}
}

func TestDashboardHost(t *testing.T) {
	for _, tc := range []struct{ addr, bound, want string }{
		{"127.0.0.1:8081", "127.0.0.1:8081", "127.0.0.1:8081"},
		{"0.0.0.0:8081", "[::]:8081", "0.0.0.0:8081"},
		{":8081", "[::]:8081", "0.0.0.0:8081"},
		{"localhost:0", "127.0.0.1:40123", "localhost:40123"},
		{"[::1]:9000", "[::1]:9000", "[::1]:9000"},
	} {
		bound, err := net.ResolveTCPAddr("tcp", tc.bound)
		if err != nil {
			t.Fatal(err)
		}
		if got := dashboardHost(tc.addr, bound); got != tc.want {
			t.Errorf("dashboardHost(%q, %s) = %q, want %q", tc.addr, tc.bound, got, tc.want)
		}
	}
}
