package policy_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// The held-out split, testdata/heldout/<lang>/<class>-<nn>.tmpl, measures the
// policy checker on templates written independently of it and never used to
// tune it: the figures it prints are the ones campaignd reports to sellers.
// The files use the dev corpus format (expectRE, defaultMarkets), with two
// restrictions that keep every label unambiguous: a template breaks at most
// one rule, and its class (the file name up to the number) is that rule's id
// without "P-", lowercased, or "ok" for a compliant template.
//
// Unlike TestCorpus, TestHeldout does not demand every label: it counts, per
// language, the violating templates caught (any rule reported), the compliant
// templates refused (any rule reported) and the violating templates whose own
// rule was among those reported. It names every language that falls short
// of the goal, and fails when a language falls below the floor: the figures
// the README reports, less a margin, so that no change makes the checker
// worse on wording it was never tuned to. With -heldout.goal it fails short
// of the goal itself.
type heldoutBounds struct {
	minCaughtPct  int // violating templates caught, at least
	maxRefusedPct int // compliant templates refused, at most
	minRightPct   int // violating templates with their own rule named, at least
}

var (
	heldoutGoal  = heldoutBounds{minCaughtPct: 97, maxRefusedPct: 2, minRightPct: 95}
	heldoutFloor = heldoutBounds{minCaughtPct: 80, maxRefusedPct: 12, minRightPct: 80}
)

var heldoutMisses = flag.Bool("heldout.misses", false,
	"list every held-out template the checker missed, refused or labelled with another rule")

var heldoutFailGoal = flag.Bool("heldout.goal", false,
	"fail when a language falls short of the goal, not only below the floor")

// heldoutNameRE is the file name of a held-out template: its class and number.
var heldoutNameRE = regexp.MustCompile(`^([a-z]+)-[0-9]{2}\.tmpl$`)

// heldoutSamples are the data every held-out template must render with: a
// buyer name and none, so both branches of {{with .BuyerName}} run.
var heldoutSamples = []policy.Data{
	{OrderID: "123-4567890-1234567", ProductName: "Walnut Desk Organizer", ReviewURL: "https://www.amazon.com/review/create-review?asin=B000000000", BuyerName: "Alex", SellerName: "Example Brand", Marketplace: "Amazon.com"},
	{OrderID: "123-4567890-1234567", ProductName: "Walnut Desk Organizer", ReviewURL: "https://www.amazon.com/review/create-review?asin=B000000000", SellerName: "Example Brand", Marketplace: "Amazon.com"},
}

type heldoutCase struct {
	path    string
	lang    string
	want    string // the rule the template breaks; "" when it is compliant
	markets []marketplace.Marketplace
	tmpl    *policy.Template
}

// heldoutTally counts the outcomes for one language, or for all of them.
type heldoutTally struct {
	violating, caught, right int
	compliant, refused       int
}

// ruleTally counts, for one rule and language, the templates that break the
// rule and those for which the checker named it.
type ruleTally struct{ n, right int }

type heldoutResult struct {
	langs   []string
	byLang  map[string]*heldoutTally
	total   heldoutTally
	perRule map[string]map[string]*ruleTally // rule, then language ("" is the total)
	misses  []string
}

func TestHeldout(t *testing.T) {
	cases := loadHeldout(t)
	res := runHeldout(cases)
	t.Log("held-out split, " + fmt.Sprint(len(cases)) + " templates\n" + res.table())
	if *heldoutMisses {
		t.Log("misses:\n" + strings.Join(res.misses, "\n"))
	}
	for _, lang := range res.langs {
		for _, msg := range res.byLang[lang].shortfalls(heldoutGoal) {
			if *heldoutFailGoal {
				t.Errorf("%s: %s (goal)", lang, msg)
			} else {
				t.Logf("%s: %s (goal)", lang, msg)
			}
		}
		for _, msg := range res.byLang[lang].shortfalls(heldoutFloor) {
			t.Errorf("%s: %s (floor: worse than the figures the README reports)", lang, msg)
		}
	}
}

// loadHeldout reads and checks every held-out template: its label, its name,
// its marketplaces, and that it parses and renders.
func loadHeldout(t *testing.T) []heldoutCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "heldout", "*", "*.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatal("no templates in testdata/heldout")
	}
	known := map[string]bool{}
	for _, r := range policy.Rules() {
		known[r.ID] = true
	}
	cases := make([]heldoutCase, 0, len(paths))
	for _, p := range paths {
		c, err := loadHeldoutCase(p, known)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		cases = append(cases, c)
	}
	return cases
}

