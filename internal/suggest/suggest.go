// Package suggest finds the likely intended word for a typo ("did you mean …?"), for the
// messages of the pipeline loader and the type parser.
package suggest

// Closest returns the candidate nearest to w when it is close enough to be a typo: an edit
// distance of at most maxDist (maxDist <= 0: a third of the word, at least 1). It returns ""
// when none is.
func Closest(w string, candidates []string, maxDist int) string {
	if maxDist <= 0 {
		maxDist = max(1, len(w)/3)
	}
	best, bestD := "", maxDist+1
	for _, c := range candidates {
		if d := Distance(w, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, by bytes.
func Distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
