package jobs

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// SecureJobsDir checks home/jobs before a job is created there. Another user able to write
// into it could plant a job folder, a socket or a symlink that pipectl then trusts. A jobs
// directory of this user that is writable by group or others is fixed (mode 0700) and the
// returned warning says so; one owned by another user is refused. A missing one is fine
// (Create makes it 0700).
func SecureJobsDir(home string) (warning string, err error) {
	dir := filepath.Join(home, "jobs")
	fi, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("jobs directory: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("jobs directory %s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return "", fmt.Errorf("jobs directory %s belongs to another user (uid %d): set PIPECTL_HOME to a directory of your own", dir, st.Uid)
	}
	if fi.Mode().Perm()&0o022 == 0 {
		return "", nil
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("jobs directory %s is writable by other users and cannot be fixed: %w", dir, err)
	}
	return fmt.Sprintf("warning: jobs directory %s was writable by other users (mode %04o); its mode is now 0700", dir, fi.Mode().Perm()), nil
}
