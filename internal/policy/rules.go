package policy

import (
	"embed"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
)

//go:embed rules/*.toml
var rulesFS embed.FS

// ErrRules is returned (wrapped) when the embedded rule files are invalid.
var ErrRules = errors.New("invalid policy rules")

// supported lists the languages the embedded rules cover.
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
	// Asks: a finding of this rule is itself a request about a review
	// (a forbidden one), so the message does not lack one.
	Asks bool
}

// conceptDoc declares a concept the language files give words for.
type conceptDoc struct {
	Name      string
	About     string
	Nominal   bool   // names a thing: a negated list of them goes on across commas
	Modifier  bool   // not itself when it modifies a noun ("Five Star notebooks")
	NegatedAs string `toml:"negated_as"` // becomes this concept when negated
	AskedAs   string `toml:"asked_as"`   // becomes this concept a few words after a question word ("how you liked it")
	// Transparent: the last word of a ".." phrase of this concept stays
	// free for other concepts.
	Transparent bool
	// Helper: used only inside other phrases as {name}, by no rule.
	Helper bool
}

// otherLanguage is a language campaignd recognises (to name it in a
// refusal) but has no rules for.
type otherLanguage struct {
	Code, Name string
	Stopwords  []string
}

type commonFile struct {
	Rule       []ruleDoc    `toml:"rule"`
	Concept    []conceptDoc `toml:"concept"`
	Combine    []comboDoc   `toml:"combine"`
	Groups     map[string][]string
	Lexicon    map[string][]string
	Other      []otherLanguage `toml:"other_language"`
	Emoticons  []string
	NotDomains []string `toml:"not_domains"`
	PlaceWords []string `toml:"place_words"`
	DigitWords []string `toml:"digit_words"`
	PairWords  []string `toml:"pair_words"`
	Joiners    []string `toml:"number_joiners"`
	Social     []string `toml:"social_hosts"`
	Mailboxes  []string `toml:"mailbox_names"`
	Detect     map[string]string
	Messages   map[string]string
}

type langFile struct {
	Language  string
	Name      string
	Elide     bool
	ModPrev   bool `toml:"modifiers_before_noun"`
	NegAcross bool `toml:"negation_across_commas"`
	NounCaps  bool `toml:"nouns_capitalized"`
	Stopwords []string
	Function  []string
	Concepts  map[string][]string
}

// Checker holds the compiled rule set. It is immutable and safe for
// concurrent use.
type Checker struct {
	rules     []ruleDoc
	byID      map[string]ruleDoc
	conceptID map[string]conceptID
	groups    map[string]conceptSet // names for sets of concepts in combination rules
	concepts  []conceptDoc
	special   specials
	combos    []*combo
	lex       map[string]*lexicon
	langs     []langInfo // every language detection knows, the supported ones first
	stopwords map[string]uint32
	emoticons []string
	detect    map[string]*regexp.Regexp
	messages  map[string]string
	// spelledEmail and spelledDomain find addresses written out ("name
	// (at) shop (dot) com"); see compileSpelled.
	spelledEmail, spelledDomain *regexp.Regexp
	spelledDotWord              *regexp.Regexp // a dot written as a word or in brackets
	notDomains                  map[string]bool
	placeWords                  map[string]bool // words before a spelled "at" that make it a place
	mailboxes                   map[string]bool // words before a spelled "at" that make it a mailbox
	numberWords                 map[string]int  // words naming a number: how many digits they stand for (0: a joiner)
	socialHosts                 []string        // social networks: a link to one also promotes an account
	pool                        sync.Pool       // of *scratch: per-call buffers, no shared state
}

// langInfo names a language detection can report.
type langInfo struct{ code, name string }

const requestRule = "request"

var detectKeys = []string{"scheme_url", "www", "bare_domain", "email", "html_tag", "html_comment", "markdown_link", "markdown_image", "html_entity", "phone_us", "phone_intl", "phone_local", "phone_groups", "subject_marks", "spelled_at", "spelled_dot", "spelled_slash", "spaced_domain", "dot_tld", "spelled_email_loose", "messenger_id"}

var messageKeys = []string{"link_social", "link_http", "link_other", "link_other_any", "link_www", "link_bare", "link_spelled", "link_html", "link_markdown", "email", "email_spelled", "phone", "handle", "handle_social", "subject_mark", "html", "image", "entity", "emoji", "emoticon", "no_orderid", "no_orderid_branch", "no_request", "lang_unsupported", "lang_market", "lang_text", "lang_sentence", "lang_subject", "lang_missing"}

