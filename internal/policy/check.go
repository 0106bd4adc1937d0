package policy

import (
	"fmt"
	"sort"
	"strings"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"campaignd/internal/marketplace"
)

// byte kinds of checkable text
const (
	kindText      = iota // written by the template author
	kindData             // a data value (or, in a template, a field placeholder)
	kindReviewURL        // template placeholder for {{.ReviewURL}}, or the review link's value
	kindOrderID          // template placeholder for {{.OrderID}}
	kindMasked           // a link, address or tag a detector reported: not read as words
)

// part is the subject or the body, as text to check.
type part struct {
	subject bool
	text    string
	origin  []int32 // per byte: offset in the locator's source; nil: base+i
	base    int
	kind    []uint8 // per byte
}

// src returns the locator offset of byte i of the part.
func (p *part) src(i int) int {
	if p.origin == nil {
		return p.base + i
	}
	return int(p.origin[i])
}

// locator turns source offsets into line:col. The source text and its
// line starts are built on first use: most checks report nothing.
type locator struct {
	path   string
	text   string
	build  func() string // when set, makes text on first use
	starts []int         // byte offset of each line start; nil until needed
}

func newLocator(path, src string) *locator {
	return &locator{path: path, text: src}
}

// src returns the located text.
func (l *locator) src() string {
	if l.build != nil {
		l.text, l.build = l.build(), nil
	}
	return l.text
}

func (l *locator) pos(off int) (int, int) {
	src := l.src()
	if l.starts == nil {
		l.starts = make([]int, 1, strings.Count(src, "\n")+1)
		for i := 0; i < len(src); i++ {
			if src[i] == '\n' {
				l.starts = append(l.starts, i+1)
			}
		}
	}
	off = min(max(off, 0), len(src))
	i := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
	return i + 1, 1 + utf8.RuneCountInString(src[l.starts[i]:off])
}

// check is one run of the checker over a template or message.
type check struct {
	c           *Checker
	sc          *scratch
	loc         *locator
	parts       []*part
	lang        string // declared language
	declared    bool   // the template has a Language: line
	market      string // the marketplace named in link refusals; "" when linting a bare file
	allowURL    func(string) bool
	orderID     string // rendered message: the order id, skipped by the phone scan
	out         []Violation
	seen        map[string]bool
	subjectSeen map[string]bool
	foreign     []foreignRun // sentences in another language than the declared one
	sentence    int          // sentences read so far (for runs of foreign ones)
	message     bool         // a rendered message: data text is read too
	structHits  []structHit  // what the structural detectors reported
}

// structHit is a structural finding; a combination rule of the same rule
// in the same sentence adds nothing ("call us on 0800 ...").
type structHit struct {
	rule string
	off  int // source offset
}

func (c *Checker) newCheck(loc *locator, lang string) *check {
	return &check{c: c, sc: c.getScratch(), loc: loc, lang: lang, declared: true, seen: map[string]bool{}, subjectSeen: map[string]bool{}}
}

func (k *check) add(rule string, off int, detail, excerpt string) {
	line, col := k.loc.pos(off)
	r := k.c.byID[rule]
	msg := r.What
	if detail != "" {
		msg = detail
	}
	if excerpt != "" {
		msg += fmt.Sprintf(" (%q)", excerpt)
	}
	msg += "; " + r.Why
	key := fmt.Sprintf("%s:%d:%d", rule, line, col)
	if k.seen[key] {
		return
	}
	k.seen[key] = true
	k.out = append(k.out, Violation{Path: k.loc.path, Line: line, Col: col, Rule: rule, Message: msg})
}

// maxExcerpt is the longest excerpt a refusal quotes, in runes.
const maxExcerpt = 60

