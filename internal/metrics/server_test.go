package metrics

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/testkit"
	"github.com/pipectl/pipectl/runtime"
)

// fakeSource is a Source whose answers a test sets.
type fakeSource struct {
	mu      sync.Mutex
	status  runtime.Status
	entries []runtime.StateCount
}

func (f *fakeSource) Status() runtime.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	st := f.status
	st.Records = append([]runtime.OperatorCount(nil), f.status.Records...)
	return st
}

func (f *fakeSource) StateEntries() []runtime.StateCount {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]runtime.StateCount(nil), f.entries...)
}

func (f *fakeSource) setRecordsIn(uid string, n int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.status.Records {
		if f.status.Records[i].UID == uid {
			f.status.Records[i].In = n
		}
	}
}

func newFakeSource() *fakeSource {
	return &fakeSource{
		status: runtime.Status{
			ID: "job-1", Name: "motion-alarm", Skipped: 3, Restored: "/sp/savepoint-1",
			SourcesStarted:   1700000000000,
			LastCheckpointMs: 1250, LastSavepointMs: 40, Restarts: 2,
			Records: []runtime.OperatorCount{
				{UID: "readings", In: 0, Out: 100},
				{UID: "alarm", In: 100, Out: 7, Backpressure: 0.25, States: []runtime.StateSize{
					{Name: "last", Entries: 12, Bytes: 480}, {Name: "count", Entries: 5, Bytes: 0}}},
			},
		},
		entries: []runtime.StateCount{
			{UID: "alarm", State: "last", Entries: 12},
			{UID: "alarm", State: "count", Entries: 5},
		},
	}
}

// serve starts a server for src on a free port and closes it when the test ends.
func serve(t *testing.T, src Source) *Server {
	t.Helper()
	s, err := Serve("127.0.0.1:0", src, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// get fetches path from s and returns the status code, content type and body.
func get(t *testing.T, s *Server, method, path string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// pipectlLines keeps the lines of a scrape that are about pipectl_ metrics.
func pipectlLines(body []byte) []byte {
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(line, "# HELP "), "# TYPE "), "pipectl_") {
			out.WriteString(line + "\n")
		}
	}
	return out.Bytes()
}

func TestMetricsScrape(t *testing.T) {
	src := newFakeSource()
	s := serve(t, src)
	code, ctype, body := get(t, s, http.MethodGet, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", code, body)
	}
	if !strings.HasPrefix(ctype, "text/plain") {
		t.Errorf("content type %q, want text/plain", ctype)
	}
	testkit.Golden(t, "testdata/metrics.txt", pipectlLines(body))
	if !bytes.Contains(body, []byte("\ngo_goroutines ")) {
		t.Error("the scrape lacks the Go runtime metrics")
	}
}

func TestMetricsReadAtScrapeTime(t *testing.T) {
	src := newFakeSource()
	s := serve(t, src)
	for _, n := range []int64{100, 250, 1 << 40} {
		src.setRecordsIn("alarm", n)
		_, _, body := get(t, s, http.MethodGet, "/metrics")
		var want bytes.Buffer
		want.WriteString(`pipectl_records_in_total{uid="alarm"} `)
		want.WriteString(formatFloat(n))
		if !bytes.Contains(body, want.Bytes()) {
			t.Errorf("after %d records, scrape lacks %q:\n%s", n, want.String(), pipectlLines(body))
		}
	}
}

// formatFloat writes n as the text format does.
func formatFloat(n int64) string { return strconv.FormatFloat(float64(n), 'g', -1, 64) }

func TestJobStatus(t *testing.T) {
	s := serve(t, newFakeSource())
	code, ctype, body := get(t, s, http.MethodGet, "/job")
	if code != http.StatusOK || ctype != "application/json" {
		t.Fatalf("GET /job: %d %q %s", code, ctype, body)
	}
	var shape map[string]any
	if err := json.Unmarshal(body, &shape); err != nil {
		t.Fatalf("GET /job is not JSON: %v\n%s", err, body)
	}
	if shape["status"] != StatusRunning || shape["id"] != "job-1" || shape["name"] != "motion-alarm" {
		t.Errorf("GET /job: status, id or name wrong: %s", body)
	}
	testkit.Golden(t, "testdata/job.json", body)
}

