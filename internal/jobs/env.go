package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Env is the environment a job's pipeline was resolved in: each variable its ${…} references
// read, with its value, or nil when it was unset (a default applied). Kept in the job folder
// (mode 0600: values may be secrets), it lets the job's pipeline copy be loaded again as the
// job loaded it, whatever the environment of the process that loads it.
type Env map[string]*string

// WriteEnv writes the job's Env into its folder under home, which must exist.
func WriteEnv(home, id string, env Env) error {
	if env == nil {
		env = Env{}
	}
	data, err := json.Marshal(env)
	if err != nil {
		return fmt.Errorf("job %s: %w", id, err)
	}
	return writeFileAtomic(PathsOf(home, id).Env, append(data, '\n'))
}

// ReadEnv reads the Env of job id; ok is false when the job folder holds none (a job that an
// older pipectl started).
func ReadEnv(home, id string) (env Env, ok bool, err error) {
	path := PathsOf(home, id).Env
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, false, fmt.Errorf("%s: %w", path, err)
	}
	return env, true, nil
}
