package cli

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pipectl/pipectl/internal/jobs"
)

// withEnv is gs seen with env in its environment: a variable of env has its value there (or
// is unset, when its value is nil), whatever gs's environment says; the others are gs's.
// It is how a job's pipeline copy is loaded again as the job loaded it.
func withEnv(gs *GlobalState, env jobs.Env) *GlobalState {
	if len(env) == 0 {
		return gs
	}
	sub := *gs
	sub.LookupEnv = func(name string) (string, bool) {
		if v, ok := env[name]; ok {
			if v == nil {
				return "", false
			}
			return *v, true
		}
		return gs.LookupEnv(name)
	}
	sub.Environ = func() []string {
		var out []string
		for _, kv := range gs.Environ() {
			name, _, _ := strings.Cut(kv, "=")
			if _, recorded := env[name]; !recorded {
				out = append(out, kv)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(env)) {
			if v := env[name]; v != nil {
				out = append(out, name+"="+*v)
			}
		}
		return out
	}
	return &sub
}

// copyEnv is the environment to load the pipeline file at path in: a job's pipeline copy
// (jobs/<id>/pipeline.yaml) is loaded as the job loaded it, with its recorded variables; any
// other file in gs's environment.
func copyEnv(gs *GlobalState, path string) (*GlobalState, error) {
	h := mustHome(gs)
	abs, err := absPath(gs, path)
	if h == "" || err != nil {
		return gs, nil
	}
	id := filepath.Base(filepath.Dir(abs))
	if !jobs.ValidID(id) || abs != jobs.PathsOf(h, id).Pipeline {
		return gs, nil
	}
	env, _, err := jobs.ReadEnv(h, id)
	if err != nil {
		return nil, err
	}
	return withEnv(gs, env), nil
}
