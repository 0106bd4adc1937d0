package policy

import (
	"slices"
	"strings"
)

// maxScope is how many words a negation reaches forward ("we do not
// offer any gift card or voucher for reviews").
const maxScope = 12

// occurrences turns the chosen matches of a sentence into concept
// occurrences: masks ("feel free") drop out, a concept used as a product
// name's modifier ("Five Star notebooks") drops out, and every occurrence
// inside a negation's scope is marked negated.
func (c *Checker) occurrences(lx *lexicon, st *sentenceTags, ms []match, sc *scratch) {
	covered := grow(sc.covered, len(st.toks))
	clear(covered)
	sc.covered = covered
	for _, m := range ms {
		for t := m.t0; t < m.t1; t++ {
			covered[t] = true
		}
	}
	sp := &c.special
	for _, m := range ms {
		e := &lx.entries[m.entry]
		if slices.Contains(e.concepts, sp.neutral) {
			continue
		}
		for _, cid := range e.concepts {
			if sp.modifier.has(cid) && lx.modifies(st, m, covered) {
				continue
			}
			st.occs = append(st.occs, occ{c: cid, t0: m.t0, t1: m.t1, b0: m.b0, b1: m.b1})
		}
	}
	for i, t := range st.toks {
		switch {
		case t.kind == tokReviewURL:
			st.occs = append(st.occs, occ{c: sp.reviewURL, t0: int32(i), t1: int32(i + 1), b0: t.start, b1: t.end})
		case t.code:
			st.occs = append(st.occs, occ{c: sp.codeToken, t0: int32(i), t1: int32(i + 1), b0: t.start, b1: t.end})
		}
	}
	c.clauses(st, sc)
	c.asked(st)
	c.negate(lx, st, sc)
	for _, o := range st.occs {
		if o.neg {
			st.no.add(o.c)
		} else {
			st.yes.add(o.c)
		}
	}
}

// maxAsked is how many tokens after a question word a concept is what
// the question asks about ("tell us how it has pleased you").
const maxAsked = 4

// asked rewrites the concepts that stand right after a question word in
// their clause: "tell others how you liked it" asks for an opinion and
// presumes no satisfaction.
func (c *Checker) asked(st *sentenceTags) {
	sp := &c.special
	for _, q := range st.occs {
		if q.c != sp.wh {
			continue
		}
		for i := range st.occs {
			o := &st.occs[i]
			if to, ok := sp.askedAs[o.c]; ok && o.t0 >= q.t1 && o.t0-q.t1 <= maxAsked && st.clause[o.t0] == st.clause[q.t0] {
				o.c = to
			}
		}
	}
}

// modifies reports whether match m stands as a modifier of a noun that is
// no concept of its own: before it in English and German ("Five Star
// notebooks", "Coupon Organizer"), after it in the Romance languages, where
// adjectives follow the noun ("lavagna promemoria", "organizador de
// cupones"), inside a longer word in Japanese ("5つ星ホテル").
func (lx *lexicon) modifies(st *sentenceTags, m match, covered []bool) bool {
	toks, s := st.toks, st.text
	if !lx.nounsCapitalized && isProperName(toks, m) || isQuoted(s, toks, m) {
		return true // "Cinq Étoiles" towels, a "Five Star" brand, the bowl „Fünf Sterne“
	}
	content := func(j int) bool { return lx.isNoun(st, covered, j) }
	if lx.stem == nil {
		if last := toks[m.t1-1]; m.b1 < last.end {
			// The match ends inside a run of one script: a longer word
			// when that run is katakana or kanji ("クーポンホルダー").
			return last.script == scriptKata || last.script == scriptHan
		}
		return content(int(m.t1))
	}
	if !lx.modPrev {
		return content(int(m.t1)) // "Five Star notebooks", "Coupon-Organizer"
	}
	p := int(m.t0) - 1
	if m.t1-m.t0 > 1 {
		// A phrase of several words modifies a noun before it only when
		// that word is surely a noun: a name ("« Hôtel 5 étoiles »") or
		// after a linker ("toallas de hotel cinco estrellas").
		for p >= 0 && toks[p].kind == tokPunct {
			p--
		}
		return content(p) && (toks[p].title || p > 0 && isLinker(s, toks[p-1]) && !isInfinitive(lx.lang, s[toks[p].start:toks[p].end]))
	}
	if p >= 0 && isLinker(s, toks[p]) {
		p-- // "organizador de cupones"
	}
	return content(p)
}

