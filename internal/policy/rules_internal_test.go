package policy

import (
	"slices"
	"testing"
)

// TestEmbeddedRules: the embedded files compile, every language gives
// words for every concept a combination rule of that language uses, and
// no concept is declared that nothing uses.
func TestEmbeddedRules(t *testing.T) {
	c, err := NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	used := map[conceptID]bool{}
	for _, lang := range supported {
		lx := c.lex[lang]
		if lx == nil {
			t.Fatalf("no lexicon for %s", lang)
		}
		has := map[conceptID]bool{}
		for _, e := range lx.entries {
			for _, id := range e.concepts {
				has[id] = true
			}
		}
		for _, cb := range c.combos {
			if cb.langs != nil && !cb.langs[lang] {
				continue
			}
			for _, it := range append(append([]comboItem(nil), cb.all...), cb.prev...) {
				var names []string
				ok := false
				for id := range c.concepts {
					if !it.alts.has(conceptID(id)) {
						continue
					}
					used[conceptID(id)] = true
					names = append(names, c.concepts[id].Name)
					ok = ok || has[conceptID(id)] || slices.Contains(specialNames, c.concepts[id].Name)
				}
				if !ok {
					t.Errorf("%s: combination %q needs one of %v, which have no words", lang, cb.Name, names)
				}
			}
		}
	}
	for id, d := range c.concepts {
		if !used[conceptID(id)] && !d.Helper && !slices.Contains(specialNames, d.Name) && !isUsedAsNone(c, conceptID(id)) {
			t.Errorf("concept %q is used by no combination rule", d.Name)
		}
	}
}

func isUsedAsNone(c *Checker, id conceptID) bool {
	for _, cb := range c.combos {
		if cb.none.has(id) {
			return true
		}
	}
	for _, to := range c.special.negatedAs {
		if to == id {
			return true
		}
	}
	return false
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Get a F R E E gift", "get a free gift"},
		{"a f.r.e.e. sample", "a free sample"},
		{"fr33 g1ft, thanks10", "free gift, thanksio"},
		{"5★ and ★★★★★ and ⭐⭐⭐", "5 star  and  5 stars  and  3 stars "},
		{"Bewertung für Größe", "bewertung fur grosse"},
		{"ＦＲＥＥ　５つ星 ｷﾞﾌﾄ", "free 5つ星 ギフト"},
		{"line one\nwrapped, line\n\nnext:\nnew", "line one wrapped, line\nnext:\nnew"},
		{"5 star rating", "5 star rating"},
		{"Model 2024-05, 18V", "model 2024-05, 18v"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := normalize(tt.in, nil)
			if got.s != tt.want {
				t.Fatalf("normalize(%q) = %q, want %q", tt.in, got.s, tt.want)
			}
			if len(got.off) != len(got.s) {
				t.Fatalf("offsets: %d for %d bytes", len(got.off), len(got.s))
			}
		})
	}
}
