package policy

import (
	"slices"
	"testing"

	"campaignd/internal/marketplace"
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

// TestComboExamples: every combination rule catches the example it gives,
// read in the language it is written in: a rule reports its rule there,
// a request rule keeps P-NOREQUEST away, a subject rule fires in the
// subject and a data rule in a product title.
func TestComboExamples(t *testing.T) {
	c := Default()
	us, _ := marketplace.Lookup("Amazon.com")
	for _, cb := range c.combos {
		t.Run(cb.Name, func(t *testing.T) {
			if cb.Example == "" {
				t.Fatal("no example")
			}
			lang := exampleLanguage(c, cb)
			var got []Violation
			switch {
			case cb.Data:
				tp := mustParse(t, "Subject: Order {{.OrderID}}\nLanguage: en\n\nThanks for buying {{.ProductName}}. We would appreciate your honest review: {{.ReviewURL}}\n")
				msg, err := tp.Render(Data{OrderID: "111-2222222-3333333", ProductName: cb.Example, ReviewURL: "https://www.amazon.com/review/create-review?asin=B000000000"})
				if err != nil {
					t.Fatal(err)
				}
				got = c.CheckMessage("m", msg, "111-2222222-3333333", us)
			case cb.Where == "subject":
				got = c.CheckTemplate(mustParse(t, "Subject: "+cb.Example+" {{.OrderID}}\nLanguage: "+lang+"\n\n"+requestIn[lang]+"\n"), nil)
			default:
				got = c.CheckTemplate(mustParse(t, "Subject: {{.OrderID}}\nLanguage: "+lang+"\n\n"+cb.Example+"\n"), nil)
			}
			rules := map[string]bool{}
			for _, v := range got {
				rules[v.Rule] = true
			}
			if cb.Rule == requestRule && rules["P-NOREQUEST"] || cb.Rule != requestRule && !rules[cb.Rule] {
				t.Errorf("%s example %q (%s): got %v", cb.Rule, cb.Example, lang, got)
			}
		})
	}
}

// requestIn is a neutral review request in each language.
var requestIn = map[string]string{
	"en": "We would appreciate your honest review: {{.ReviewURL}}",
	"de": "Wir freuen uns über Ihre ehrliche Bewertung: {{.ReviewURL}}",
	"fr": "Votre avis sincère nous intéresse : {{.ReviewURL}}",
	"es": "Nos interesa su opinión sincera: {{.ReviewURL}}",
	"it": "Ci interessa la sua opinione sincera: {{.ReviewURL}}",
	"ja": "ご感想をお聞かせください。{{.ReviewURL}}",
}

// exampleLanguage is the language a rule's example is written in: the
// rule's own when it has one, else the detected one, else English.
func exampleLanguage(c *Checker, cb *combo) string {
	if len(cb.Languages) > 0 {
		return cb.Languages[0]
	}
	if l, ok := c.DetectLanguage(cb.Example); ok && c.lex[l] != nil {
		return l
	}
	return "en"
}

func mustParse(t *testing.T, src string) *Template {
	t.Helper()
	tp, err := ParseTemplate("t.tmpl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return tp
}

// TestAskIsNoReviewNoun: no word that makes a sentence a request shares
// its stem with a word for a review or an opinion; otherwise every
// mention of reviews ("En las valoraciones muchos clientes pedían...",
// "ratings help us") would count as a request and a thank-you-only
// message would pass.
func TestAskIsNoReviewNoun(t *testing.T) {
	c := Default()
	ask, noun := c.conceptID["ask"], []conceptID{c.conceptID["review"], c.conceptID["opinion"]}
	for _, lang := range supported {
		lx := c.lex[lang]
		if lx.stem == nil {
			continue
		}
		asks, nouns := map[string]string{}, map[string]string{}
		for _, e := range lx.entries {
			if len(e.elems) != 1 || e.elems[0].kind != elemStem {
				continue
			}
			for _, id := range e.concepts {
				switch {
				case id == ask:
					asks[e.elems[0].text] = e.text
				case slices.Contains(noun, id):
					nouns[e.elems[0].text] = e.text
				}
			}
		}
		for st, w := range asks {
			if n, ok := nouns[st]; ok {
				t.Errorf("%s: ask %q and %q share the stem %q; write the ask word as =%s", lang, w, n, st, w)
			}
		}
	}
}
