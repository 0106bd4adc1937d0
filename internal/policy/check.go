package policy

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/template/parse"
	"unicode/utf8"

	"campaignd/internal/marketplace"
)

// byte kinds of checkable text
const (
	kindText      = iota // written by the template author
	kindData             // a data value (or, in a template, a field placeholder)
	kindReviewURL        // template placeholder for {{.ReviewURL}}
	kindOrderID          // template placeholder for {{.OrderID}}
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
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	i := sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > off }) - 1
	return i + 1, 1 + utf8.RuneCountInString(src[l.starts[i]:off])
}

// check is one run of the checker over a template or message.
type check struct {
	c        *Checker
	sc       *scratch // per-call buffers; nil: allocate
	loc      *locator
	parts    []*part
	lang     string
	allowURL func(string) bool
	orderID  string // rendered message: the order id, skipped by the phone scan
	out      []Violation
	seen     map[string]bool
}

func (k *check) add(rule string, off int, detail, excerpt string) {
	line, col := k.loc.pos(off)
	r := k.c.byID[rule]
	what := r.What
	if detail != "" {
		what = detail
	}
	msg := what
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

// excerpt returns the source text between two source offsets, whitespace
// collapsed and shortened to 60 runes.
func (k *check) excerpt(from, to int) string {
	if from < 0 {
		from = 0
	}
	src := k.loc.src()
	if to > len(src) {
		to = len(src)
	}
	if from >= to {
		return ""
	}
	s := strings.Join(strings.Fields(src[from:to]), " ")
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:57]) + "..."
	}
	return s
}

// CheckTemplate checks a template's source for use on the given
// marketplaces. Literal text gets every rule; fields are placeholders, with
// {{.ReviewURL}} the allowed review link and {{.OrderID}} the order id,
// which must appear in the subject or body. P-LANGUAGE: the declared
// language must be one of each marketplace's languages, and the text must
// read as the declared language. With no marketplaces, a literal link must
// be the review page of some Amazon marketplace. Sorted by line, col.
func (c *Checker) CheckTemplate(t *Template, markets []marketplace.Marketplace) []Violation {
	k := &check{c: c, loc: newLocator(t.Path, t.src), lang: t.Language, seen: map[string]bool{}}
	k.allowURL = func(u string) bool {
		if len(markets) == 0 {
			for _, m := range marketplace.All() {
				if m.IsReviewURL(u) {
					return true
				}
			}
			return false
		}
		for _, m := range markets {
			if !m.IsReviewURL(u) {
				return false
			}
		}
		return true
	}
	hasOrderID := false
	for _, pt := range []struct {
		subject bool
		tp      *parse.Tree
		base    int
	}{{true, t.subject.Tree, t.subjectOff}, {false, t.body.Tree, t.bodyOff}} {
		b := &partBuilder{p: &part{subject: pt.subject}, base: pt.base}
		if pt.tp != nil {
			b.walk(pt.tp.Root, "")
		}
		b.p.text = b.sb.String()
		if b.orderID {
			hasOrderID = true
		}
		k.parts = append(k.parts, b.p)
	}
	langOff := t.subjectOff
	if t.languageOff >= 0 {
		langOff = t.languageOff
	}
	k.run(langOff, t.bodyOff)
	if !hasOrderID {
		k.add("P-ORDERID", t.subjectOff, "", "")
	}
	if _, ok := c.langs[t.Language]; ok {
		for _, m := range markets {
			if !m.SpeaksLanguage(t.Language) {
				k.add("P-LANGUAGE", langOff, fmt.Sprintf(c.messages["lang_market"], t.Language, m.Name, strings.Join(m.Languages, ", ")), "")
			}
		}
	}
	sortViolations(k.out)
	return k.out
}

