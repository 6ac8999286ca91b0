package pipetest

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// Summary counts the tests of a run.
type Summary struct{ Passed, Failed, Unreadable int }

// Summarize counts results.
func Summarize(results []FileResult) Summary {
	var s Summary
	for _, f := range results {
		if f.Err != nil {
			s.Unreadable++
		}
		for _, t := range f.Tests {
			if t.Passed {
				s.Passed++
			} else {
				s.Failed++
			}
		}
	}
	return s
}

// WriteText writes one line per test, `ok NAME (N ms)` or `FAIL NAME` followed by why,
// indented, then the line `N passed, M failed`. Unreadable files are the caller's to report.
func WriteText(w io.Writer, results []FileResult) error {
	var b strings.Builder
	for _, f := range results {
		for _, t := range f.Tests {
			if t.Passed {
				fmt.Fprintf(&b, "ok %s (%d ms)\n", t.Name, t.Elapsed.Milliseconds())
				continue
			}
			fmt.Fprintf(&b, "FAIL %s\n", t.Name)
			for _, l := range append([]string{t.Message}, t.Detail...) {
				fmt.Fprintf(&b, "    %s\n", l)
			}
		}
	}
	s := Summarize(results)
	fmt.Fprintf(&b, "%d passed, %d failed\n", s.Passed, s.Failed)
	_, err := io.WriteString(w, b.String())
	return err
}

// JUnit XML, as CI systems read it: a testsuite per file, a testcase per test.
type (
	junitSuites struct {
		XMLName  xml.Name     `xml:"testsuites"`
		Name     string       `xml:"name,attr"`
		Tests    int          `xml:"tests,attr"`
		Failures int          `xml:"failures,attr"`
		Errors   int          `xml:"errors,attr"`
		Time     string       `xml:"time,attr"`
		Suites   []junitSuite `xml:"testsuite"`
	}
	junitSuite struct {
		Name     string      `xml:"name,attr"`
		Tests    int         `xml:"tests,attr"`
		Failures int         `xml:"failures,attr"`
		Errors   int         `xml:"errors,attr"`
		Time     string      `xml:"time,attr"`
		Cases    []junitCase `xml:"testcase"`
	}
	junitCase struct {
		Name      string        `xml:"name,attr"`
		Classname string        `xml:"classname,attr"`
		Time      string        `xml:"time,attr"`
		Failure   *junitProblem `xml:"failure,omitempty"`
		Error     *junitProblem `xml:"error,omitempty"`
	}
	junitProblem struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",cdata"`
	}
)

// WriteJUnit writes the results as a JUnit XML report. A file that could not be read is a
// testsuite with one testcase in error, so CI shows it too.
func WriteJUnit(w io.Writer, results []FileResult) error {
	doc := junitSuites{Name: "pipectl test"}
	var total time.Duration
	for _, f := range results {
		s := junitSuite{Name: f.File}
		var elapsed time.Duration
		if f.Err != nil {
			s.Tests, s.Errors = 1, 1
			s.Cases = append(s.Cases, junitCase{Name: "read test file", Classname: f.File, Time: seconds(0),
				Error: &junitProblem{Message: f.Err.Error()}})
		}
		for _, t := range f.Tests {
			c := junitCase{Name: t.Name, Classname: f.File, Time: seconds(t.Elapsed)}
			if !t.Passed {
				c.Failure = &junitProblem{Message: t.Message, Text: strings.Join(t.Detail, "\n")}
				s.Failures++
			}
			s.Tests++
			elapsed += t.Elapsed
			s.Cases = append(s.Cases, c)
		}
		s.Time = seconds(elapsed)
		total += elapsed
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds(total)
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s%s\n", xml.Header, out)
	return err
}

// seconds formats a duration as JUnit's seconds with millisecond precision.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }
