package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// invocation is one `pipectl SUB ... --flag ...` that a deployment file runs.
type invocation struct {
	where string // file and what in it
	sub   string
	flags []string
}

// commandWord is what a pipectl command looks like (a path after "pipectl" is a copy of the
// binary, and "pipectl" after a path ending in /pipectl a user name: neither is a call).
var commandWord = regexp.MustCompile(`^[a-z][a-z-]*$`)

// pipectlCalls finds the pipectl invocations of a shell text: each `pipectl` word (or a path
// ending in /pipectl) up to the end of its simple command.
func pipectlCalls(where, text string) []invocation {
	var out []invocation
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "#") {
			continue
		}
		words := strings.Fields(strings.NewReplacer("$(", " ", ")", " ", "|", " | ", ";", " ; ", "&&", " && ", "`", " ").Replace(line))
		for i, w := range words {
			if w != "pipectl" && !strings.HasSuffix(w, "/pipectl") {
				continue
			}
			inv := invocation{where: where}
			for _, a := range words[i+1:] {
				if a == "|" || a == ";" || a == "&&" || a == "||" {
					break
				}
				switch {
				case strings.HasPrefix(a, "--"):
					inv.flags = append(inv.flags, strings.SplitN(a, "=", 2)[0])
				case inv.sub == "" && !strings.HasPrefix(a, "-"):
					inv.sub = a
				}
			}
			if commandWord.MatchString(inv.sub) && inv.sub != "pipectl" {
				out = append(out, inv)
			}
		}
	}
	return out
}

// checkInvocations runs `pipectl SUB --help` for every invocation: SUB must be a command and
// every flag one of its flags.
func checkInvocations(t *testing.T, calls []invocation) {
	t.Helper()
	if len(calls) == 0 {
		t.Fatal("no pipectl invocation found")
	}
	helps := map[string]string{}
	for _, c := range calls {
		if c.sub == "" {
			t.Errorf("%s: pipectl without a command", c.where)
			continue
		}
		help, ok := helps[c.sub]
		if !ok {
			ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
			out, err := exec.CommandContext(ctx, pipectlBin, c.sub, "--help").CombinedOutput()
			cancel()
			help = string(out)
			if err != nil || !strings.Contains(help, "pipectl "+c.sub+" ") {
				t.Errorf("%s: `pipectl %s` is not a pipectl command: %v\n%s", c.where, c.sub, err, out)
				help = ""
			}
			helps[c.sub] = help
		}
		for _, f := range c.flags {
			if help != "" && !regexp.MustCompile(regexp.QuoteMeta(f)+`[ ,]`).MatchString(help) {
				t.Errorf("%s: pipectl %s has no flag %s", c.where, c.sub, f)
			}
		}
	}
}

// TestDeployKubernetes parses the manifests under deploy/k8s: one replica, PIPECTL_HOME on the
// persistent volume, a preStop hook; the pipeline in the ConfigMap validates; every pipectl
// command the manifests and scripts run exists with its flags.
func TestDeployKubernetes(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(repoRoot, "deploy", "k8s", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests under deploy/k8s (%v)", err)
	}
	var calls []invocation
	var sts, cm map[string]any
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); err != nil {
				if err.Error() != "EOF" {
					t.Fatalf("%s: %v", filepath.Base(f), err)
				}
				break
			}
			switch doc["kind"] {
			case "StatefulSet", "Deployment":
				sts = doc
			case "ConfigMap":
				cm = doc
			}
		}
	}
	if sts == nil || cm == nil {
		t.Fatalf("want a StatefulSet (or Deployment) and a ConfigMap under deploy/k8s")
	}
	spec := dig(t, sts, "spec").(map[string]any)
	if spec["replicas"] != 1 {
		t.Errorf("replicas %v, want 1: one live job per state directory", spec["replicas"])
	}
	if claims, _ := spec["volumeClaimTemplates"].([]any); len(claims) != 1 {
		t.Errorf("want one volume claim template, got %v", spec["volumeClaimTemplates"])
	}
	c := dig(t, spec, "template", "spec", "containers").([]any)[0].(map[string]any)
	home := ""
	for _, e := range c["env"].([]any) {
		if e := e.(map[string]any); e["name"] == "PIPECTL_HOME" {
			home = e["value"].(string)
		}
	}
	mounted := false
	for _, m := range c["volumeMounts"].([]any) {
		if m := m.(map[string]any); m["name"] == "data" && m["mountPath"] == home {
			mounted = true
		}
	}
	if home == "" || !mounted {
		t.Errorf("PIPECTL_HOME %q is not the persistent volume's mount path", home)
	}
	for _, path := range [][]string{{"command"}, {"lifecycle", "preStop", "exec", "command"}, {"readinessProbe", "exec", "command"}} {
		calls = append(calls, pipectlCalls("container "+strings.Join(path, "."), strings.Join(toStrings(dig(t, c, path...)), " "))...)
	}
	data := cm["data"].(map[string]any)
	for name, v := range data {
		if strings.HasSuffix(name, ".sh") {
			calls = append(calls, pipectlCalls("ConfigMap "+name, v.(string))...)
		}
	}
	for _, script := range []string{"start.sh", "stop.sh"} {
		if data[script] == nil {
			t.Errorf("the ConfigMap has no %s", script)
		}
	}
	if !strings.Contains(data["stop.sh"].(string), "pipectl stop") || !strings.Contains(data["start.sh"].(string), "pipectl upgrade") {
		t.Error("preStop must take a savepoint with pipectl stop, and the start restore it with pipectl upgrade")
	}
	checkInvocations(t, calls)

	h := newHarness(t)
	h.write("pipeline.yaml", data["pipeline.yaml"].(string))
	if res := h.mustRun(0, "validate", "pipeline.yaml"); strings.TrimSpace(res.stdout) != "ok" {
		t.Errorf("the ConfigMap's pipeline does not validate: %s", res.stdout)
	}
}

