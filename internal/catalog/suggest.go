package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// maxSuggestions bounds how many names a "did you mean" offers.
const maxSuggestions = 3

// Suggest returns up to three known instance type names nearest to name
// (one or two typing mistakes away: a letter wrong, missing, extra, or two
// swapped), nearest first. It returns nil for a known name.
func (c *Catalog) Suggest(name string) []string {
	name = strings.ToLower(strings.TrimSpace(name))
	if _, ok := c.types[name]; ok || name == "" {
		return nil
	}
	names := make([]string, 0, len(c.types))
	for n := range c.types {
		names = append(names, n)
	}
	return nearest(name, names)
}

// SuggestFamily returns up to three known families nearest to family.
func (c *Catalog) SuggestFamily(family string) []string {
	family = strings.ToLower(strings.TrimSpace(family))
	seen := map[string]bool{}
	var fams []string
	for _, it := range c.types {
		if !seen[it.Family] {
			seen[it.Family] = true
			fams = append(fams, it.Family)
		}
	}
	if seen[family] || family == "" {
		return nil
	}
	// A family cut short (m6) means its variants (m6a, m6g, m6i), the
	// shortest first, before the names a letter away (g6, m1).
	var longer []string
	for _, f := range fams {
		if strings.HasPrefix(f, family) {
			longer = append(longer, f)
		}
	}
	if len(longer) > 0 {
		sort.Slice(longer, func(i, j int) bool {
			if len(longer[i]) != len(longer[j]) {
				return len(longer[i]) < len(longer[j])
			}
			return longer[i] < longer[j]
		})
		return longer[:min(len(longer), maxSuggestions)]
	}
	return nearest(family, fams)
}

// DidYouMean renders suggestions as " (did you mean a or b?)", or "".
func DidYouMean(suggestions []string) string {
	switch len(suggestions) {
	case 0:
		return ""
	case 1:
		return fmt.Sprintf(" (did you mean %s?)", suggestions[0])
	default:
		return fmt.Sprintf(" (did you mean %s or %s?)", strings.Join(suggestions[:len(suggestions)-1], ", "), suggestions[len(suggestions)-1])
	}
}

// nearest picks the candidates nearest to s, within an edit distance that
// grows with the length of s (1 for short names, 2 from six characters).
func nearest(s string, candidates []string) []string {
	limit := 1
	if len(s) >= 6 {
		limit = 2
	}
	type scored struct {
		name string
		d    int
	}
	var hits []scored
	for _, c := range candidates {
		if d := editDistance(s, c); d <= limit {
			hits = append(hits, scored{c, d})
		}
	}
	sort.Slice(hits, func(i, j int) bool {
		if hits[i].d != hits[j].d {
			return hits[i].d < hits[j].d
		}
		return hits[i].name < hits[j].name
	})
	// Only the nearest: one typing mistake away beats two.
	var out []string
	for i := 0; i < len(hits) && i < maxSuggestions && hits[i].d == hits[0].d; i++ {
		out = append(out, hits[i].name)
	}
	return out
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent characters each cost one,
// so "lrage" is one mistake away from "large".
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
