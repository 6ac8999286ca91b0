package pipetest

import (
	"fmt"
	"slices"
	"sort"
)

// absent stands for a state entry that the key does not hold.
const absent = "(absent)"

// judge compares what a test run produced with what the test expects and returns the
// differences as readable lines ("-" expected, "+" actual); none when the test passes.
func judge(bt *boundTest, out *outcome) ([]string, error) {
	var diff []string
	for _, s := range bt.output {
		got := out.output[s.node.UID]
		if bt.Ordered {
			if d := orderedDiff(s.records, got); d != nil {
				diff = append(diff, fmt.Sprintf("output of sink %q (in order): %d expected, %d received", s.node.UID, len(s.records), len(got)))
				diff = append(diff, d...)
			}
			continue
		}
		if missing, extra := multisetDiff(s.records, got); len(missing)+len(extra) > 0 {
			diff = append(diff, fmt.Sprintf("output of sink %q (as a multiset): %d missing, %d unexpected", s.node.UID, len(missing), len(extra)))
			for _, r := range missing {
				diff = append(diff, "  - "+r)
			}
			for _, r := range extra {
				diff = append(diff, "  + "+r)
			}
		}
	}
	for i, e := range bt.expect {
		want, err := e.desc.Schema.AppendJSON(nil, e.value)
		if err != nil {
			return nil, err
		}
		got := absent
		if v := out.state[i]; v.present {
			b, err := e.desc.Schema.AppendJSON(nil, v.value)
			if err != nil {
				return nil, err
			}
			got = string(b)
		}
		if got == string(want) {
			continue
		}
		key, err := e.node.KeyType().AppendJSON(nil, e.key)
		if err != nil {
			return nil, err
		}
		diff = append(diff, fmt.Sprintf("state %s.%s, key %s:", e.node.UID, e.desc.Name, key), "  - "+string(want), "  + "+got)
	}
	return diff, nil
}

// multisetDiff returns the expected records that were not received and the received ones
// that were not expected, each sorted.
func multisetDiff(want, got []string) (missing, extra []string) {
	count := map[string]int{}
	for _, r := range got {
		count[r]++
	}
	for _, r := range want {
		if count[r] > 0 {
			count[r]--
			continue
		}
		missing = append(missing, r)
	}
	for _, r := range got {
		if count[r] > 0 {
			count[r]--
			extra = append(extra, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	return missing, extra
}

// orderedDiff returns a line diff of want against got (common lines indented, "-" only
// expected, "+" only received), or nil when they are equal.
func orderedDiff(want, got []string) []string {
	if slices.Equal(want, got) {
		return nil
	}
	// lcs[i][j] is the length of the longest common subsequence of want[i:] and got[j:].
	lcs := make([][]int, len(want)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(got)+1)
	}
	for i := len(want) - 1; i >= 0; i-- {
		for j := len(got) - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var out []string
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case i < len(want) && j < len(got) && want[i] == got[j]:
			out = append(out, "    "+want[i])
			i, j = i+1, j+1
		case i < len(want) && (j == len(got) || lcs[i+1][j] >= lcs[i][j+1]):
			out = append(out, "  - "+want[i])
			i++
		default:
			out = append(out, "  + "+got[j])
			j++
		}
	}
	return out
}