// dig walks nested mappings.
func dig(t *testing.T, v any, path ...string) any {
	t.Helper()
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok || m[k] == nil {
			t.Fatalf("manifest: no %s", strings.Join(path, "."))
		}
		v = m[k]
	}
	return v
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestDeploySystemd parses the systemd unit: it restarts on failure, stops with SIGTERM, and
// runs pipectl commands and flags that exist.
func TestDeploySystemd(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot, "deploy", "systemd", "pipectl@.service")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	section := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				t.Fatalf("%s: not key=value: %q", path, line)
			}
			keys[section+k] = append(keys[section+k], v)
		}
	}
	for key, want := range map[string]string{
		"[Service]Restart": "on-failure", "[Service]KillSignal": "SIGTERM",
		"[Service]Environment": "PIPECTL_HOME=/var/lib/pipectl", "[Install]WantedBy": "multi-user.target",
	} {
		if got := keys[key]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %v, want %s", key, got, want)
		}
	}
	var calls []invocation
	for _, key := range []string{"[Service]ExecStartPre", "[Service]ExecStart", "[Service]ExecStop"} {
		for _, v := range keys[key] {
			calls = append(calls, pipectlCalls(key, v)...)
		}
	}
	if len(keys["[Service]ExecStart"]) != 1 || !strings.Contains(keys["[Service]ExecStart"][0], "pipectl run") {
		t.Errorf("ExecStart %v does not run the pipeline", keys["[Service]ExecStart"])
	}
	checkInvocations(t, calls)
}

// TestDeployDockerfile checks the Dockerfile's shape — multi-stage, a static binary, data
// under PIPECTL_HOME=/data on a volume — and builds it where a Docker daemon answers.
func TestDeployDockerfile(t *testing.T) {
	t.Parallel()
	df := mustRead(t, filepath.Join(repoRoot, "Dockerfile"))
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/pipectl", "ENV PIPECTL_HOME=/data", `VOLUME ["/data"]`,
		"COPY --from=build /out/pipectl /usr/local/bin/pipectl", `ENTRYPOINT ["/usr/local/bin/pipectl"]`} {
		if !strings.Contains(df, want) {
			t.Errorf("the Dockerfile lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^FROM `).FindAllString(df, -1)); n != 2 {
		t.Errorf("%d stages, want 2 (build, then a small runtime image)", n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := exec.CommandContext(ctx, "docker", "info").Run(); err != nil {
		t.Skipf("no Docker daemon answers here (docker info: %v): the image is not built", err)
	}
	bctx, bcancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer bcancel()
	build := exec.CommandContext(bctx, "docker", "build", "-t", "pipectl:e2e", repoRoot)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	out, err := exec.CommandContext(bctx, "docker", "run", "--rm", "pipectl:e2e", "validate", "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "pipectl validate") {
		t.Errorf("the image does not run pipectl: %v\n%s", err, out)
	}
}

// TestDeployDocs checks the pipectl commands of docs/deployment.md's shell examples.
func TestDeployDocs(t *testing.T) {
	t.Parallel()
	doc := mustRead(t, filepath.Join(repoRoot, "docs", "deployment.md"))
	var calls []invocation
	for _, block := range regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(doc, -1) {
		calls = append(calls, pipectlCalls("docs/deployment.md", block[1])...)
	}
	checkInvocations(t, calls)
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
