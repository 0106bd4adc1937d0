package policy

import (
	"embed"
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

//go:embed rules/*.toml
var rulesFS embed.FS

// ErrRules is returned (wrapped) when the embedded rule files are invalid.
var ErrRules = errors.New("invalid policy rules")

// Languages lists the languages the embedded rules cover.
var supported = []string{"en", "de", "fr", "es", "it", "ja"}

// SupportedLanguages returns the languages campaignd has rules for.
func SupportedLanguages() []string { return append([]string(nil), supported...) }

// Rule is one embedded rule.
type Rule struct {
	ID      string // e.g. "P-INCENTIVE"
	Summary string // one line a seller understands
}

type ruleDoc struct {
	ID, Summary, What, Why string
}

type phraseDoc struct {
	ID       string
	Patterns []string
	Neutral  []string // cancel a match they overlap
	Negation []string // cancel a match they overlap or stand next to, unless a spoiler intervenes
}

type commonFile struct {
	Rule      []ruleDoc   `toml:"rule"`
	Phrase    []phraseDoc `toml:"phrase"`
	Emoticons []string
	Detect    map[string]string
	Messages  map[string]string
}

type langFile struct {
	Language   string
	Name       string
	Stopwords  []string
	Spoilers   []string
	Conditions []string
	Request    []string
	Phrase     []phraseDoc `toml:"phrase"`
}

// Checker holds the compiled rule set. It is immutable and safe for
// concurrent use.
type Checker struct {
	rules     []ruleDoc
	byID      map[string]ruleDoc
	common    *phraseSet
	langs     map[string]*phraseSet
	stopwords map[string]uint8 // word -> languages, bit i for supported[i]
	emoticons []string
	detect    map[string]*regexp.Regexp
	messages  map[string]string
	pool      sync.Pool // of *scratch: per-call buffers, no shared state
}

// phraseSet is the compiled phrase rules of one language.
type phraseSet struct {
	lang     string
	name     string
	patterns []pattern
	neutral  map[string][]*rx // rule id -> neutral phrases
	negation map[string][]*rx // rule id -> negations
	spoilers []*rx
	conds    []*rx
	matcher  *acMatcher
	keyPats  [][]int32 // keyword id -> pattern indexes
	keyLen   []int     // keyword id -> length in bytes
	always   []int32   // patterns without keywords: run on every sentence
	// subjectOnly is set when every pattern is a P-SUBJECT pattern.
	subjectOnly bool
}

type pattern struct {
	rule string // rule id, or "request"
	re   *rx
	keys []string   // one of these occurs in every match
	need [][]string // and one of each of these
	// needIDs are need as keyword ids, each list sorted.
	needIDs [][]int32
	// anchored, when set, is the expression anchored at its start; every
	// match then starts with one of keys, and wordStart tells whether the
	// expression begins with \b.
	anchored  *regexp.Regexp
	wordStart bool
	index     int32 // position in phraseSet.patterns
}

const requestRule = "request"

var detectKeys = []string{"scheme_url", "www", "bare_domain", "email", "html_tag", "html_comment", "markdown_link", "markdown_image", "html_entity", "phone_us", "phone_intl", "phone_local"}

var messageKeys = []string{"link_http", "link_other", "link_www", "link_bare", "link_html", "link_markdown", "email", "phone", "html", "image", "entity", "emoji", "emoticon", "no_orderid", "no_request", "lang_unsupported", "lang_market", "lang_text"}

// NewChecker compiles the embedded rules.
func NewChecker() (*Checker, error) {
	c := &Checker{byID: map[string]ruleDoc{}, langs: map[string]*phraseSet{}, stopwords: map[string]uint8{}, detect: map[string]*regexp.Regexp{}}
	var cf commonFile
	b, err := rulesFS.ReadFile("rules/common.toml")
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRules, err)
	}
	md, err := toml.Decode(string(b), &cf)
	if err != nil {
		return nil, fmt.Errorf("%w: common.toml: %w", ErrRules, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, fmt.Errorf("%w: common.toml: unknown keys %v", ErrRules, u)
	}
	for _, r := range cf.Rule {
		if r.ID == "" || r.Summary == "" || r.What == "" || r.Why == "" {
			return nil, fmt.Errorf("%w: rule %q lacks id, summary, what or why", ErrRules, r.ID)
		}
		c.rules = append(c.rules, r)
		c.byID[r.ID] = r
	}
	c.emoticons = cf.Emoticons
	c.messages = cf.Messages
	for _, k := range messageKeys {
		if cf.Messages[k] == "" {
			return nil, fmt.Errorf("%w: common.toml: messages.%s missing", ErrRules, k)
		}
	}
	for _, k := range detectKeys {
		src, ok := cf.Detect[k]
		if !ok {
			return nil, fmt.Errorf("%w: common.toml: detect.%s missing", ErrRules, k)
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return nil, fmt.Errorf("%w: detect.%s: %w", ErrRules, k, err)
		}
		c.detect[k] = re
	}
	if c.common, err = c.compileSet("*", "", cf.Phrase, nil, nil, nil); err != nil {
		return nil, err
	}
	for _, lang := range supported {
		var lf langFile
		b, err := rulesFS.ReadFile("rules/" + lang + ".toml")
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRules, err)
		}
		md, err := toml.Decode(string(b), &lf)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.toml: %w", ErrRules, lang, err)
		}
		if u := md.Undecoded(); len(u) > 0 {
			return nil, fmt.Errorf("%w: %s.toml: unknown keys %v", ErrRules, lang, u)
		}
		if lf.Language != lang {
			return nil, fmt.Errorf("%w: %s.toml declares language %q", ErrRules, lang, lf.Language)
		}
		set, err := c.compileSet(lang, lf.Name, lf.Phrase, lf.Request, lf.Spoilers, lf.Conditions)
		if err != nil {
			return nil, err
		}
		c.langs[lang] = set
		for _, w := range lf.Stopwords {
			w = normalize(w, nil).s
			c.stopwords[w] |= 1 << slices.Index(supported, lang)
		}
	}
	return c, nil
}

