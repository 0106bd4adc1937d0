package policy

import "testing"

// TestEmbeddedRules: the embedded files compile, every language has
// phrases for every phrase rule, and every pattern has keywords (a pattern
// without would run on every sentence).
func TestEmbeddedRules(t *testing.T) {
	c, err := NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	phraseRules := []string{"P-INCENTIVE", "P-POSITIVE", "P-DIVERT", "P-CHANGE", "P-MARKETING", "P-COUPON", "P-REPEAT", "P-SUBJECT", "P-CONTACT"}
	for _, lang := range supported {
		set := c.langs[lang]
		if set == nil {
			t.Fatalf("no rules for %s", lang)
		}
		t.Run(lang, func(t *testing.T) {
			count := map[string]int{}
			for _, p := range set.patterns {
				count[p.rule]++
				if len(p.keys) == 0 {
					t.Errorf("%s pattern %d has no keywords", p.rule, p.index)
				}
			}
			for _, r := range append(phraseRules, requestRule) {
				if count[r] == 0 {
					t.Errorf("no %s patterns", r)
				}
			}
			if len(set.always) != 0 {
				t.Errorf("%d patterns run on every sentence", len(set.always))
			}
		})
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Get a F R E E gift", "get a free gift"},
		{"a f.r.e.e. sample", "a free. sample"},
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
