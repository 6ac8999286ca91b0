package compat

import (
	"os"

	"github.com/pipectl/pipectl/internal/testkit"
)

// archive is one data-driven case: a txtar archive read with the shared test kit.
type archive = testkit.Archive

// archiveEntry is one file of a case.
type archiveEntry = testkit.File

func parseArchiveFile(path string) (*archive, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return testkit.ParseArchive(data), nil
}

func formatArchive(a *archive) []byte { return a.Format() }