// NewChecker compiles the embedded rules.
func NewChecker() (*Checker, error) {
	c := &Checker{byID: map[string]ruleDoc{}, conceptID: map[string]conceptID{}, lex: map[string]*lexicon{}, stopwords: map[string]uint32{}, detect: map[string]*regexp.Regexp{}}
	var cf commonFile
	if err := decodeRules("common.toml", &cf); err != nil {
		return nil, err
	}
	steps := []func(*commonFile) error{c.loadRules, c.loadDetectors, c.loadConcepts, c.loadCombos}
	for _, step := range steps {
		if err := step(&cf); err != nil {
			return nil, fmt.Errorf("%w: common.toml: %w", ErrRules, err)
		}
	}
	if err := c.loadLanguages(cf.Lexicon); err != nil {
		return nil, err
	}
	for _, o := range cf.Other {
		c.addStopwords(o.Code, o.Name, o.Stopwords)
	}
	return c, nil
}

// loadLanguages compiles the six lexicons side by side: they share
// nothing but the concepts, which are read only.
func (c *Checker) loadLanguages(common map[string][]string) error {
	lexs := make([]*lexicon, len(supported))
	files := make([]langFile, len(supported))
	errs := make([]error, len(supported))
	var wg sync.WaitGroup
	for i, lang := range supported {
		wg.Go(func() {
			if errs[i] = decodeRules(lang+".toml", &files[i]); errs[i] != nil {
				return
			}
			if lexs[i], errs[i] = c.compileLanguage(lang, &files[i], common); errs[i] != nil {
				errs[i] = fmt.Errorf("%w: %s.toml: %w", ErrRules, lang, errs[i])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for i, lang := range supported {
		c.lex[lang] = lexs[i]
		c.addStopwords(lang, files[i].Name, files[i].Stopwords)
	}
	return nil
}

// decodeRules reads an embedded rule file strictly: an unknown key is an
// error.
func decodeRules(name string, v any) error {
	b, err := rulesFS.ReadFile("rules/" + name)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrRules, err)
	}
	md, err := toml.Decode(string(b), v)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrRules, name, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return fmt.Errorf("%w: %s: unknown keys %v", ErrRules, name, u)
	}
	return nil
}

func (c *Checker) loadRules(cf *commonFile) error {
	for _, r := range cf.Rule {
		if r.ID == "" || r.Summary == "" || r.What == "" || r.Why == "" {
			return fmt.Errorf("rule %q lacks id, summary, what or why", r.ID)
		}
		c.rules = append(c.rules, r)
		c.byID[r.ID] = r
	}
	c.emoticons = cf.Emoticons
	c.messages = cf.Messages
	for _, k := range messageKeys {
		if cf.Messages[k] == "" {
			return fmt.Errorf("messages.%s missing", k)
		}
	}
	return nil
}

func (c *Checker) loadDetectors(cf *commonFile) error {
	for _, k := range detectKeys {
		src, ok := cf.Detect[k]
		if !ok {
			return fmt.Errorf("detect.%s missing", k)
		}
		re, err := regexp.Compile(src)
		if err != nil {
			return fmt.Errorf("detect.%s: %w", k, err)
		}
		c.detect[k] = re
	}
	var err error
	if c.spelledEmail, c.spelledDomain, err = compileSpelled(cf.Detect); err != nil {
		return fmt.Errorf("spelled addresses: %w", err)
	}
	if c.spelledDotWord, err = regexp.Compile(`(?:[\(\[\{<]|\b(?:dot|point|punkt|punto)\b|ドット|どっと)`); err != nil {
		return err
	}
	c.notDomains, c.placeWords, c.mailboxes, c.socialHosts = set(cf.NotDomains), set(cf.PlaceWords), set(cf.Mailboxes), cf.Social
	c.numberWords = map[string]int{}
	for n, list := range [][]string{cf.Joiners, cf.DigitWords, cf.PairWords} {
		for _, w := range list {
			c.numberWords[w] = n
		}
	}
	return nil
}

func set(words []string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

// specialNames are the concepts the tagger acts on itself; common.toml
// must declare them.
var specialNames = []string{"neutral", "neg", "neg_back", "neg_both", "neg_cont", "neg_stop", "neg_void", "code_token", "review_url", "wh"}

func (c *Checker) loadConcepts(cf *commonFile) error {
	if len(cf.Concept) > maxConcepts {
		return fmt.Errorf("%d concepts, at most %d", len(cf.Concept), maxConcepts)
	}
	for i, d := range cf.Concept {
		if _, dup := c.conceptID[d.Name]; dup || d.Name == "" {
			return fmt.Errorf("concept %q declared twice or unnamed", d.Name)
		}
		c.conceptID[d.Name] = conceptID(i)
		c.concepts = append(c.concepts, d)
	}
	ids := make([]conceptID, len(specialNames))
	for i, n := range specialNames {
		id, ok := c.conceptID[n]
		if !ok {
			return fmt.Errorf("concept %q not declared", n)
		}
		ids[i] = id
	}
	sp := &c.special
	sp.neutral, sp.neg, sp.negBack, sp.negBoth, sp.negCont, sp.negStop, sp.negVoid, sp.codeToken, sp.reviewURL, sp.wh = ids[0], ids[1], ids[2], ids[3], ids[4], ids[5], ids[6], ids[7], ids[8], ids[9]
	return c.conceptOptions()
}

// conceptOptions records the options of each concept.
func (c *Checker) conceptOptions() error {
	sp := &c.special
	sp.negatedAs, sp.askedAs = map[conceptID]conceptID{}, map[conceptID]conceptID{}
	for i, d := range c.concepts {
		id := conceptID(i)
		for _, o := range []struct {
			on  bool
			set *conceptSet
		}{{d.Nominal, &sp.nominal}, {d.Modifier, &sp.modifier}, {d.Transparent, &sp.transparent}} {
			if o.on {
				o.set.add(id)
			}
		}
		for _, as := range []struct {
			key, name string
			m         map[conceptID]conceptID
		}{{"negated_as", d.NegatedAs, sp.negatedAs}, {"asked_as", d.AskedAs, sp.askedAs}} {
			if as.name == "" {
				continue
			}
			to, ok := c.conceptID[as.name]
			if !ok {
				return fmt.Errorf("concept %q: %s names unknown concept %q", d.Name, as.key, as.name)
			}
			as.m[id] = to
		}
	}
	return nil
}

func (c *Checker) loadCombos(cf *commonFile) error {
	c.groups = map[string]conceptSet{}
	for name, list := range cf.Groups {
		if _, clash := c.conceptID[name]; clash {
			return fmt.Errorf("group %q has the name of a concept", name)
		}
		var set conceptSet
		for _, m := range list {
			id, ok := c.conceptID[m]
			if !ok {
				return fmt.Errorf("group %q: unknown concept %q", name, m)
			}
			set.add(id)
		}
		c.groups[name] = set
	}
	names := map[string]bool{}
	for _, d := range cf.Combine {
		if d.Name == "" || names[d.Name] {
			return fmt.Errorf("combine rule name %q empty or used twice", d.Name)
		}
		names[d.Name] = true
		cb, err := c.compileCombo(d)
		if err != nil {
			return err
		}
		c.combos = append(c.combos, cb)
	}
	return nil
}

// compileLanguage compiles one language's lexicon, with the phrases
// common to every language.
func (c *Checker) compileLanguage(lang string, lf *langFile, common map[string][]string) (*lexicon, error) {
	if lf.Language != lang {
		return nil, fmt.Errorf("declares language %q", lf.Language)
	}
	lx := &lexicon{lang: lang, name: lf.Name, stem: newStemmer(lang), elide: lf.Elide, modPrev: lf.ModPrev, negAcross: lf.NegAcross, nounsCapitalized: lf.NounCaps, function: map[string]bool{}}
	for _, list := range [][]string{lf.Stopwords, lf.Function} {
		for _, w := range list {
			lx.function[normalize(w, nil).s] = true
		}
	}
	lists := map[string][]string{}
	for _, src := range []map[string][]string{lf.Concepts, common} {
		for name, phrases := range src {
			if _, ok := c.conceptID[name]; !ok {
				return nil, fmt.Errorf("phrases for unknown concept %q", name)
			}
			lists[name] = append(lists[name], phrases...)
		}
	}
	if err := lx.addAll(c, lists); err != nil {
		return nil, err
	}
	for i := range lx.entries {
		e := &lx.entries[i]
		e.keepTail = true
		for _, id := range e.concepts {
			e.keepTail = e.keepTail && c.special.transparent.has(id)
		}
	}
	if err := lx.index(); err != nil {
		return nil, err
	}
	return lx, nil
}

// addAll compiles every phrase of lists, expanding "{concept}" into each
// one-word phrase of that concept ("before .. {review}" is "before ..
// review", "before .. rating", ...).
func (lx *lexicon) addAll(c *Checker, lists map[string][]string) error {
	seen := map[string]int{}
	for name, phrases := range lists {
		id := c.conceptID[name]
		for _, p := range phrases {
			expanded, err := expandPhrase(p, lists)
			if err != nil {
				return fmt.Errorf("concept %s: %w", name, err)
			}
			for _, e := range expanded {
				if err := lx.add(e, id, seen); err != nil {
					return fmt.Errorf("concept %s: %w", name, err)
				}
			}
		}
	}
	return nil
}

// expandPhrase replaces the first "{concept}" of p with each one-word
// phrase of that concept, recursively.
func expandPhrase(p string, lists map[string][]string) ([]string, error) {
	i := strings.IndexByte(p, '{')
	if i < 0 {
		return []string{p}, nil
	}
	j := strings.IndexByte(p[i:], '}')
	if j < 0 {
		return nil, fmt.Errorf("%q: \"{\" without \"}\"", p)
	}
	name := p[i+1 : i+j]
	words, ok := lists[name]
	if !ok {
		return nil, fmt.Errorf("%q names concept %q, which has no phrases here", p, name)
	}
	var out []string
	for _, w := range words {
		if strings.ContainsAny(w, " *{") {
			continue
		}
		more, err := expandPhrase(p[:i]+w+p[i+j+1:], lists)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// Rules returns every rule the checker enforces, in the order of the
// README's table.
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