func (c *Checker) compileSet(lang, name string, phrases []phraseDoc, request, spoilers, conditions []string) (*phraseSet, error) {
	set := &phraseSet{lang: lang, name: name, neutral: map[string][]*rx{}, negation: map[string][]*rx{}}
	add := func(rule, src string) error {
		re, err := compileRx(src)
		if err != nil {
			return fmt.Errorf("%w: %s %s: %w", ErrRules, lang, rule, err)
		}
		keys, need, err := requiredKeys(src)
		if err != nil {
			return fmt.Errorf("%w: %s %s: %w", ErrRules, lang, rule, err)
		}
		pat := pattern{rule: rule, re: re, keys: keys, need: need}
		if re.anchored != nil {
			// Every match starts with one of re.prefix: search only from there.
			pat.keys, pat.anchored, pat.wordStart = re.prefix, re.anchored, re.wordStart
			pat.re = nil
		}
		set.patterns = append(set.patterns, pat)
		return nil
	}
	for _, p := range phrases {
		if _, ok := c.byID[p.ID]; !ok {
			return nil, fmt.Errorf("%w: %s: phrases for unknown rule %q", ErrRules, lang, p.ID)
		}
		for _, src := range p.Patterns {
			if err := add(p.ID, src); err != nil {
				return nil, err
			}
		}
		for _, src := range p.Neutral {
			re, err := compileRx(src)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %s neutral: %w", ErrRules, lang, p.ID, err)
			}
			set.neutral[p.ID] = append(set.neutral[p.ID], re)
		}
		for _, src := range p.Negation {
			re, err := compileRx(src)
			if err != nil {
				return nil, fmt.Errorf("%w: %s %s negation: %w", ErrRules, lang, p.ID, err)
			}
			set.negation[p.ID] = append(set.negation[p.ID], re)
		}
	}
	for _, src := range request {
		if err := add(requestRule, src); err != nil {
			return nil, err
		}
	}
	for _, src := range spoilers {
		re, err := compileRx(src)
		if err != nil {
			return nil, fmt.Errorf("%w: %s spoiler: %w", ErrRules, lang, err)
		}
		set.spoilers = append(set.spoilers, re)
	}
	for _, src := range conditions {
		re, err := compileRx(src)
		if err != nil {
			return nil, fmt.Errorf("%w: %s condition: %w", ErrRules, lang, err)
		}
		set.conds = append(set.conds, re)
	}
	var keys []string
	idx := map[string]int32{}
	keyID := func(k string) int32 {
		id, ok := idx[k]
		if !ok {
			id = int32(len(keys))
			idx[k] = id
			keys = append(keys, k)
			set.keyPats = append(set.keyPats, nil)
			set.keyLen = append(set.keyLen, len(k))
		}
		return id
	}
	for i := range set.patterns {
		p := &set.patterns[i]
		p.index = int32(i)
		if len(p.keys) == 0 {
			set.always = append(set.always, int32(i))
			continue
		}
		for _, k := range p.keys {
			id := keyID(k)
			set.keyPats[id] = append(set.keyPats[id], int32(i))
		}
		for _, ks := range p.need {
			var ids []int32
			for _, k := range ks {
				ids = append(ids, keyID(k))
			}
			slices.Sort(ids) // membership tests search it
			p.needIDs = append(p.needIDs, ids)
		}
	}
	// Neutral phrases and negations with prefixes are found from the same
	// scan.
	for _, m := range []map[string][]*rx{set.neutral, set.negation} {
		for _, list := range m {
			for _, r := range list {
				if r.anchored == nil || slices.ContainsFunc(r.prefix, isShortKey) {
					// Found by searching the sentence instead: a short
					// keyword would make the scan report hits everywhere.
					continue
				}
				for _, k := range r.prefix {
					r.prefixIDs = append(r.prefixIDs, keyID(k))
				}
				slices.Sort(r.prefixIDs) // membership tests search it
			}
		}
	}
	m, err := newACMatcher(keys)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRules, lang, err)
	}
	set.matcher = m
	set.subjectOnly = true
	for _, p := range set.patterns {
		if p.rule != "P-SUBJECT" {
			set.subjectOnly = false
		}
	}
	return set, nil
}

