package config

import (
	"fmt"
	"reflect"
	"strings"

	"campaignd/internal/marketplace"
)

// knownKeys lists every key the config file may set, dotted, from the toml
// tags of Config: "inbox", "inbox.settle", "campaign.name"... A map (such
// as generic.columns) takes any key, so its own keys are not listed.
func knownKeys() []string {
	var out []string
	var walk func(prefix string, t reflect.Type)
	walk = func(prefix string, t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if name == "" || name == "-" {
				continue
			}
			key := prefix + name
			out = append(out, key)
			ft := f.Type
			for ft.Kind() == reflect.Slice || ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[Duration]() {
				walk(key+".", ft)
			}
		}
	}
	walk("", reflect.TypeFor[Config]())
	return out
}

// suggest returns the key a reader most likely meant by the unknown key:
// a key of the same table spelled almost alike (inbox.setle → inbox.settle),
// else the same word in another table (schedule.settle → inbox.settle).
// It returns "" when nothing is close.
func suggest(unknown string, known []string) string {
	table, word := parent(unknown), leaf(unknown)
	best, bestDist := "", 0
	for _, k := range known {
		if parent(k) != table {
			continue
		}
		d := distance(strings.ToLower(word), leaf(k))
		if d <= maxTypos(word) && (best == "" || d < bestDist) {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return best
	}
	var elsewhere []string
	for _, k := range known {
		if strings.EqualFold(leaf(k), word) {
			elsewhere = append(elsewhere, k)
		}
	}
	if len(elsewhere) == 1 {
		return elsewhere[0]
	}
	return ""
}

// maxTypos is how many edits a word may be from a key and still be taken
// for it: one in a short word, two from eight letters on.
func maxTypos(word string) int {
	if len(word) >= 8 {
		return 2
	}
	return 1
}

// distance is the Damerau-Levenshtein distance (optimal string alignment)
// between a and b: insertions, deletions, substitutions and swaps of two
// neighbouring letters each count one.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// unknownMarketplace says that name is no marketplace campaignd knows, the
// one most likely meant, and every one it knows.
func unknownMarketplace(name string) string {
	var names []string
	meant, best := "", 0
	for _, m := range marketplace.All() {
		names = append(names, m.Name)
		d := distance(strings.ToLower(strings.TrimSpace(name)), strings.ToLower(m.Name))
		if d <= maxTypos(name) && (meant == "" || d < best) {
			meant, best = m.Name, d
		}
	}
	msg := fmt.Sprintf("unknown marketplace %q", name)
	if meant != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", meant)
	}
	return msg + "; campaignd knows " + strings.Join(names, ", ")
}
