package policy_test

import (
	"flag"
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
// unless its label names marketplaces.
var defaultMarkets = map[string]string{
	"en": "Amazon.com", "de": "Amazon.de", "fr": "Amazon.fr",
	"es": "Amazon.es", "it": "Amazon.it", "ja": "Amazon.co.jp",
}

// expectRE reads a corpus label: {{/* expect: RULES[; batch: N][; markets: M,...] */}}.
var expectRE = regexp.MustCompile(`\{\{/\* expect:([^;*]*)(?:; batch: ([0-9]+))?(?:; markets: ([^*]*))? \*/\}\}`)

// reportDir, when set, names a folder of labelled templates (laid out like
// testdata/corpus) that TestCorpusReport scores without failing: the way
// to measure a new batch of sentences before tuning on it.
var reportDir = flag.String("corpus.report", "", "score the labelled templates under this folder (no failure)")

type corpusCase struct {
	path    string
	lang    string
	batch   string
	expect  []string
	markets []marketplace.Marketplace
}

func loadCorpus(t *testing.T, dir string) []corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.tmpl"))
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
		c := corpusCase{path: f, lang: filepath.Base(filepath.Dir(f)), batch: string(m[2]), expect: strings.Fields(string(m[1]))}
		sort.Strings(c.expect)
		names := []string{defaultMarkets[c.lang]}
		if len(m[3]) > 0 {
			names = strings.Split(strings.TrimSpace(string(m[3])), ",")
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

// outcome is what the checker made of one labelled template.
type outcome struct {
	c      corpusCase
	got    map[string]bool
	lines  []string
	missed []string // expected, not reported
	extra  []string // reported, not expected
}

func checkCase(t *testing.T, c corpusCase) outcome {
	t.Helper()
	tp, err := policy.LoadTemplate(c.path)
	if err != nil {
		t.Fatal(err)
	}
	o := outcome{c: c, got: map[string]bool{}}
	for _, v := range policy.CheckTemplate(tp, c.markets) {
		o.got[v.Rule] = true
		o.lines = append(o.lines, v.String())
	}
	want := map[string]bool{}
	for _, r := range c.expect {
		want[r] = true
		if !o.got[r] {
			o.missed = append(o.missed, r)
		}
	}
	for r := range o.got {
		if !want[r] {
			o.extra = append(o.extra, r)
		}
	}
	sort.Strings(o.extra)
	return o
}

// score is the three figures the policy checker is judged by, for one
// language: violating templates caught (any rule reported), compliant
// templates refused (any rule reported), and violating templates whose
// expected rules were all named.
type score struct{ violating, caught, named, compliant, refused int }

func (s *score) add(o outcome) {
	if len(o.c.expect) == 0 {
		s.compliant++
		if len(o.got) > 0 {
			s.refused++
		}
		return
	}
	s.violating++
	if len(o.got) > 0 {
		s.caught++
	}
	if len(o.missed) == 0 {
		s.named++
	}
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d (%.0f %%)", a, b, 100*float64(a)/float64(b))
}

func scoreTable(byLang map[string]*score) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  %-4s %-18s %-18s %-18s\n", "lang", "caught", "compliant refused", "right rule")
	total := &score{}
	for _, l := range policy.SupportedLanguages() {
		s := byLang[l]
		if s == nil {
			continue
		}
		fmt.Fprintf(&b, "  %-4s %-18s %-18s %-18s\n", l, pct(s.caught, s.violating), pct(s.refused, s.compliant), pct(s.named, s.violating))
		total.violating += s.violating
		total.caught += s.caught
		total.named += s.named
		total.compliant += s.compliant
		total.refused += s.refused
	}
	fmt.Fprintf(&b, "  %-4s %-18s %-18s %-18s\n", "all", pct(total.caught, total.violating), pct(total.refused, total.compliant), pct(total.named, total.violating))
	return b.String()
}

// TestCorpus checks every labelled template: it fails on any expected rule
// that is not reported (a miss) and on any rule reported that the label
// does not list (a false refusal), and logs the tally per rule and the
// three figures per language.
func TestCorpus(t *testing.T) {
	cases := loadCorpus(t, "testdata/corpus")
	if len(cases) < 600 {
		t.Errorf("corpus has %d templates, want at least 600", len(cases))
	}
	type tally struct{ expected, found, missed, falseRefusals int }
	byRule := map[string]*tally{}
	for _, r := range policy.Rules() {
		byRule[r.ID] = &tally{}
	}
	byLang := map[string]*score{}
	ruleLangs := map[string]map[string]bool{}
	for _, c := range cases {
		t.Run(strings.TrimPrefix(c.path, "testdata/corpus/"), func(t *testing.T) {
			o := checkCase(t, c)
			if byLang[c.lang] == nil {
				byLang[c.lang] = &score{}
			}
			byLang[c.lang].add(o)
			for _, r := range c.expect {
				x := byRule[r]
				if x == nil {
					t.Fatalf("label names unknown rule %s", r)
				}
				x.expected++
				if ruleLangs[r] == nil {
					ruleLangs[r] = map[string]bool{}
				}
				ruleLangs[r][c.lang] = true
			}
			for _, r := range o.missed {
				byRule[r].missed++
				t.Errorf("missed %s", r)
			}
			for _, r := range o.extra {
				byRule[r].falseRefusals++
				t.Errorf("false refusal %s", r)
			}
			if t.Failed() {
				t.Logf("expected %v, got:\n%s", c.expect, strings.Join(o.lines, "\n"))
			}
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "corpus: %d templates\n%s", len(cases), scoreTable(byLang))
	fmt.Fprintf(&b, "  %-12s %8s %6s %6s %14s  languages\n", "rule", "expected", "found", "missed", "false-refusals")
	for _, r := range policy.Rules() {
		x := byRule[r.ID]
		var langs []string
		for l := range ruleLangs[r.ID] {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		fmt.Fprintf(&b, "  %-12s %8d %6d %6d %14d  %s\n", r.ID, x.expected, x.found+x.expected-x.missed-x.found, x.missed, x.falseRefusals, strings.Join(langs, " "))
	}
	t.Log(b.String())
}

// TestCorpusReport scores the templates under -corpus.report=DIR and lists
// every miss and false refusal, without failing: run it on a new batch
// before tuning the rules on it, and note the figures.
func TestCorpusReport(t *testing.T) {
	if *reportDir == "" {
		t.Skip("no -corpus.report folder given")
	}
	byLang := map[string]*score{}
	var wrong []string
	for _, c := range loadCorpus(t, *reportDir) {
		o := checkCase(t, c)
		if byLang[c.lang] == nil {
			byLang[c.lang] = &score{}
		}
		byLang[c.lang].add(o)
		if len(o.missed)+len(o.extra) > 0 {
			wrong = append(wrong, fmt.Sprintf("%s: expected %v, missed %v, extra %v", c.path, c.expect, o.missed, o.extra))
		}
	}
	t.Logf("%s\n%s", scoreTable(byLang), strings.Join(wrong, "\n"))
}
