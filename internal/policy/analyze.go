package policy

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// fired is a combination rule that matched in a sentence.
type fired struct {
	cb     *combo
	b0, b1 int32 // bytes of the sentence the rule's concepts cover
}

// prevSentence is what a rule may ask of the sentence before.
type prevSentence struct {
	yes, no conceptSet
	quest   bool
}

func (p *prevSentence) tags() *sentenceTags {
	if p == nil {
		return nil
	}
	return &sentenceTags{yes: p.yes, no: p.no, quest: p.quest}
}

// analyzePart reads the author text of a part sentence by sentence with
// the lexicon of language lx, reports what the combination rules find,
// and returns whether a sentence asks for a review. Sentences in another
// language are collected in k.foreign.
func (k *check) analyzePart(p *part, nt normText, lx *lexicon) bool {
	sc := k.sc
	sents := appendSentences(sc.sents[:0], nt.s)
	sc.sents = sents
	codes := codeRuns(p)
	request := false
	var prev *prevSentence
	var whole sentenceTags // the concepts of every sentence, for the rules that read across them
	for _, sn := range sents {
		st := k.tagSentence(lx, p.text, nt, sn, codes)
		whole.yes, whole.no = whole.yes.union(st.yes), whole.no.union(st.no)
		for _, f := range k.fire(st, prev.tags(), lx.lang, p.subject, false) {
			if f.cb.Rule == requestRule || k.c.byID[f.cb.Rule].Asks {
				request = true
			}
			if f.cb.Rule == requestRule {
				continue
			}
			k.report(p, nt, sn, f.cb.Rule, sn.start+int(f.b0), sn.start+int(f.b1))
		}
		k.noteLanguage(p, nt, sn, st)
		prev = &prevSentence{yes: st.yes, no: st.no, quest: st.quest}
	}
	return request || k.requestAcross(&whole, lx.lang, p.subject)
}

// requestAcross reports whether a request rule that reads across
// sentences finds its concepts in the part: the review link with an
// invitation anywhere around it ("How is it going? Tell us here:
// {{.ReviewURL}}").
func (k *check) requestAcross(whole *sentenceTags, lang string, subject bool) bool {
	for _, cb := range k.c.combos {
		if cb.Across && cb.applies(whole, nil, lang, subject, false) {
			return true
		}
	}
	return false
}

// tagSentence tokenises sentence sn of nt (normalised from src) and finds
// its concepts.
func (k *check) tagSentence(lx *lexicon, src string, nt normText, sn sentence, codes []span) *sentenceTags {
	sc := k.sc
	st := &sc.tags
	*st = sentenceTags{text: nt.s[sn.start:sn.end], occs: sc.occs[:0]}
	st.toks = tokenize(sc.toks[:0], st.text, lx.elide)
	sc.toks = st.toks
	for i := range st.toks {
		t := &st.toks[i]
		if t.kind == tokWord && lx.stem != nil {
			t.stem = lx.stem.of(st.text[t.start:t.end])
		}
		if len(codes) > 0 && t.kind != tokPunct {
			t.code = inSpans(codes, int(nt.off[sn.start+int(t.start)]))
		}
		if t.kind == tokWord && t.script == scriptLatin {
			t.title = isTitleCase(src, int(nt.off[sn.start+int(t.start)]))
		}
	}
	ms, taken := choose(lx.find(sc.matches[:0], st.text, st.toks), sc.taken)
	sc.matches, sc.taken = ms, taken
	k.c.occurrences(lx, st, ms, sc)
	sc.occs = st.occs
	st.quest = isQuestion(st.text)
	return st
}

// fire returns the combination rules that match sentence st, without the
// ones another match replaces ("over") and with one match per rule.
func (k *check) fire(st *sentenceTags, prev *sentenceTags, lang string, subject, data bool) []fired {
	out := k.sc.fired[:0]
	if st.yes == (conceptSet{}) && st.no == (conceptSet{}) {
		return out
	}
	for _, cb := range k.c.combos {
		if cb.Across || !cb.applies(st, prev, lang, subject, data) {
			continue
		}
		if slices.ContainsFunc(out, func(f fired) bool { return f.cb.Rule == cb.Rule }) {
			continue
		}
		if b0, b1, ok := cb.span(st); ok {
			out = append(out, fired{cb: cb, b0: b0, b1: b1})
		}
	}
	k.sc.fired = out
	return slices.DeleteFunc(out, func(f fired) bool {
		return slices.ContainsFunc(out, func(g fired) bool { return slices.Contains(g.cb.Over, f.cb.Rule) })
	})
}

// report adds a finding for the normalised byte range [b0, b1) of part
// p, in sentence sn, unless a structural detector found the same problem
// in the sentence already.
func (k *check) report(p *part, nt normText, sn sentence, rule string, b0, b1 int) {
	if sn.end > sn.start {
		lo, hi := p.src(int(nt.off[sn.start])), p.src(nt.endOf(sn.end-1)-1)+1
		for _, h := range k.structHits {
			if h.rule == rule && h.off >= lo && h.off < hi {
				return
			}
		}
	}
	from := p.src(int(nt.off[b0]))
	to := p.src(nt.endOf(b1-1)-1) + 1
	for src := k.loc.src(); to < len(src) && !utf8.RuneStart(src[to]); {
		to++
	}
	if p.subject && k.subjectSeen[rule] {
		return // one finding per rule in a subject line
	}
	if p.subject {
		k.subjectSeen[rule] = true
	}
	ex := k.excerpt(from, to)
	if ex == "" && sn.end > sn.start {
		// The concepts cover no words of their own (the review link):
		// quote the sentence.
		from, to = p.src(int(nt.off[sn.start])), p.src(nt.endOf(sn.end-1)-1)+1
		ex = k.excerpt(from, to)
	}
	k.add(rule, from, "", ex)
}

// codeRuns returns the byte ranges of the part's author text that look
// like a promotion code: 4 to 20 capital letters and digits with at least
// two letters and one digit ("THANKS15").
func codeRuns(p *part) []span {
	var out []span
	s := p.text
	for i := 0; i < len(s); {
		if !isCodeByte(s[i]) || i > 0 && isAlnum(s[i-1]) {
			i++
			continue
		}
		j, letters, digits := i, 0, 0
		for j < len(s) && isCodeByte(s[j]) {
			if isDigitByte(s[j]) {
				digits++
			} else {
				letters++
			}
			j++
		}
		if (j == len(s) || !isAlnum(s[j])) && j-i >= 4 && j-i <= 20 && letters >= 2 && digits >= 1 && p.kind[i] == kindText {
			out = append(out, span{i, j, kindText})
		}
		i = j
	}
	return out
}

// isTitleCase reports whether the word at byte i of src starts with a
// capital followed by a small letter.
func isTitleCase(src string, i int) bool {
	if i >= len(src) {
		return false
	}
	r, n := utf8.DecodeRuneInString(src[i:])
	if !unicode.IsUpper(r) || i+n >= len(src) {
		return false
	}
	r2, _ := utf8.DecodeRuneInString(src[i+n:])
	return unicode.IsLower(r2)
}

func isCodeByte(c byte) bool { return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' }

func inSpans(spans []span, off int) bool {
	for _, s := range spans {
		if off >= s.start && off < s.end {
			return true
		}
	}
	return false
}
