package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/internal/jobs"
	"github.com/pipectl/pipectl/runtime"
)

const testPipeline = `name: demo
sources:
  - {uid: readings, kind: generator, fn: "i => ({i})", schema: {i: int}}
operators:
  - {uid: counts, kind: reduce, input: readings, key_by: i, fn: "(a, b) => b"}
sinks:
  - {uid: out, kind: stdout, input: counts}
`

// world is a pipectl home with one running job (answering on a real control socket with
// a fake handler) and one finished job with a history, and a dashboard over it.
type world struct {
	home             string
	running, stopped string
	server           *httptest.Server
	requests         chan jobs.Request
}

func newWorld(t *testing.T, token string) *world {
	t.Helper()
	w := &world{home: t.TempDir(), requests: make(chan jobs.Request, 10)}
	t0 := time.Now().Add(-90 * time.Second)

	fin, err := jobs.Create(w.home, jobs.Info{ID: jobs.NewID(), Name: "demo", Pipeline: "/p/demo.yaml", Started: t0}, []byte(testPipeline))
	if err != nil {
		t.Fatal(err)
	}
	sp := filepath.Join(t.TempDir(), "savepoint-1")
	if err := os.Mkdir(sp, 0o700); err != nil {
		t.Fatal(err)
	}
	fin.RecordCheckpoint(jobs.Snapshot{Path: "/gone/cp-1", Time: t0.Add(time.Second), Bytes: 10, DurationMs: 3})
	fin.RecordSavepoint(jobs.Snapshot{Path: sp, Time: t0.Add(2 * time.Second), Bytes: 20, DurationMs: 4, Trigger: "stop"})
	fin.SetStatus(jobs.StatusStopped, jobs.Extra{Savepoint: sp})
	fin.Close()
	w.stopped = fin.ID()

	run, err := jobs.Create(w.home, jobs.Info{ID: jobs.NewID(), Name: "demo", Pipeline: "/p/demo.yaml", Started: t0.Add(time.Minute)}, []byte(testPipeline))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	w.running = run.ID()
	srv, err := jobs.Serve(run.SocketPath(), jobs.HandlerFunc(func(_ context.Context, req jobs.Request) jobs.Response {
		w.requests <- req
		switch req.Op {
		case jobs.OpStatus:
			b, _ := json.Marshal(runtime.Status{ID: w.running, Name: "demo", Records: []runtime.OperatorCount{
				{UID: "readings", Out: 40},
				{UID: "counts", In: 40, Out: 40, Backpressure: 0.5, States: []runtime.StateSize{{Name: "reduce", Entries: 7, Bytes: 70}}},
				{UID: "out", In: 40},
			}})
			return jobs.Response{OK: true, Data: b}
		case jobs.OpSavepoint, jobs.OpStop:
			return jobs.Response{OK: true, Path: "/sp/new"}
		}
		return jobs.Response{OK: true}
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })

	compat := func(_ context.Context, id, path, format string) (string, bool, error) {
		return format + " report of " + path + " against " + id, strings.HasSuffix(path, "ok.yaml"), nil
	}
	w.server = httptest.NewServer(New(Config{Home: w.home, Token: token, Compat: compat}).Handler())
	t.Cleanup(w.server.Close)
	return w
}

// do sends a request and returns the status code and body.
func (w *world) do(t *testing.T, method, path string, hdr map[string]string, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, w.server.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

var jsonHeader = map[string]string{"Content-Type": "application/json"}

func TestTokenRequired(t *testing.T) {
	w := newWorld(t, "s3cret")
	good := map[string]string{"Authorization": "Bearer s3cret", "Content-Type": "application/json"}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		want               int
	}{
		{"page without token", "GET", "/", nil, 401},
		{"jobs without token", "GET", "/api/jobs", nil, 401},
		{"job without token", "GET", "/api/jobs/" + w.running, nil, 401},
		{"action without token", "POST", "/api/jobs/" + w.running + "/cancel", jsonHeader, 401},
		{"unknown path without token", "GET", "/nothing", nil, 401},
		{"wrong token", "GET", "/api/jobs", map[string]string{"Authorization": "Bearer s3cre"}, 401},
		{"token without Bearer", "GET", "/api/jobs", map[string]string{"Authorization": "s3cret"}, 401},
		{"query token on the API", "GET", "/api/jobs?token=s3cret", nil, 401},
		{"query token on the page", "GET", "/?token=s3cret", nil, 200},
		{"wrong query token on the page", "GET", "/?token=nope", nil, 401},
		{"page with header", "GET", "/", good, 200},
		{"jobs with header", "GET", "/api/jobs", good, 200},
		{"action with header", "POST", "/api/jobs/" + w.running + "/savepoint", good, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := w.do(t, tc.method, tc.path, tc.hdr, "{}")
			if code != tc.want {
				t.Errorf("%s %s: %d, want %d: %s", tc.method, tc.path, code, tc.want, body)
			}
		})
	}
}