// requiredKeys returns literals one of which occurs in every match of the
// expression (nil when none can be found), and further sets of literals of
// which every match holds one each.
func requiredKeys(src string) ([]string, [][]string, error) {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, nil, err
	}
	re = re.Simplify()
	keys := reqLits(re)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return nil, nil, nil
		}
	}
	sort.Strings(keys)
	var need [][]string
	for _, set := range reqSets(re) {
		ok := len(set) > 0
		for _, k := range set {
			// Single letters, digits and spaces are everywhere: no use as a filter.
			if strings.TrimSpace(k) == "" || isShortKey(k) {
				ok = false
			}
		}
		if ok {
			need = append(need, set)
		}
	}
	return keys, need, nil
}

// prefixKeys returns literals one of which starts every match of the
// expression (nil if there are none), and whether it begins with \b.
func prefixKeys(src string) ([]string, bool) {
	re, err := syntax.Parse(src, syntax.Perl)
	if err != nil {
		return nil, false
	}
	re = re.Simplify()
	word := false
	if re.Op == syntax.OpConcat && len(re.Sub) > 0 && re.Sub[0].Op == syntax.OpWordBoundary {
		word = true
	}
	keys := prefixLits(re)
	for _, k := range keys {
		if strings.TrimSpace(k) == "" {
			return nil, false
		}
	}
	return keys, word
}

func prefixLits(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture, syntax.OpPlus:
		return prefixLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return prefixLits(re.Sub[0])
		}
	case syntax.OpConcat:
		for i, sub := range re.Sub {
			if sub.Op == syntax.OpWordBoundary || sub.Op == syntax.OpBeginText || sub.Op == syntax.OpBeginLine {
				continue
			}
			out := prefixLits(sub)
			if out == nil || exactSet(sub) == nil {
				return out
			}
			// Extend the prefixes with the literal parts that follow
			// ("review" then "(er)? club"), while the set stays small.
			for _, next := range re.Sub[i+1:] {
				ext := exactSet(next)
				if ext == nil || len(out)*len(ext) > 64 {
					break
				}
				out = cross(out, ext)
			}
			return out
		}
	case syntax.OpAlternate:
		return alternateLits(re, prefixLits)
	case syntax.OpCharClass:
		return classLits(re)
	}
	return nil
}

// alternateLits joins the literals lits finds in every branch of an
// alternation, or returns nil when one branch has none.
func alternateLits(re *syntax.Regexp, lits func(*syntax.Regexp) []string) []string {
	var out []string
	for _, s := range re.Sub {
		l := lits(s)
		if l == nil {
			return nil
		}
		out = append(out, l...)
	}
	return out
}