func TestRoutes(t *testing.T) {
	s := serve(t, newFakeSource())
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/metrics", http.StatusOK},
		{http.MethodGet, "/job", http.StatusOK},
		{http.MethodPost, "/metrics", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/job", http.StatusMethodNotAllowed},
		{http.MethodGet, "/", http.StatusNotFound},
		{http.MethodGet, "/jobs", http.StatusNotFound},
	} {
		if code, _, _ := get(t, s, tc.method, tc.path); code != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, code, tc.want)
		}
	}
}

func TestCloseFreesThePort(t *testing.T) {
	s, err := Serve("127.0.0.1:0", newFakeSource(), nil)
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if code, _, _ := get(t, s, http.MethodGet, "/job"); code != http.StatusOK {
		t.Fatalf("GET /job before Close: %d", code)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := http.Get("http://" + addr + "/job"); err == nil {
		t.Error("the server still answers after Close")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("the port is not free after Close: %v", err)
	}
	ln.Close()
}

func TestServeBadAddress(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, addr := range []string{"127.0.0.1:99999", "127.0.0.1:-1", "no-port", busy.Addr().String()} {
		t.Run(addr, func(t *testing.T) {
			s, err := Serve(addr, newFakeSource(), nil)
			if err == nil {
				s.Close()
				t.Fatalf("Serve(%q) succeeded", addr)
			}
			if !strings.Contains(err.Error(), addr) {
				t.Errorf("error %q does not name the address", err)
			}
		})
	}
}

func TestWatermarkLag(t *testing.T) {
	src := newFakeSource()
	wm := time.Now().Add(-90 * time.Second).UnixMilli()
	src.status.Records = append(src.status.Records, runtime.OperatorCount{UID: "counts", WatermarkMs: wm})
	s := serve(t, src)
	_, _, body := get(t, s, http.MethodGet, "/metrics")
	var lag float64
	found := false
	for _, line := range strings.Split(string(body), "\n") {
		if rest, ok := strings.CutPrefix(line, `pipectl_watermark_lag_seconds{uid="counts"} `); ok {
			v, err := strconv.ParseFloat(rest, 64)
			if err != nil {
				t.Fatal(err)
			}
			lag, found = v, true
		}
		if strings.HasPrefix(line, `pipectl_watermark_lag_seconds{uid="alarm"}`) {
			t.Errorf("an operator without event time has a lag: %s", line)
		}
	}
	if !found || lag < 89 || lag > 150 {
		t.Errorf("watermark lag of counts = %v (found %v), want about 90 s", lag, found)
	}
}

// TestServeWarnsOnPublicAddress: an address reachable from other hosts is served with a
// warning; a loopback one is not.
func TestServeWarnsOnPublicAddress(t *testing.T) {
	for _, tt := range []struct {
		addr string
		warn bool
	}{{":0", true}, {"0.0.0.0:0", true}, {"127.0.0.1:0", false}, {"localhost:0", false}, {"[::1]:0", false}} {
		t.Run(tt.addr, func(t *testing.T) {
			var buf bytes.Buffer
			s, err := Serve(tt.addr, newFakeSource(), slog.New(slog.NewTextHandler(&buf, nil)))
			if err != nil {
				t.Skipf("cannot listen on %s here: %v", tt.addr, err)
			}
			s.Close()
			if got := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "without authentication"); got != tt.warn {
				t.Errorf("warned %v, want %v; log:\n%s", got, tt.warn, buf.String())
			}
		})
	}
}

// TestServerBoundsConnections: idle connections are closed after the idle timeout, and no
// more than maxConns are served at once (the next waits for a free slot).
func TestServerBoundsConnections(t *testing.T) {
	defer func(r, i time.Duration, n int) { readTimeout, idleTimeout, maxConns = r, i, n }(readTimeout, idleTimeout, maxConns)
	readTimeout, idleTimeout, maxConns = 300*time.Millisecond, 300*time.Millisecond, 2
	s, err := Serve("127.0.0.1:0", newFakeSource(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var idle []net.Conn
	for range maxConns {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	client := &http.Client{Timeout: 100 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := client.Get("http://" + s.Addr() + "/job"); err == nil {
		resp.Body.Close()
		t.Fatal("a request was served while every connection slot was taken")
	}
	for _, c := range idle {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("an idle connection was not closed by the server: %v", err)
		}
	}
	client.Timeout = 5 * time.Second
	resp, err := client.Get("http://" + s.Addr() + "/job")
	if err != nil {
		t.Fatalf("no request served after the idle connections were closed: %v", err)
	}
	resp.Body.Close()
}