func loadHeldoutCase(path string, known map[string]bool) (heldoutCase, error) {
	c := heldoutCase{path: path, lang: filepath.Base(filepath.Dir(path))}
	src, err := os.ReadFile(path)
	if err != nil {
		return c, err
	}
	m := expectRE.FindSubmatch(src)
	if m == nil {
		return c, fmt.Errorf("no {{/* expect: ... */}} label")
	}
	if c.want, err = heldoutLabel(path, string(m[1]), known); err != nil {
		return c, err
	}
	if c.markets, err = heldoutMarkets(c.lang, string(m[2])); err != nil {
		return c, err
	}
	if c.tmpl, err = policy.ParseTemplate(path, src); err != nil {
		return c, err
	}
	for _, d := range heldoutSamples {
		if _, err := c.tmpl.Render(d); err != nil {
			return c, err
		}
	}
	return c, nil
}

// heldoutLabel returns the rule a template's label names ("" for none), and
// checks that it is a known rule and agrees with the file's class.
func heldoutLabel(path, label string, known map[string]bool) (string, error) {
	rules := strings.Fields(label)
	if len(rules) > 1 {
		return "", fmt.Errorf("label %q names %d rules; a held-out template breaks at most one", label, len(rules))
	}
	want := ""
	if len(rules) == 1 {
		want = rules[0]
	}
	if want != "" && !known[want] {
		return "", fmt.Errorf("unknown rule %q", want)
	}
	name := heldoutNameRE.FindStringSubmatch(filepath.Base(path))
	if name == nil {
		return "", fmt.Errorf("name is not <class>-<nn>.tmpl")
	}
	class := "ok"
	if want != "" {
		class = strings.ToLower(strings.TrimPrefix(want, "P-"))
	}
	if name[1] != class {
		return "", fmt.Errorf("class %q in the name does not match the label %q", name[1], label)
	}
	return want, nil
}

// heldoutMarkets resolves a label's marketplaces, or the language's default.
func heldoutMarkets(lang, list string) ([]marketplace.Marketplace, error) {
	names := strings.Split(list, ",")
	if strings.TrimSpace(list) == "" {
		def, ok := defaultMarkets[lang]
		if !ok {
			return nil, fmt.Errorf("no default marketplace for language folder %q", lang)
		}
		names = []string{def}
	}
	var ms []marketplace.Marketplace
	for _, n := range names {
		m, ok := marketplace.Lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown marketplace %q", n)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// runHeldout checks every case with the default checker and tallies the outcomes.
func runHeldout(cases []heldoutCase) *heldoutResult {
	res := &heldoutResult{byLang: map[string]*heldoutTally{}, perRule: map[string]map[string]*ruleTally{}}
	for _, c := range cases {
		if res.byLang[c.lang] == nil {
			res.byLang[c.lang] = &heldoutTally{}
			res.langs = append(res.langs, c.lang)
		}
		var got []string
		for _, v := range policy.CheckTemplate(c.tmpl, c.markets) {
			got = append(got, v.Rule)
		}
		slices.Sort(got)
		got = slices.Compact(got)
		res.record(c, got)
	}
	slices.Sort(res.langs)
	return res
}

func (res *heldoutResult) record(c heldoutCase, got []string) {
	lt := res.byLang[c.lang]
	if c.want == "" {
		lt.compliant++
		res.total.compliant++
		if len(got) > 0 {
			lt.refused++
			res.total.refused++
			res.misses = append(res.misses, fmt.Sprintf("  refused  %s: %v", c.path, got))
		}
		return
	}
	right := slices.Contains(got, c.want)
	for _, t := range []*heldoutTally{lt, &res.total} {
		t.violating++
		if len(got) > 0 {
			t.caught++
		}
		if right {
			t.right++
		}
	}
	res.ruleCount(c.want, c.lang, right)
	switch {
	case len(got) == 0:
		res.misses = append(res.misses, fmt.Sprintf("  missed   %s: want %s", c.path, c.want))
	case !right:
		res.misses = append(res.misses, fmt.Sprintf("  mislabel %s: want %s, got %v", c.path, c.want, got))
	}
}

func (res *heldoutResult) ruleCount(rule, lang string, right bool) {
	if res.perRule[rule] == nil {
		res.perRule[rule] = map[string]*ruleTally{}
	}
	for _, l := range []string{lang, ""} {
		rt := res.perRule[rule][l]
		if rt == nil {
			rt = &ruleTally{}
			res.perRule[rule][l] = rt
		}
		rt.n++
		if right {
			rt.right++
		}
	}
}

// table renders the per-language figures and the per-rule recall.
func (res *heldoutResult) table() string {
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "\tcaught (≥ %d %%)\trefused (≤ %d %%)\tright rule (≥ %d %%)\n",
		heldoutGoal.minCaughtPct, heldoutGoal.maxRefusedPct, heldoutGoal.minRightPct)
	for _, lang := range res.langs {
		res.byLang[lang].row(w, lang)
	}
	res.total.row(w, "total")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "recall\t%s\ttotal\n", strings.Join(res.langs, "\t"))
	for _, r := range policy.Rules() {
		byLang := res.perRule[r.ID]
		if byLang == nil {
			continue
		}
		fmt.Fprint(w, r.ID)
		for _, l := range append(slices.Clone(res.langs), "") {
			fmt.Fprintf(w, "\t%s", byLang[l].String())
		}
		fmt.Fprintln(w)
	}
	w.Flush()
	return b.String()
}