// classLits lists the characters of a small character class, or returns
// nil for a class too large to be worth expanding.
func classLits(re *syntax.Regexp) []string {
	var out []string
	for i := 0; i+1 < len(re.Rune); i += 2 {
		if re.Rune[i+1]-re.Rune[i] > 3 || len(out) > 6 {
			return nil
		}
		for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
			out = append(out, string(r))
		}
	}
	return out
}

// exactSet returns every string the expression matches, when that is a
// small finite set of literals, or nil.
func exactSet(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		return []string{string(re.Rune)}
	case syntax.OpCapture:
		return exactSet(re.Sub[0])
	case syntax.OpQuest:
		l := exactSet(re.Sub[0])
		if l == nil {
			return nil
		}
		return append([]string{""}, l...)
	case syntax.OpConcat:
		out := []string{""}
		for _, sub := range re.Sub {
			l := exactSet(sub)
			if l == nil || len(out)*len(l) > 64 {
				return nil
			}
			out = cross(out, l)
		}
		return out
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			l := exactSet(sub)
			if l == nil || len(out)+len(l) > 64 {
				return nil
			}
			out = append(out, l...)
		}
		return out
	case syntax.OpCharClass:
		return classLits(re)
	}
	return nil
}

// cross returns every a+b for a in as and b in bs (nil when either is empty,
// which callers read as "no literal set").
func cross(as, bs []string) []string {
	var out []string
	for _, a := range as {
		for _, b := range bs {
			out = append(out, a+b)
		}
	}
	return out
}

// reqSets returns sets of literals such that every match holds one literal
// of each set.
func reqSets(re *syntax.Regexp) [][]string {
	switch re.Op {
	case syntax.OpCapture, syntax.OpPlus:
		return reqSets(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reqSets(re.Sub[0])
		}
		return nil
	case syntax.OpConcat:
		var out [][]string
		for _, s := range re.Sub {
			out = append(out, reqSets(s)...)
		}
		return out
	}
	if l := reqLits(re); l != nil {
		return [][]string{l}
	}
	return nil
}

func reqLits(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		s := string(re.Rune)
		if re.Flags&syntax.FoldCase != 0 {
			s = strings.ToLower(s)
		}
		return []string{s}
	case syntax.OpCapture, syntax.OpPlus:
		return reqLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return reqLits(re.Sub[0])
		}
	case syntax.OpConcat:
		var best []string
		bestScore := -1
		for i := 0; i < len(re.Sub); i++ {
			// Adjacent literals form a longer key.
			if re.Sub[i].Op == syntax.OpLiteral {
				j := i
				var sb strings.Builder
				fold := false
				for j < len(re.Sub) && re.Sub[j].Op == syntax.OpLiteral {
					sb.WriteString(string(re.Sub[j].Rune))
					fold = fold || re.Sub[j].Flags&syntax.FoldCase != 0
					j++
				}
				if n := len(strings.TrimSpace(sb.String())); n > bestScore {
					best, bestScore = []string{sb.String()}, n
				}
				// The literals go on with one of the prefixes of what follows:
				// "s" then "(et|ubscription)" is "set" or "subscription".
				if next := []string(nil); !fold && j < len(re.Sub) {
					next = prefixLits(re.Sub[j])
					if len(next) > 0 && len(next) <= 64 {
						ext := make([]string, len(next))
						score := 1 << 30
						for x, p := range next {
							ext[x] = sb.String() + p
							score = min(score, len(strings.TrimSpace(ext[x])))
						}
						if score > bestScore {
							best, bestScore = ext, score
						}
					}
				}
				i = j - 1
				continue
			}
			l := reqLits(re.Sub[i])
			if l == nil {
				continue
			}
			score := 1 << 30
			for _, k := range l {
				if n := len(strings.TrimSpace(k)); n < score {
					score = n
				}
			}
			if score > bestScore {
				best, bestScore = l, score
			}
		}
		return best
	case syntax.OpAlternate:
		return alternateLits(re, reqLits)
	case syntax.OpCharClass:
		return classLits(re)
	}
	return nil
}

// Rules returns every rule the checker enforces, in the order of POLICY.md.
func (c *Checker) Rules() []Rule {
	out := make([]Rule, len(c.rules))
	for i, r := range c.rules {
		out[i] = Rule{ID: r.ID, Summary: r.Summary}
	}
	return out
}

var defaultChecker = sync.OnceValues(NewChecker)

// Default returns the checker compiled from the embedded rules. It panics
// if the embedded rules are invalid, which the package tests rule out.
func Default() *Checker {
	c, err := defaultChecker()
	if err != nil {
		panic(err)
	}
	return c
}

