package schema

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// TestRulesMatchDocs checks that docs/compat-rules.md has one `### RULE_ID` heading under
// `## Rules` for every rule of the catalog, and no other, so that no rule goes undocumented
// and the docs name no rule the code does not have.
func TestRulesMatchDocs(t *testing.T) {
	f, err := os.Open("../docs/compat-rules.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var documented []string
	inRules, fenced := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "```"):
			fenced = !fenced
		case fenced:
		case strings.HasPrefix(line, "## "):
			inRules = line == "## Rules"
		case inRules && strings.HasPrefix(line, "### "):
			documented = append(documented, strings.TrimSpace(strings.TrimPrefix(line, "### ")))
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	var catalog []string
	for _, r := range Rules() {
		catalog = append(catalog, string(r))
	}
	slices.Sort(documented)
	slices.Sort(catalog)
	if len(documented) == 0 {
		t.Fatal("docs/compat-rules.md: no rule headings under ## Rules")
	}
	for _, id := range catalog {
		if _, found := slices.BinarySearch(documented, id); !found {
			t.Errorf("rule %s has no `### %s` heading in docs/compat-rules.md", id, id)
		}
	}
	for i, id := range documented {
		if _, found := slices.BinarySearch(catalog, id); !found {
			t.Errorf("docs/compat-rules.md documents %s, which is not in the catalog (schema/rules.go)", id)
		}
		if i > 0 && documented[i-1] == id {
			t.Errorf("docs/compat-rules.md documents %s twice", id)
		}
	}
}

// TestRulesUnique checks that the catalog lists every rule once.
func TestRulesUnique(t *testing.T) {
	seen := map[Rule]bool{}
	for _, r := range Rules() {
		if seen[r] {
			t.Errorf("rule %s is listed twice in Rules()", r)
		}
		seen[r] = true
	}
}
