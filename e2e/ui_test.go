package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/pipectl/pipectl/internal/testkit"
)

// chromiumPath is Debian's chromium package, which the dashboard test drives headless.
const chromiumPath = "/usr/bin/chromium"

// dashboardPipeline keeps running (a generator with a rate) and has a branch, a keyed state
// and two sinks, so the graph has something to show.
const dashboardPipeline = `name: room-temperatures
parallelism: 2
sources:
  - uid: readings
    kind: generator
    rate: 100
    fn: "i => ({room: i % 8, tenths: 180 + (i * 37) % 90})"
    schema: {room: int, tenths: int}
operators:
  - uid: celsius
    kind: map
    input: readings
    output: {room: int, c: float}
    fn: "r => ({room: r.room, c: r.tenths / 10})"
  - uid: too-warm
    kind: filter
    input: celsius
    fn: "r => r.c > 26"
  - uid: max-per-room
    kind: max_by
    input: celsius
    key_by: room
    field: c
sinks:
  - uid: maxima
    kind: stdout
    input: max-per-room
  - uid: alerts
    kind: file
    input: too-warm
    path: alerts.jsonl
`

// dashboardLine is what pipectl ui prints on stderr.
var dashboardLine = regexp.MustCompile(`dashboard: (http://127\.0\.0\.1:\d+/)\n`)