func TestActionsArePostOnlyAndSameOrigin(t *testing.T) {
	w := newWorld(t, "")
	self := strings.TrimPrefix(w.server.URL, "http://")
	sp := "/api/jobs/" + w.running + "/savepoint"
	for _, tc := range []struct {
		name, method string
		hdr          map[string]string
		want         int
	}{
		{"GET", "GET", nil, 405},
		{"PUT", "PUT", jsonHeader, 405},
		{"form post", "POST", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"text post", "POST", map[string]string{"Content-Type": "text/plain"}, 415},
		{"no content type", "POST", nil, 415},
		{"cross-site fetch", "POST", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site fetch", "POST", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403},
		{"foreign origin", "POST", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, 403},
		{"null origin", "POST", map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{"same origin", "POST", map[string]string{"Content-Type": "application/json", "Origin": "http://" + self, "Sec-Fetch-Site": "same-origin"}, 200},
		{"no browser headers (curl)", "POST", jsonHeader, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := w.do(t, tc.method, sp, tc.hdr, "{}")
			if code != tc.want {
				t.Errorf("%s: %d, want %d: %s", tc.name, code, tc.want, body)
			}
		})
	}
}

func TestJobList(t *testing.T) {
	w := newWorld(t, "")
	code, body := w.do(t, "GET", "/api/jobs", nil, "")
	if code != 200 {
		t.Fatalf("GET /api/jobs: %d %s", code, body)
	}
	var list []map[string]any
	if err := json.Unmarshal(body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0]["id"] != w.running || list[1]["id"] != w.stopped {
		t.Fatalf("want the running job then the stopped one (newest first), got %s", body)
	}
	for _, key := range []string{"id", "name", "status", "started", "uptime_s", "pipeline"} {
		if _, ok := list[0][key]; !ok {
			t.Errorf("a job lacks %q: %s", key, body)
		}
	}
	if list[0]["status"] != "RUNNING" || list[1]["status"] != "STOPPED" {
		t.Errorf("statuses: %v, %v", list[0]["status"], list[1]["status"])
	}
	if up := list[0]["uptime_s"].(float64); up < 29 || up > 120 {
		t.Errorf("uptime of a job started 30 s ago: %v", up)
	}
	if _, ok := list[1]["finished"]; !ok {
		t.Errorf("the stopped job has no finished time: %s", body)
	}
}

func TestJobDetail(t *testing.T) {
	w := newWorld(t, "")
	var run, stopped JobDetail
	for _, tc := range []struct {
		id  string
		out *JobDetail
	}{{w.running, &run}, {w.stopped, &stopped}} {
		code, body := w.do(t, "GET", "/api/jobs/"+tc.id, nil, "")
		if code != 200 {
			t.Fatalf("GET /api/jobs/%s: %d %s", tc.id, code, body)
		}
		if err := json.Unmarshal(body, tc.out); err != nil {
			t.Fatal(err)
		}
		if tc.out.Graph == nil || len(tc.out.Graph.Nodes) != 3 || len(tc.out.Graph.Edges) != 2 {
			t.Errorf("job %s: graph %+v (%s)", tc.id, tc.out.Graph, tc.out.GraphError)
		}
	}
	if run.Live == nil || len(run.Live.Records) != 3 {
		t.Fatalf("the running job has no live status: %+v (%s)", run.Live, run.LiveError)
	}
	c := run.Live.Records[1]
	if c.UID != "counts" || c.Backpressure != 0.5 || len(c.States) != 1 || c.States[0].Bytes != 70 || c.States[0].Entries != 7 {
		t.Errorf("counts: %+v", c)
	}
	if stopped.Live != nil || stopped.Status != jobs.StatusStopped {
		t.Errorf("the stopped job: status %s, live %+v", stopped.Status, stopped.Live)
	}
	if len(stopped.Checkpoints) != 1 || stopped.Checkpoints[0].Exists || stopped.Checkpoints[0].Path != "/gone/cp-1" {
		t.Errorf("checkpoints: %+v", stopped.Checkpoints)
	}
	if len(stopped.Savepoints) != 1 || !stopped.Savepoints[0].Exists || stopped.Savepoints[0].Bytes != 20 || stopped.Savepoints[0].Trigger != "stop" {
		t.Errorf("savepoints: %+v", stopped.Savepoints)
	}
	// The raw shape, as the page reads it.
	_, body := w.do(t, "GET", "/api/jobs/"+w.running, nil, "")
	for _, key := range []string{`"graph":{"nodes":[{"uid":"readings","kind":"generator","role":"source","layer":0}`,
		`"live":{`, `"backpressure":0.5`, `"states":[{"name":"reduce","entries":7,"bytes":70}]`, `"checkpoints":[]`, `"savepoints":[]`} {
		if !strings.Contains(string(body), key) {
			t.Errorf("GET /api/jobs/{id} lacks %s:\n%s", key, body)
		}
	}
}

func TestActions(t *testing.T) {
	w := newWorld(t, "")
	for _, tc := range []struct {
		action string
		op     string
		path   string
	}{
		{"savepoint", jobs.OpSavepoint, "/sp/new"},
		{"stop", jobs.OpStop, "/sp/new"},
		{"cancel", jobs.OpCancel, ""},
	} {
		t.Run(tc.action, func(t *testing.T) {
			code, body := w.do(t, "POST", "/api/jobs/"+w.running+"/"+tc.action, jsonHeader, "{}")
			var res ActionResult
			if err := json.Unmarshal(body, &res); code != 200 || err != nil || !res.OK || res.Path != tc.path {
				t.Fatalf("POST %s: %d %s", tc.action, code, body)
			}
			if req := <-w.requests; req.Op != tc.op || req.Dir != "" {
				t.Errorf("the job got %+v, want op %s into its default directory", req, tc.op)
			}
		})
	}
	for _, tc := range []struct {
		name, id string
		want     int
	}{
		{"finished job", w.stopped, 409},
		{"unknown job", strings.Repeat("ab", 16), 404},
		{"not a job id", "not-a-job", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := w.do(t, "POST", "/api/jobs/"+tc.id+"/savepoint", jsonHeader, "{}")
			var e apiError
			if code != tc.want || json.Unmarshal(body, &e) != nil || e.Error == "" {
				t.Errorf("savepoint of %s: %d %s, want %d with an error", tc.id, code, body, tc.want)
			}
		})
	}
}