func (t *heldoutTally) row(w *tabwriter.Writer, name string) {
	fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", name,
		ratio(t.caught, t.violating), ratio(t.refused, t.compliant), ratio(t.right, t.violating))
}

// shortfalls names every bound the tally misses.
func (t *heldoutTally) shortfalls(b heldoutBounds) []string {
	var out []string
	if t.caught*100 < b.minCaughtPct*t.violating {
		out = append(out, fmt.Sprintf("violations caught %s, want ≥ %d %%", ratio(t.caught, t.violating), b.minCaughtPct))
	}
	if t.refused*100 > b.maxRefusedPct*t.compliant {
		out = append(out, fmt.Sprintf("compliant templates refused %s, want ≤ %d %%", ratio(t.refused, t.compliant), b.maxRefusedPct))
	}
	if t.right*100 < b.minRightPct*t.violating {
		out = append(out, fmt.Sprintf("right rule named %s, want ≥ %d %%", ratio(t.right, t.violating), b.minRightPct))
	}
	return out
}

func (rt *ruleTally) String() string {
	if rt == nil {
		return "-"
	}
	return ratio(rt.right, rt.n)
}

func ratio(k, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d/0", k)
	}
	return fmt.Sprintf("%d/%d (%.0f %%)", k, n, 100*float64(k)/float64(n))
}

// TestHeldoutHarness checks the harness's own bookkeeping: labels that do not
// match the file name are rejected, and the goal holds at its exact bounds.
func TestHeldoutHarness(t *testing.T) {
	known := map[string]bool{"P-INCENTIVE": true, "P-LINK": true}
	labels := []struct {
		path, label, want string
		ok                bool
	}{
		{"en/incentive-01.tmpl", " P-INCENTIVE ", "P-INCENTIVE", true},
		{"en/ok-07.tmpl", " ", "", true},
		{"en/link-01.tmpl", " P-INCENTIVE ", "", false},             // class and label disagree
		{"en/ok-01.tmpl", " P-LINK ", "", false},                    // a compliant name with a rule
		{"en/incentive-01.tmpl", " P-INCENTIVE P-LINK ", "", false}, // two rules
		{"en/incentive-01.tmpl", " P-BRIBE ", "", false},            // unknown rule
		{"en/incentive-1.tmpl", " P-INCENTIVE ", "", false},         // not <class>-<nn>
	}
	for _, c := range labels {
		got, err := heldoutLabel(c.path, c.label, known)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("heldoutLabel(%q, %q) = %q, %v; want %q, ok %v", c.path, c.label, got, err, c.want, c.ok)
		}
	}
	bounds := []struct {
		tally heldoutTally
		n     int
	}{
		{heldoutTally{violating: 100, caught: 97, right: 95, compliant: 100, refused: 2}, 0},
		{heldoutTally{violating: 100, caught: 96, right: 95, compliant: 100, refused: 2}, 1},
		{heldoutTally{violating: 100, caught: 97, right: 94, compliant: 100, refused: 3}, 2},
		{heldoutTally{violating: 55, caught: 0, right: 0, compliant: 52, refused: 52}, 3},
	}
	for _, b := range bounds {
		if got := b.tally.shortfalls(heldoutGoal); len(got) != b.n {
			t.Errorf("shortfalls(%+v) = %q; want %d", b.tally, got, b.n)
		}
	}
}