func TestDashboardInChromium(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("this test drives headless Chromium and %s is absent (Debian: apt-get install chromium)", chromiumPath)
	}
	h := newHarness(t)
	h.write("temps.yaml", dashboardPipeline)
	id := h.detach("run", "-d", "temps.yaml", "--checkpoint-interval", "2s")

	const token = "e2e-secret"
	ui := h.start("ui", "--addr", "127.0.0.1:0", "--auth-token", token)
	var base string
	testkit.Eventually(t, 10*time.Second, "the dashboard line on stderr", func() bool {
		m := dashboardLine.FindStringSubmatch(ui.stderr.String())
		if m != nil {
			base = m[1]
		}
		return m != nil || ui.exited()
	})
	if base == "" {
		t.Fatalf("pipectl ui exited: %s", ui.stderr.String())
	}
	resp, err := http.Get(base + "api/jobs")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET api/jobs without the token: %d, want 401", resp.StatusCode)
	}

	ctx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()))
	defer cancel()
	ctx, cancel = chromedp.NewContext(ctx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	browser := func(what string, a chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, a); err != nil {
			t.Fatalf("%s: %v\npipectl ui stderr:\n%s", what, err, ui.stderr.String())
		}
	}
	browser("open the dashboard", chromedp.Navigate(base+"?token="+token+"#job="+id))
	// Every confirmation the page asks is accepted, and counted.
	dialogs := make(chan string, 4)
	go func() {
		for ev, err := range chromedp.Events(ctx, page.JavascriptDialogOpening) {
			if err != nil {
				return
			}
			dialogs <- ev.Message
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	row := fmt.Sprintf(`#jobs tr[data-id="%s"]`, id)
	browser("the job in the list", chromedp.WaitVisible(row))
	browser("the job's graph", chromedp.WaitVisible(`#graph g.node`))
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector('%s .badge').textContent`, row)))
	if err != nil || status != "RUNNING" {
		t.Errorf("the job's status in the list: %q (%v), want RUNNING", status, err)
	}
	nodes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#graph g.node")].map(n => n.dataset.uid)`))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(nodes, " "); got != "readings celsius too-warm max-per-room maxima alerts" {
		t.Errorf("graph nodes %q", got)
	}
	edges, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#graph path.edge").length`))
	if err != nil || edges != 5 {
		t.Errorf("graph edges: %d (%v), want 5", edges, err)
	}

	// The counters go up without a reload, and rates appear.
	count := func(uid string) int {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(
			`Number(document.querySelector('#operators tr[data-uid="%s"] .records-in')?.textContent) || 0`, uid)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	var first int
	testkit.Eventually(t, 20*time.Second, "records counted at max-per-room", func() bool { first = count("max-per-room"); return first > 0 })
	testkit.Eventually(t, 20*time.Second, "the count of max-per-room rising on the page", func() bool { return count("max-per-room") > first })
	rate, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const t = document.querySelector('#operators tr[data-uid="celsius"] .rate-in')?.textContent; return Number(t) > 0 && t })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	if err != nil {
		t.Fatalf("no rate for celsius: %v", err)
	}
	t.Logf("celsius: %s records/s", rate)
	browser("a checkpoint listed", chromedp.WaitVisible(`#checkpoints tr[data-path]`))

	// A savepoint from the page: confirm, then the path, on disk and in the list.
	browser("click Savepoint", chromedp.Click(`#btn-savepoint`))
	path, err := chromedp.Run(ctx, chromedp.Poll[string](`document.querySelector("#action-result").dataset.path`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("no savepoint path on the page: %v", err)
	}
	select {
	case msg := <-dialogs:
		if !strings.Contains(msg, "savepoint") {
			t.Errorf("the confirmation asked %q", msg)
		}
	default:
		t.Error("the savepoint was taken without a confirmation")
	}
	if filepath.Dir(path) != filepath.Join(h.home, "savepoints") || !strings.HasPrefix(filepath.Base(path), "savepoint-"+id[:6]+"-") {
		t.Errorf("savepoint path %s, want one in %s/savepoints", path, h.home)
	}
	if _, err := os.Stat(filepath.Join(path, "_metadata.json")); err != nil {
		t.Errorf("the savepoint from the page is not on disk: %v", err)
	}
	browser("the savepoint listed", chromedp.WaitVisible(fmt.Sprintf(`#savepoints tr[data-path="%s"]`, path)))
	if info, ok := h.jobInfo(id); !ok || info.Status != "RUNNING" {
		t.Errorf("the job after the savepoint: %+v, want it RUNNING", info)
	}

	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	saveScreenshot(t, "dashboard.png", shot)

	// The token left the address bar; a reload still gets in, with the one the tab keeps.
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || strings.Contains(loc, token) {
		t.Errorf("the address still shows the token: %s (%v)", loc, err)
	}
	browser("reload", chromedp.Reload())
	browser("the job after a reload", chromedp.WaitVisible(row))

	// The compatibility check of a new version against the running job.
	// celsius gains a required field, so the state of max-per-room (its input) cannot be kept.
	h.write("temps-v2.yaml", strings.NewReplacer(
		"output: {room: int, c: float}", "output: {room: int, c: float, f: float}",
		"c: r.tenths / 10})", "c: r.tenths / 10, f: r.tenths * 0.18 + 32})").Replace(dashboardPipeline))
	browser("ask for a compat report", chromedp.Steps(
		chromedp.SetValue(`#compat-file`, "temps-v2.yaml"),
		chromedp.Click(`#compat-form button[type=submit]`)))
	verdict, err := chromedp.Run(ctx, chromedp.Poll[string](
		`(() => { const v = document.getElementById("compat-verdict").textContent; return v !== "checking…" && v })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	report, _ := chromedp.Run(ctx, chromedp.Text(`#compat-report`))
	if err != nil || verdict != "incompatible" || !strings.Contains(report, "max-per-room") || !strings.Contains(report, "1 incompatible") {
		t.Errorf("compat verdict %q (%v), report:\n%s", verdict, err, report)
	}

	// A narrow window (a phone) scrolls down, not sideways.
	browser("narrow window", chromedp.EmulateViewport(390, 844))
	browser("the graph drawn top to bottom", chromedp.Poll[chromedp.Void](
		`(() => { const b = document.getElementById("graph").viewBox.baseVal; return b.height > b.width })()`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	fits, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth <= window.innerWidth + 1`))
	if err != nil || !fits {
		t.Errorf("the page is wider than a 390 px window (%v)", err)
	}
	narrow, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err == nil {
		saveScreenshot(t, "dashboard-narrow.png", narrow)
	}

	// Stop with a savepoint: the job ends STOPPED and keeps its history on the page.
	browser("click Stop", chromedp.Click(`#btn-stop`))
	stopped, err := chromedp.Run(ctx, chromedp.Poll[string](fmt.Sprintf(
		`(() => { const p = document.querySelector("#action-result").dataset.path; return p !== %q && p })()`, path),
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(60*time.Second)))
	if err != nil {
		t.Fatalf("no stop savepoint on the page: %v", err)
	}
	if msg := <-dialogs; !strings.Contains(msg, "Stop") {
		t.Errorf("the stop confirmation asked %q", msg)
	}
	browser("the job listed as STOPPED", chromedp.WaitVisible(row+`[data-status="STOPPED"]`))
	browser("the stop savepoint listed", chromedp.WaitVisible(fmt.Sprintf(`#savepoints tr[data-path="%s"]`, stopped)))
	if st := h.waitEnded(id); st != "STOPPED" {
		t.Errorf("job status %s after Stop, want STOPPED", st)
	}
	if _, err := os.Stat(filepath.Join(stopped, "_metadata.json")); err != nil {
		t.Errorf("the stop savepoint is not on disk: %v", err)
	}
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`["btn-savepoint", "btn-stop", "btn-cancel"].every(b => document.getElementById(b).disabled)`))
	if err != nil || !buttons {
		t.Errorf("the actions of a stopped job are not disabled (%v)", err)
	}

	ui.signal(t, syscall.SIGINT)
	if code := ui.wait(t, 10*time.Second); code != 0 {
		t.Errorf("pipectl ui exit %d after SIGINT", code)
	}
	if out := ui.stdout.String(); out != "" {
		t.Errorf("pipectl ui wrote on stdout: %q", out)
	}
}

// saveScreenshot keeps a screenshot as a test artifact (go test -artifacts keeps them) and,
// under -update, as the documentation's copy in docs/img/.
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	dirs := []string{t.ArtifactDir()}
	if testkit.Updating() {
		dirs = append(dirs, filepath.Join(repoRoot, "docs", "img"))
	}
	for _, dir := range dirs {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot: %s", p)
	}
}

func TestUIRefusesOpenAddressWithoutToken(t *testing.T) {
	h := newHarness(t)
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		res := h.mustRun(2, "ui", "--addr", addr)
		if res.stdout != "" || !strings.Contains(res.stderr, "--auth-token") {
			t.Errorf("ui --addr %s: stdout %q, stderr %q; want nothing on stdout and a word about --auth-token", addr, res.stdout, res.stderr)
		}
	}
}