// excerpt returns the source text between two source offsets: whitespace
// collapsed, no punctuation at either end, and cut at a word boundary
// when it runs past maxExcerpt runes.
func (k *check) excerpt(from, to int) string {
	src := k.loc.src()
	from, to = max(from, 0), min(to, len(src))
	if from >= to {
		return ""
	}
	s := strings.Join(strings.Fields(src[from:to]), " ")
	s = strings.TrimRightFunc(s, isTrailingPunct)
	if utf8.RuneCountInString(s) <= maxExcerpt {
		return s
	}
	r := []rune(s)[:maxExcerpt-1]
	cut := len(r)
	for i := len(r) - 1; i > maxExcerpt/2; i-- {
		if r[i] == ' ' {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(r[:cut]), isTrailingPunct) + "…"
}

func isTrailingPunct(r rune) bool {
	return unicode.IsSpace(r) || strings.ContainsRune(".,;:!?、。！？…-–—(\"'", r)
}

// CheckTemplate checks a template's source for use on the given
// marketplaces. Literal text gets every rule; fields are placeholders, with
// {{.ReviewURL}} the allowed review link and {{.OrderID}} the order id,
// which must be printed on every path through the template. P-LANGUAGE:
// the declared language must be one of each marketplace's languages, and
// the text, sentence by sentence and the subject, must read as the
// declared language. With no marketplaces, a literal link must be the
// review page of some Amazon marketplace. Sorted by line, col.
func (c *Checker) CheckTemplate(t *Template, markets []marketplace.Marketplace) []Violation {
	k := c.newCheck(newLocator(t.Path, t.src), t.Language)
	defer c.putScratch(k.sc)
	k.declared = t.languageOff >= 0
	k.allowURL, k.market = templateLinks(markets)
	trees := []struct {
		subject bool
		tp      *parse.Tree
		base    int
	}{{true, t.subject.Tree, t.subjectOff}, {false, t.body.Tree, t.bodyOff}}
	for _, pt := range trees {
		b := &partBuilder{p: &part{subject: pt.subject}, base: pt.base}
		if pt.tp != nil {
			b.walk(pt.tp.Root, "")
		}
		b.p.text = b.sb.String()
		k.parts = append(k.parts, b.p)
	}
	langOff := t.subjectOff
	if t.languageOff >= 0 {
		langOff = t.languageOff
	}
	k.run(langOff, t.bodyOff)
	k.templateOrderID(t)
	for _, m := range markets {
		if _, ok := c.lex[t.Language]; ok && !m.SpeaksLanguage(t.Language) {
			k.add("P-LANGUAGE", langOff, fmt.Sprintf(c.messages["lang_market"], t.Language, m.Name, strings.Join(m.Languages, ", ")), "")
		}
	}
	sortViolations(k.out)
	return k.out
}

// templateLinks returns which literal links a template for markets may
// hold, and the marketplace link refusals name ("" for any marketplace).
func templateLinks(markets []marketplace.Marketplace) (func(string) bool, string) {
	if len(markets) == 0 {
		return func(u string) bool {
			for _, m := range marketplace.All() {
				if m.IsReviewURL(u) {
					return true
				}
			}
			return false
		}, ""
	}
	names := make([]string, len(markets))
	for i, m := range markets {
		names[i] = m.Name
	}
	return func(u string) bool {
		for _, m := range markets {
			if !m.IsReviewURL(u) {
				return false
			}
		}
		return true
	}, strings.Join(names, ", ")
}

// templateOrderID reports a template that does not print {{.OrderID}}, or
// prints it in one branch of an {{if}} or {{with}} only.
func (k *check) templateOrderID(t *Template) {
	var branch int = -1
	for _, pt := range []struct {
		tp   *parse.Tree
		base int
	}{{t.subject.Tree, t.subjectOff}, {t.body.Tree, t.bodyOff}} {
		if pt.tp == nil {
			continue
		}
		ok, at := orderIDOnEveryPath(pt.tp.Root, "")
		if ok {
			return
		}
		if at > 0 && branch < 0 {
			branch = pt.base + int(at)
		}
	}
	if branch >= 0 {
		k.add("P-ORDERID", branch, k.c.messages["no_orderid_branch"], k.excerpt(branch, branch+min(40, len(k.loc.src())-branch)))
		return
	}
	k.add("P-ORDERID", t.subjectOff, "", "")
}

// CheckMessage checks a rendered message for one order on marketplace m.
// orderID must appear in the subject or body; the only allowed link is
// m.IsReviewURL. label is used as Violation.Path. Text that came from data
// (see Render) is checked for links, contact details, HTML and emoji, and
// for a sentence that asks for a review in a way the rules forbid (a
// product title such as "Leave a 5-star review and get a free refund").
func (c *Checker) CheckMessage(label string, msg Message, orderID string, m marketplace.Marketplace) []Violation {
	const prefix = "Subject: "
	loc := &locator{path: label, build: func() string { return prefix + msg.Subject + "\n\n" + msg.Body }}
	k := c.newCheck(loc, msg.Language)
	defer c.putScratch(k.sc)
	k.allowURL, k.orderID, k.market, k.message = m.IsReviewURL, orderID, m.Name, true
	if k.lang == "" {
		k.lang = "en"
	}
	sc := k.sc
	mk := func(subject bool, text string, base int, spans []span, kind *[]uint8) *part {
		kd := grow(*kind, len(text))
		clear(kd)
		*kind = kd
		p := &part{subject: subject, text: text, base: base, kind: kd}
		for _, s := range spans {
			for i := s.start; i < s.end && i < len(text); i++ {
				p.kind[i] = s.kind
			}
		}
		return p
	}
	bodyOff := len(prefix) + len(msg.Subject) + 2
	k.parts = []*part{mk(true, msg.Subject, len(prefix), msg.subjectData, &sc.kinds[0]), mk(false, msg.Body, bodyOff, msg.bodyData, &sc.kinds[1])}
	k.run(len(prefix), bodyOff)
	if orderID == "" || !containsJoined(msg.Subject, msg.Body, orderID) {
		k.add("P-ORDERID", len(prefix), "", orderID)
	}
	if _, ok := c.lex[k.lang]; ok && !m.SpeaksLanguage(k.lang) {
		k.add("P-LANGUAGE", len(prefix), fmt.Sprintf(c.messages["lang_market"], k.lang, m.Name, strings.Join(m.Languages, ", ")), "")
	}
	sortViolations(k.out)
	return k.out
}

// containsJoined reports whether subject+"\n"+body contains sub, without
// building the joined text.
func containsJoined(subject, body, sub string) bool {
	if strings.Contains(subject, sub) || strings.Contains(body, sub) {
		return true
	}
	// A match across the line break starts in the last len(sub)-1 bytes of
	// the subject.
	head := subject[max(0, len(subject)-len(sub)+1):]
	tail := body[:min(len(body), len(sub)-1)]
	return strings.Contains(head+"\n"+tail, sub)
}

// CheckTemplate checks a template with the default checker; see
// Checker.CheckTemplate.
func CheckTemplate(t *Template, markets []marketplace.Marketplace) []Violation {
	return Default().CheckTemplate(t, markets)
}

// CheckMessage checks a rendered message with the default checker; see
// Checker.CheckMessage.
func CheckMessage(label string, msg Message, orderID string, m marketplace.Marketplace) []Violation {
	return Default().CheckMessage(label, msg, orderID, m)
}

// run applies every rule to k.parts. langOff locates language problems,
// bodyOff a missing review request.
func (k *check) run(langOff, bodyOff int) {
	for _, p := range k.parts {
		k.structural(p)
	}
	nts := make([]normText, len(k.parts))
	for i, p := range k.parts {
		var sc *scratch
		if !p.subject {
			sc = k.sc // the body's offsets live in the scratch buffers
		}
		nts[i] = normalizeInto(p.text, p.kind, sc)
	}
	bodyLang, foreignBody := k.bodyLanguage(nts[len(nts)-1])
	lx := k.c.lex[k.lang]
	if l, ok := k.c.lex[bodyLang]; ok && foreignBody {
		lx = l // read a German body as German, whatever it declares
	}
	if _, ok := k.c.lex[k.lang]; !ok {
		k.add("P-LANGUAGE", langOff, fmt.Sprintf(k.c.messages["lang_unsupported"], k.lang, strings.Join(supported, ", ")), "")
	}
	request := false
	for i, p := range k.parts {
		if lx != nil && k.analyzePart(p, nts[i], lx) {
			request = true
		}
		if k.message {
			k.analyzeData(p, lx)
		}
	}
	k.reportLanguage(langOff, bodyOff, bodyLang, foreignBody)
	if !request && !foreignBody && lx != nil {
		k.add("P-NOREQUEST", bodyOff, k.c.messages["no_request"], "")
	}
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