// isNoun reports whether token j can be a noun that no concept covers: a
// word that is no function word (capitalised in German), or a run of
// katakana or kanji in Japanese.
func (lx *lexicon) isNoun(st *sentenceTags, covered []bool, j int) bool {
	toks := st.toks
	if j < 0 || j >= len(toks) || covered[j] || toks[j].kind != tokWord || toks[j].code {
		return false
	}
	if lx.stem == nil {
		return toks[j].script == scriptKata || toks[j].script == scriptHan
	}
	if lx.nounsCapitalized && !toks[j].title {
		return false // German nouns are capitalised: "fünf Sterne wären", not "Fünf Sterne Hotel"
	}
	return !lx.function[st.text[toks[j].start:toks[j].end]]
}

func isLinker(s string, t token) bool { return t.kind == tokWord && linkers[s[t.start:t.end]] }

// infinitiveEndings are the endings of the Romance infinitives: after "a"
// or "de" such a word is a verb whose object follows ("puntiamo a
// mantenere il punteggio pieno"), not a noun a rating describes.
var infinitiveEndings = map[string][]string{"fr": {"er", "ir"}, "es": {"ar", "er", "ir"}, "it": {"are", "ere", "ire"}}

func isInfinitive(lang, w string) bool {
	for _, e := range infinitiveEndings[lang] {
		if strings.HasSuffix(w, e) {
			return true
		}
	}
	return false
}

// isProperName reports whether every word of match m is capitalised and it
// does not start the sentence: a name, such as a brand or product line.
func isProperName(toks []token, m match) bool {
	words := 0
	for t := m.t0; t < m.t1; t++ {
		if toks[t].kind == tokWord {
			if !toks[t].title {
				return false
			}
			words++
		}
	}
	first := int32(0)
	for first < m.t0 && toks[first].kind != tokWord && toks[first].kind != tokNumber {
		first++
	}
	return words > 0 && m.t0 > first
}

// isQuoted reports whether match m is all a quotation holds: a name
// ("den Napf „Fünf Sterne“").
func isQuoted(s string, toks []token, m match) bool {
	if m.t0 == 0 || int(m.t1) >= len(toks) {
		return false
	}
	a, b := toks[m.t0-1], toks[m.t1]
	return a.kind == tokPunct && b.kind == tokPunct && isQuote(s[a.start:a.end]) && isQuote(s[b.start:b.end])
}

func isQuote(p string) bool {
	return p == "\"" || p == "'" || p == "「" || p == "」" || p == "『" || p == "』"
}

// linkers join a noun to the noun that modifies it in the Romance
// languages.
var linkers = map[string]bool{"de": true, "di": true, "da": true, "per": true, "a": true, "pour": true, "para": true, "d'": true}

// clauses numbers the clauses of a sentence: a clause ends at a comma,
// colon, bracket or dash, and before a word such as "but".
func (c *Checker) clauses(st *sentenceTags, sc *scratch) {
	cl := grow(sc.clause, len(st.toks))
	sc.clause = cl
	stops := stopStarts(st, c.special.negStop, sc)
	st.stops = stops
	n := int32(0)
	for i, t := range st.toks {
		if stops[i] {
			n++
		}
		cl[i] = n
		if isClauseBreak(st.text, t) {
			n++
		}
	}
	st.clause = cl
}