// Rules returns every embedded rule.
func Rules() []Rule { return Default().Rules() }

// rx is a phrase expression compiled twice: as written (exact), and with
// every bounded gap ".{0,N}" relaxed to ".*?" (fast). Go's matcher pays for
// a bounded gap with N states per input byte; the relaxed form finds the
// candidate stretches cheaply and the exact form confirms them inside the
// stretch, so results are those of the exact expression.
type rx struct {
	fast, exact *regexp.Regexp // exact is nil when nothing was relaxed
	keys        []string       // one of these is in every match; nil if unknown
	// anchored is the expression anchored at its start, when every match
	// starts with one of prefix; wordStart: it begins with \b.
	anchored  *regexp.Regexp
	prefix    []string
	wordStart bool
	prefixIDs []int32 // prefix as keyword ids of the phrase set's scan, sorted
}

// findStarting returns the matches that start before limit.
func (r *rx) findStarting(s string, limit int) [][]int {
	if r.anchored == nil {
		var out [][]int
		for _, m := range r.FindAllStringIndex(s) {
			if m[0] < limit {
				out = append(out, m)
			}
		}
		return out
	}
	var out [][]int
	for _, p := range r.prefix {
		for from := 0; from < limit && from < len(s); {
			i := strings.Index(s[from:], p)
			if i < 0 || from+i >= limit {
				break
			}
			start := from + i
			from = start + 1
			if r.wordStart && start > 0 && isWordByte(s[start-1]) {
				continue
			}
			if m := r.anchored.FindStringIndex(s[start:]); m != nil {
				out = append(out, []int{start, start + m[1]})
			}
		}
	}
	return out
}

// possible reports whether s holds one of the keys every match needs.
func (r *rx) possible(s string) bool {
	if r.keys == nil {
		return true
	}
	for _, k := range r.keys {
		if strings.Contains(s, k) {
			return true
		}
	}
	return false
}

var boundedGap = regexp.MustCompile(`(^|[^\\])\.\{0,\d+\}`)

func compileRx(src string) (*rx, error) {
	exact, err := regexp.Compile(src)
	if err != nil {
		return nil, err
	}
	keys, _, err := requiredKeys(src)
	if err != nil {
		return nil, err
	}
	r := &rx{fast: exact, keys: keys}
	if relaxed := boundedGap.ReplaceAllString(src, "${1}.*?"); relaxed != src {
		if r.fast, err = regexp.Compile(relaxed); err != nil {
			return nil, err
		}
		r.exact = exact
	}
	if pre, word := prefixKeys(src); pre != nil {
		if r.anchored, err = regexp.Compile(`^(?:` + src + `)`); err != nil {
			return nil, err
		}
		r.prefix, r.wordStart = pre, word
		r.fast, r.exact = nil, nil // anchored search does it all
	}
	return r, nil
}

// FindAllStringIndex returns the matches of the exact expression in s.
func (r *rx) FindAllStringIndex(s string) [][]int {
	if r.anchored != nil {
		return r.findStarting(s, len(s))
	}
	ms := r.fast.FindAllStringIndex(s, -1)
	if r.exact == nil {
		return ms
	}
	out := ms[:0]
	for _, m := range ms {
		for off := m[0]; off < m[1]; {
			e := r.exact.FindStringIndex(s[off:m[1]])
			if e == nil {
				break
			}
			out = append(out, []int{off + e[0], off + e[1]})
			if e[1] == 0 {
				break
			}
			off += e[1]
		}
	}
	return out
}

// MatchString reports whether the exact expression matches s.
func (r *rx) MatchString(s string) bool {
	if r.anchored != nil {
		return len(r.findStarting(s, len(s))) > 0
	}
	if r.exact == nil {
		return r.fast.MatchString(s)
	}
	for _, m := range r.fast.FindAllStringIndex(s, -1) {
		if r.exact.MatchString(s[m[0]:m[1]]) {
			return true
		}
	}
	return false
}

// isShortKey reports whether k is too common to be worth scanning for:
// one or two letters or digits.
func isShortKey(k string) bool {
	t := strings.TrimSpace(k)
	if len(t) > 2 {
		return false
	}
	for i := 0; i < len(t); i++ {
		if !isAlnum(t[i]) {
			return false
		}
	}
	return true
}
