package policy_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// defaultMarkets is where a corpus template of a language is checked
// unless its header comment names marketplaces.
var defaultMarkets = map[string]string{
	"en": "Amazon.com", "de": "Amazon.de", "fr": "Amazon.fr",
	"es": "Amazon.es", "it": "Amazon.it", "ja": "Amazon.co.jp",
}

var expectRE = regexp.MustCompile(`\{\{/\* expect:([^;*]*)(?:; markets: ([^*]*))? \*/\}\}`)

type corpusCase struct {
	path    string
	lang    string
	expect  []string
	markets []marketplace.Marketplace
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	files, err := filepath.Glob("testdata/corpus/*/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := expectRE.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: no {{/* expect: ... */}} comment", f)
		}
		c := corpusCase{path: f, lang: filepath.Base(filepath.Dir(f)), expect: strings.Fields(string(m[1]))}
		sort.Strings(c.expect)
		names := []string{defaultMarkets[c.lang]}
		if len(m[2]) > 0 {
			names = strings.Split(strings.TrimSpace(string(m[2])), ",")
		}
		for _, n := range names {
			mk, ok := marketplace.Lookup(n)
			if !ok {
				t.Fatalf("%s: unknown marketplace %q", f, n)
			}
			c.markets = append(c.markets, mk)
		}
		out = append(out, c)
	}
	return out
}

// TestCorpus checks every labelled template: it fails on any expected rule
// that is not reported (a miss) and on any rule reported that the label
// does not list (a false refusal), and logs the rule-by-rule tally.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t)
	if len(cases) < 150 {
		t.Errorf("corpus has %d templates, want at least 150", len(cases))
	}
	type tally struct{ expected, found, missed, falseRefusals int }
	byRule := map[string]*tally{}
	for _, r := range policy.Rules() {
		byRule[r.ID] = &tally{}
	}
	perLang := map[string][2]int{} // compliant, violating
	ruleLangs := map[string]map[string]bool{}
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "testdata/corpus/"), func(t *testing.T) {
			tp, err := policy.LoadTemplate(c.path)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			var lines []string
			for _, v := range policy.CheckTemplate(tp, c.markets) {
				got[v.Rule] = true
				lines = append(lines, v.String())
			}
			want := map[string]bool{}
			for _, r := range c.expect {
				want[r] = true
				if byRule[r] == nil {
					t.Fatalf("label names unknown rule %s", r)
				}
				byRule[r].expected++
				if ruleLangs[r] == nil {
					ruleLangs[r] = map[string]bool{}
				}
				ruleLangs[r][c.lang] = true
				if got[r] {
					byRule[r].found++
				} else {
					byRule[r].missed++
					t.Errorf("missed %s", r)
				}
			}
			for r := range got {
				if !want[r] {
					byRule[r].falseRefusals++
					t.Errorf("false refusal %s", r)
				}
			}
			n := perLang[c.lang]
			if len(c.expect) == 0 {
				n[0]++
			} else {
				n[1]++
			}
			perLang[c.lang] = n
			if t.Failed() {
				t.Logf("expected %v, got:\n%s", c.expect, strings.Join(lines, "\n"))
			}
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "corpus: %d templates\n", len(cases))
	for _, l := range policy.SupportedLanguages() {
		fmt.Fprintf(&b, "  %s: %d compliant, %d violating\n", l, perLang[l][0], perLang[l][1])
	}
	fmt.Fprintf(&b, "  %-12s %8s %6s %6s %14s  languages\n", "rule", "expected", "found", "missed", "false-refusals")
	for _, r := range policy.Rules() {
		x := byRule[r.ID]
		var langs []string
		for l := range ruleLangs[r.ID] {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		fmt.Fprintf(&b, "  %-12s %8d %6d %6d %14d  %s\n", r.ID, x.expected, x.found, x.missed, x.falseRefusals, strings.Join(langs, " "))
	}
	t.Log(b.String())
}