// CheckMessage checks a rendered message for one order on marketplace m.
// orderID must appear in the subject or body; the only allowed link is
// m.IsReviewURL. label is used as Violation.Path. Text that came from data
// (see Render) is checked for links, contact details, HTML and emoji only.
func (c *Checker) CheckMessage(label string, msg Message, orderID string, m marketplace.Marketplace) []Violation {
	const prefix = "Subject: "
	sc := c.getScratch()
	defer c.putScratch(sc)
	loc := &locator{path: label, build: func() string { return prefix + msg.Subject + "\n\n" + msg.Body }}
	k := &check{c: c, sc: sc, loc: loc, lang: msg.Language, allowURL: m.IsReviewURL, orderID: orderID, seen: map[string]bool{}}
	if k.lang == "" {
		k.lang = "en"
	}
	mk := func(subject bool, text string, base int, spans []span, kind *[]uint8) *part {
		kd := grow(*kind, len(text))
		clear(kd)
		*kind = kd
		p := &part{subject: subject, text: text, base: base, kind: kd}
		for _, s := range spans {
			for i := s.start; i < s.end && i < len(text); i++ {
				p.kind[i] = kindData
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
	if _, ok := c.langs[k.lang]; ok && !m.SpeaksLanguage(k.lang) {
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
	sets := []*phraseSet{k.c.common}
	if set, ok := k.c.langs[k.lang]; ok {
		sets = append(sets, set)
	} else {
		k.add("P-LANGUAGE", langOff, fmt.Sprintf(k.c.messages["lang_unsupported"], k.lang, strings.Join(supported, ", ")), "")
	}
	if k.lang != "en" {
		sets = append(sets, k.c.langs["en"])
	}
	request := false
	var authored []byte // the start of the author text, for language detection
	if k.sc != nil {
		authored = k.sc.authored[:0]
		defer func() { k.sc.authored = authored[:0] }()
	}
	for _, p := range k.parts {
		nt := normalizeInto(p.text, p.kind, k.sc)
		if k.phrases(p, nt, sets) {
			request = true
		}
		for i := 0; i < len(nt.s) && len(authored) < maxDetect; i++ {
			if nt.s[i] != dataMark {
				authored = append(authored, nt.s[i])
			}
		}
		authored = append(authored, ' ')
	}
	if !request {
		k.add("P-NOREQUEST", bodyOff, k.c.messages["no_request"], "")
	}
	if _, ok := k.c.langs[k.lang]; ok {
		if got, ok := k.c.detectNormalized(string(authored)); ok && got != k.lang {
			k.add("P-LANGUAGE", bodyOff, fmt.Sprintf(k.c.messages["lang_text"], k.c.langs[got].name, k.lang), "")
		}
	}
}

// acHit is a keyword found by the Aho-Corasick scan.
type acHit struct {
	id  int32
	end int
}

// sentence is a [start, end) range of normalized text.
type sentence struct{ start, end int }

func splitSentences(s string) []sentence { return appendSentences(nil, s) }

// appendSentences appends the sentences of s to out.
func appendSentences(out []sentence, s string) []sentence {
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && !sentenceByte[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			// ASCII: only these bytes end a sentence.
			i++
			switch c {
			case '!', '?', ';', '\n':
			case '.':
				if i < len(s) && s[i] != ' ' && s[i] != '\n' {
					continue
				}
			default:
				continue
			}
			out = append(out, sentence{start, i})
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch r {
		case '。', '！', '？', '．':
			out = append(out, sentence{start, i})
			start = i
		}
	}
	if start < len(s) {
		out = append(out, sentence{start, len(s)})
	}
	return out
}

// sentenceByte marks the bytes that may end a sentence: the ASCII marks
// and every byte of a multi-byte character.
var sentenceByte = func() (t [256]bool) {
	for _, c := range "!?;\n." {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = true
	}
	return t
}()

// phrases runs the phrase rules of sets on one part and reports whether a
// review request was found.
func (k *check) phrases(p *part, nt normText, sets []*phraseSet) bool {
	sc := k.sc
	if sc == nil {
		sc = &scratch{}
	}
	sents := appendSentences(sc.sents[:0], nt.s)
	sc.sents = sents
	if len(sents) == 0 {
		return false
	}
	request := false
	type hit struct {
		set      *phraseSet
		start    int
		end      int
		sentence int
	}
	found := map[string]map[int]hit{} // rule -> sentence -> first hit
	cands := sc.cands[:0]
	defer func() { sc.cands = cands[:0] }()
	for _, set := range sets {
		if set.subjectOnly && !p.subject {
			continue
		}
		hits := set.matcher.appendHits(sc.hits[:0], nt.s)
		sc.hits = hits
		stamp := grow(sc.stamp, len(set.keyLen)) // keyword -> sentence+1 it was last seen in
		clear(stamp)
		sc.stamp = stamp
		pstamp := grow(sc.pstamp, len(set.patterns)) // pattern -> sentence+1 it was last queued for
		clear(pstamp)
		sc.pstamp = pstamp
		hi := 0
		for si, sn := range sents {
			mark := int32(si + 1)
			cands = cands[:0]
			sentHits := hits[hi:hi]
			for ; hi < len(hits) && hits[hi].end <= sn.end; hi++ {
				h := hits[hi]
				if h.end-set.keyLen[h.id] < sn.start {
					continue
				}
				sentHits = append(sentHits, h)
				stamp[h.id] = mark
				for _, pi := range set.keyPats[h.id] {
					if pstamp[pi] != mark {
						pstamp[pi] = mark
						cands = append(cands, pi)
					}
				}
			}
			cands = append(cands, set.always...)
			slices.Sort(cands)
			text := nt.s[sn.start:sn.end]
		next:
			for _, pi := range cands {
				pat := &set.patterns[pi]
				if pat.rule == "P-SUBJECT" && !p.subject {
					continue
				}
				if pat.rule == requestRule && request {
					continue
				}
				if _, ok := found[pat.rule][si]; ok {
					// The first pattern that matches a sentence names the
					// finding: files list the most specific patterns first.
					continue
				}
				for _, ids := range pat.needIDs {
					seen := false
					for _, id := range ids {
						if stamp[id] == mark {
							seen = true
							break
						}
					}
					if !seen {
						continue next
					}
				}
				if pat.rule == requestRule {
					request = len(k.matches(set, pat, nt.s, sn, sentHits)) > 0
					continue
				}
				for _, m := range k.matches(set, pat, nt.s, sn, sentHits) {
					if m[0] == m[1] {
						continue
					}
					if k.neutralized(pat.rule, text, m, sets, set, nt.s, sn, sentHits) {
						continue
					}
					if found[pat.rule] == nil {
						found[pat.rule] = map[int]hit{}
					}
					found[pat.rule][si] = hit{set, sn.start + m[0], sn.start + m[1], si}
					break
				}
			}
		}
	}
	for rule, bySent := range found {
		for _, h := range bySent {
			from := p.src(int(nt.off[h.start]))
			to := p.src(nt.endOf(h.end-1)-1) + 1
			for src := k.loc.src(); to < len(src) && !utf8.RuneStart(src[to]); {
				to++
			}
			k.add(rule, from, "", k.excerpt(from, to))
		}
	}
	return request
}

// matches returns the matches of pat in sentence sn of s, relative to the
// sentence. An anchored pattern is tried only where one of its prefix
// keywords was found.
func (k *check) matches(set *phraseSet, pat *pattern, s string, sn sentence, hits []acHit) [][]int {
	text := s[sn.start:sn.end]
	if pat.anchored == nil {
		return pat.re.FindAllStringIndex(text)
	}
	var out [][]int
	var tried []int // starts already tried: prefixes such as "free" and "free " share one
	last := -1
	limit := -2 // matches start at or before limit; -2: not computed yet
	for _, h := range hits {
		start := h.end - set.keyLen[h.id]
		if start <= last || slices.Contains(tried, start) || !has(set.keyPats[h.id], pat.index) {
			continue
		}
		tried = append(tried, start)
		if pat.wordStart && start > 0 && isWordByte(s[start-1]) {
			continue
		}
		if limit == -2 {
			limit = needLimit(set, pat, hits)
		}
		if start > limit {
			// A keyword every match holds does not occur from here on.
			continue
		}
		if m := pat.anchored.FindStringIndex(s[start:sn.end]); m != nil {
			out = append(out, []int{start - sn.start, start - sn.start + m[1]})
			last = start + m[1] - 1
		}
	}
	return out
}

// needLimit returns the last place in the sentence a match of pat can
// start: every match holds a keyword of each of pat.needIDs, so it starts
// at or before the last occurrence of one.
func needLimit(set *phraseSet, pat *pattern, hits []acHit) int {
	limit := int(^uint(0) >> 1)
	for _, ids := range pat.needIDs {
		last := -1
		for _, h := range hits {
			if start := h.end - set.keyLen[h.id]; start > last && has(ids, h.id) {
				last = start
			}
		}
		limit = min(limit, last)
	}
	return limit
}

// has reports whether the sorted list holds x.
func has(list []int32, x int32) bool {
	if len(list) <= 8 {
		return slices.Contains(list, x)
	}
	_, ok := slices.BinarySearch(list, x)
	return ok
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// neutralized reports whether a neutral phrase of rule overlaps match m in
// sentence text, or a negation overlaps it or stands within 40 bytes of it
// with no spoiler word in the stretch they cover together and no condition
// ("unless", "except") after it in the sentence.
func (k *check) neutralized(rule, text string, m []int, sets []*phraseSet, own *phraseSet, s string, sn sentence, hits []acHit) bool {
	const near = 40
	find := func(set *phraseSet, re *rx, limit int) [][]int {
		if set == own && re.prefixIDs != nil {
			return re.findFromHits(set, s, sn, hits, limit)
		}
		if !re.possible(text) {
			return nil
		}
		return re.findStarting(text, limit)
	}
	for _, set := range sets {
		for _, re := range set.neutral[rule] {
			for _, n := range find(set, re, m[1]) {
				if n[0] < m[1] && m[0] < n[1] {
					return true
				}
			}
		}
		for _, re := range set.negation[rule] {
			for _, n := range find(set, re, m[1]+near+1) {
				lo, hi := min(n[0], m[0]), max(n[1], m[1])
				gap := 0
				if n[1] < m[0] {
					gap = m[0] - n[1]
				} else if m[1] < n[0] {
					gap = n[0] - m[1]
				}
				if gap > near {
					continue
				}
				if !k.spoiled(text[lo:hi], text[lo:], sets) {
					return true
				}
			}
		}
	}
	return false
}

// findFromHits returns the matches of an anchored expression that start,
// before limit (relative to the sentence), at one of its prefix keywords
// found by the scan of set.
func (r *rx) findFromHits(set *phraseSet, s string, sn sentence, hits []acHit, limit int) [][]int {
	var out [][]int
	var tried []int
	for _, h := range hits {
		if !has(r.prefixIDs, h.id) {
			continue
		}
		start := h.end - set.keyLen[h.id]
		if start-sn.start >= limit || slices.Contains(tried, start) {
			continue
		}
		tried = append(tried, start)
		if r.wordStart && start > 0 && isWordByte(s[start-1]) {
			continue
		}
		if m := r.anchored.FindStringIndex(s[start:sn.end]); m != nil {
			out = append(out, []int{start - sn.start, start - sn.start + m[1]})
		}
	}
	return out
}

// spoiled reports whether a spoiler stands in the stretch a negation and
// its match cover, or a condition anywhere from there to the sentence end.
func (k *check) spoiled(stretch, rest string, sets []*phraseSet) bool {
	for _, set := range sets {
		for _, re := range set.spoilers {
			if re.MatchString(stretch) {
				return true
			}
		}
		for _, re := range set.conds {
			if re.MatchString(rest) {
				return true
			}
		}
	}
	return false
}

// partBuilder turns a template parse tree into checkable text.
type partBuilder struct {
	p       *part
	sb      strings.Builder
	base    int
	orderID bool
}

func (b *partBuilder) emit(s string, origin int, kind uint8, fixed bool) {
	for i := 0; i < len(s); i++ {
		o := origin
		if !fixed {
			o = origin + i
		}
		b.sb.WriteByte(s[i])
		b.p.origin = append(b.p.origin, int32(o))
		b.p.kind = append(b.p.kind, kind)
	}
}

func (b *partBuilder) walk(n parse.Node, dotField string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			b.walk(c, dotField)
		}
	case *parse.TextNode:
		b.emit(string(n.Text), b.base+int(n.Pos), kindText, false)
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 {
			return
		}
		b.action(n.Pipe, dotField, b.base+int(n.Pos))
	case *parse.IfNode:
		b.strings(n.Pipe)
		b.walk(n.List, dotField)
		if n.ElseList != nil {
			b.emit(" ", b.base+int(n.Pos), kindData, true)
			b.walk(n.ElseList, dotField)
		}
	case *parse.WithNode:
		b.strings(n.Pipe)
		f := fieldOf(n.Pipe, dotField)
		b.walk(n.List, f)
		if n.ElseList != nil {
			b.emit(" ", b.base+int(n.Pos), kindData, true)
			b.walk(n.ElseList, dotField)
		}
	}
}

// fieldOf returns the field a pipeline of one field reference names.
func fieldOf(p *parse.PipeNode, dotField string) string {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return ""
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return a.Ident[0]
	case *parse.VariableNode:
		if len(a.Ident) == 2 && a.Ident[0] == "$" {
			return a.Ident[1]
		}
	case *parse.DotNode:
		return dotField
	}
	return ""
}

// mentions reports whether the pipeline refers to field name.
func mentions(p *parse.PipeNode, name, dotField string) bool {
	if p == nil {
		return false
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a := a.(type) {
			case *parse.FieldNode:
				if a.Ident[0] == name {
					return true
				}
			case *parse.VariableNode:
				if len(a.Ident) == 2 && a.Ident[1] == name {
					return true
				}
			case *parse.DotNode:
				if dotField == name {
					return true
				}
			case *parse.PipeNode:
				if mentions(a, name, dotField) {
					return true
				}
			}
		}
	}
	return false
}

func (b *partBuilder) action(p *parse.PipeNode, dotField string, origin int) {
	b.strings(p)
	switch f := fieldOf(p, dotField); {
	case f == "ReviewURL":
		b.emit("REVIEWURL", origin, kindReviewURL, true)
	case f == "OrderID":
		b.orderID = true
		b.emit("ORDERID", origin, kindOrderID, true)
	case mentions(p, "OrderID", dotField):
		b.orderID = true
		b.emit("ORDERID", origin, kindOrderID, true)
	default:
		b.emit("FIELD", origin, kindData, true)
	}
}

// strings emits the string constants of a pipeline as author text.
func (b *partBuilder) strings(p *parse.PipeNode) {
	if p == nil {
		return
	}
	for _, c := range p.Cmds {
		for _, a := range c.Args {
			switch a := a.(type) {
			case *parse.StringNode:
				b.emit(" ", b.base+int(a.Pos), kindData, true)
				b.emit(a.Text, b.base+int(a.Pos)+1, kindText, false)
				b.emit(" ", b.base+int(a.Pos), kindData, true)
			case *parse.PipeNode:
				b.strings(a)
			}
		}
	}
}