// stopStarts marks the tokens where a clause-breaking word starts.
func stopStarts(st *sentenceTags, stop conceptID, sc *scratch) []bool {
	marks := grow(sc.stops, len(st.toks))
	clear(marks)
	sc.stops = marks
	for _, o := range st.occs {
		if o.c != stop {
			continue
		}
		if t := o.t0; o.b0 > st.toks[t].start && t+1 < int32(len(marks)) {
			marks[t+1] = true // "ませんが、" starts inside a word: the clause breaks after it
		} else {
			marks[t] = true
		}
	}
	return marks
}

// negate marks the occurrences that stand in the scope of a negation. A
// negation reaches forward to the end of its clause (across a comma when a
// list goes on: "no gifts, discounts or samples"), backward to the start
// of its clause (Japanese "ません", German "nicht"), or both. A condition
// later in the sentence ("unless", "except") voids it: a conditional
// disclaimer is an offer.
func (c *Checker) negate(lx *lexicon, st *sentenceTags, sc *scratch) {
	sp := &c.special
	in := grow(sc.negTok, len(st.toks))
	clear(in)
	sc.negTok = in
	lastVoid := int32(-1) // where the sentence's last condition starts
	for _, o := range st.occs {
		if o.c == sp.negVoid {
			lastVoid = max(lastVoid, o.t0)
		}
	}
	for _, n := range st.occs {
		fwd := n.c == sp.neg || n.c == sp.negBoth || n.c == sp.negCont
		back := n.c == sp.negBack || n.c == sp.negBoth
		if !fwd && !back || lastVoid >= n.t1 {
			continue // a condition after the negation voids it
		}
		if fwd {
			c.scopeForward(lx, st, n, in)
		}
		if back {
			for t := int(n.t0) - 1; t >= 0 && (st.clause[t] == st.clause[n.t0] || lx.negAcross && !st.stops[t+1]); t-- {
				in[t] = true
			}
		}
	}
	for i := range st.occs {
		o := &st.occs[i]
		if !in[o.t0] || isNegator(sp, o.c) {
			continue
		}
		if to, ok := sp.negatedAs[o.c]; ok {
			o.c = to // "not satisfied" is a problem
			continue
		}
		o.neg = true
	}
}

func isNegator(sp *specials, c conceptID) bool {
	return c == sp.neg || c == sp.negBack || c == sp.negBoth || c == sp.negCont || c == sp.negStop || c == sp.negVoid || c == sp.neutral || c == sp.wh
}

// scopeForward marks the words after negation n up to the end of its
// clause, at most maxScope words. The scope starts after the negation's
// first word: a negation in two parts holds the verb it negates ("nous ne
// vous relancerons pas").
func (c *Checker) scopeForward(lx *lexicon, st *sentenceTags, n occ, in []bool) {
	words, cur := 0, st.clause[n.t0]
	for t := int(n.t0) + 1; t < len(st.toks) && words < maxScope; t++ {
		if st.clause[t] != cur {
			if !c.listGoesOn(lx, st, t) {
				return
			}
			cur = st.clause[t]
		}
		in[t] = true
		if st.toks[t].kind == tokWord {
			words++
		}
	}
}

// listGoesOn reports whether the clause starting at token t continues a
// negated list: it starts (after function words) with a concept that
// names a thing, or with "nor", "ni", "né", "noch".
func (c *Checker) listGoesOn(lx *lexicon, st *sentenceTags, t int) bool {
	if t > 0 && !isClauseBreak(st.text, st.toks[t-1]) {
		return false // a clause-breaking word such as "but"
	}
	if t > 0 && st.text[st.toks[t-1].start] != ',' || st.stops[t] {
		return false
	}
	j := t
	for j < len(st.toks) && j < t+3 && st.toks[j].kind == tokWord && lx.function[st.text[st.toks[j].start:st.toks[j].end]] {
		j++
	}
	for _, o := range st.occs {
		if int(o.t0) == j && (c.special.nominal.has(o.c) || o.c == c.special.negCont) {
			return true
		}
	}
	return false
}