func TestCompat(t *testing.T) {
	w := newWorld(t, "")
	for _, tc := range []struct {
		name, body string
		want       int
		compatible bool
		report     string
	}{
		{"text", `{"file": "/p/ok.yaml"}`, 200, true, "text report of /p/ok.yaml against " + w.running},
		{"json", `{"file": "/p/bad.yaml", "format": "json"}`, 200, false, "json report of /p/bad.yaml against " + w.running},
		{"github format", `{"file": "/p/ok.yaml", "format": "github"}`, 400, false, ""},
		{"no file", `{}`, 400, false, ""},
		{"not json", `file=x`, 400, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := w.do(t, "POST", "/api/jobs/"+w.running+"/compat", jsonHeader, tc.body)
			if code != tc.want {
				t.Fatalf("%d %s, want %d", code, body, tc.want)
			}
			if tc.want != 200 {
				return
			}
			var res CompatResult
			if err := json.Unmarshal(body, &res); err != nil || res.Compatible != tc.compatible || res.Report != tc.report {
				t.Errorf("got %s", body)
			}
		})
	}
}

func TestPage(t *testing.T) {
	w := newWorld(t, "")
	resp, err := http.Get(w.server.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "connect-src 'self'", "script-src 'sha256-", "style-src 'sha256-"} {
		if !strings.Contains(csp, want) {
			t.Errorf("policy %q lacks %q", csp, want)
		}
	}
	for _, want := range []string{`id="graph"`, "setInterval(refresh", "#graph .edge"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the page lacks %q (assets not inlined?)", want)
		}
	}
	for _, bad := range []string{"/*STYLE*/", "/*SCRIPT*/", "http://", "https://"} {
		if strings.Contains(strings.ReplaceAll(string(body), "http://www.w3.org/2000/svg", ""), bad) {
			t.Errorf("the page holds %q: it must be whole and load nothing from elsewhere", bad)
		}
	}
	if code, _ := w.do(t, "GET", "/app.js", nil, ""); code != 404 {
		t.Errorf("GET /app.js: %d, want 404 (assets are inlined)", code)
	}
}

func TestHostMustBeLiteralWithoutToken(t *testing.T) {
	for _, tc := range []struct {
		token, host string
		want        int
	}{
		{"", "127.0.0.1:8081", 200},
		{"", "localhost:8081", 200},
		{"", "[::1]:8081", 200},
		{"", "rebound.example:8081", 421},
		{"", "rebound.example", 421},
		{"t", "dashboard.example:8081", 200}, // the token is the guard then
	} {
		w := newWorld(t, tc.token)
		req, err := http.NewRequest("GET", w.server.URL+"/api/jobs", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tc.host
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("token %q, Host %s: %d, want %d", tc.token, tc.host, resp.StatusCode, tc.want)
		}
	}
}

func TestUnauthorizedPageRetriesWithTheTabsToken(t *testing.T) {
	w := newWorld(t, "s3cret")
	resp, err := http.Get(w.server.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 401 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET / without the token: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), `sessionStorage.getItem("pipectl-token")`) || strings.Contains(string(body), "operators") {
		t.Errorf("the 401 page should only retry with the kept token:\n%s", body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, sourceHash(unauthorizedScript)) {
		t.Errorf("the 401 page's policy %q does not allow its script", csp)
	}
}
