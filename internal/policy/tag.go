package policy

import (
	"slices"
	"sort"
	"unicode/utf8"
)

// match is a lexicon entry found in a sentence.
type match struct {
	t0, t1   int32 // token range
	b0, b1   int32 // byte range
	g0, g1   int32 // bytes a ".." gap skipped: free for other matches
	entry    int32
	keepTail bool // the words after the gap stay free too
}

// occ is one occurrence of a concept in a sentence.
type occ struct {
	c      conceptID
	t0, t1 int32 // token range
	b0, b1 int32 // byte range in the sentence
	neg    bool  // inside the scope of a negation
}

// specials are the concepts the tagger itself acts on.
type specials struct {
	neutral, neg, negBack, negBoth, negCont, negStop, negVoid conceptID
	codeToken, reviewURL, wh                                  conceptID
	nominal, modifier, transparent                            conceptSet
	negatedAs, askedAs                                        map[conceptID]conceptID
}

// sentenceTags is what the tagger found in one sentence.
type sentenceTags struct {
	text   string
	toks   []token
	occs   []occ
	clause []int32    // per token: the clause it belongs to
	stops  []bool     // per token: a clause-breaking word ("but") starts here
	yes    conceptSet // concepts with an occurrence outside any negation
	no     conceptSet // concepts with a negated occurrence
	quest  bool       // the sentence is a question
}

// find returns every entry of lx found in the sentence, before overlaps are
// resolved.
func (lx *lexicon) find(out []match, s string, toks []token) []match {
	if lx.stem != nil {
		for i := range toks {
			out = lx.findAt(out, s, toks, i)
		}
	}
	if lx.affix != nil {
		out = lx.findAffixes(out, s, toks)
	}
	return out
}

// findAt appends the entries that start at token i.
func (lx *lexicon) findAt(out []match, s string, toks []token, i int) []match {
	t := toks[i]
	var lists [3][]int32
	switch t.kind {
	case tokWord:
		lists[0], lists[1] = lx.byStem[t.stem], lx.byExact[s[t.start:t.end]]
	case tokNumber:
		lists[0], lists[1] = lx.byNum, lx.byExact[s[t.start:t.end]]
	case tokPunct:
		lists[0] = lx.byPunct[s[t.start:t.end]]
	default:
		return out
	}
	for _, list := range lists {
		for _, ei := range list {
			gap := [2]int{-1, -1}
			if end := lx.matchFrom(&lx.entries[ei], 0, s, toks, i, &gap); end > i {
				m := match{t0: int32(i), t1: int32(end), b0: t.start, b1: toks[end-1].end, entry: ei, keepTail: lx.entries[ei].keepTail}
				if gap[0] >= 0 && gap[1] > gap[0] {
					m.g0, m.g1 = toks[gap[0]].start, toks[gap[1]-1].end
				}
				out = append(out, m)
			}
		}
	}
	return out
}

// matchFrom matches the elements of e from element k at token i and
// returns the token after the match, or -1. gap receives the tokens a ".."
// skipped.
func (lx *lexicon) matchFrom(e *lexEntry, k int, s string, toks []token, i int, gap *[2]int) int {
	for ; k < len(e.elems); k++ {
		el := e.elems[k]
		if el.kind == elemGap {
			for skip := 0; skip <= maxGap && i+skip < len(toks); skip++ {
				if skip > 0 && isClauseBreak(s, toks[i+skip-1]) {
					break
				}
				if end := lx.matchFrom(e, k+1, s, toks, i+skip, gap); end >= 0 {
					*gap = [2]int{i, i + skip}
					return end
				}
			}
			return -1
		}
		if i >= len(toks) || !elemMatches(el, s, toks[i]) {
			return -1
		}
		i++
	}
	return i
}

func elemMatches(el lexElem, s string, t token) bool {
	switch el.kind {
	case elemStem:
		return t.kind == tokWord && t.stem == el.text
	case elemExact:
		return (t.kind == tokWord || t.kind == tokNumber) && s[t.start:t.end] == el.text
	case elemNumber:
		return t.kind == tokNumber
	case elemPunct:
		return t.kind == tokPunct && s[t.start:t.end] == el.text
	}
	return false
}

// findAffixes finds the "*" entries (and every Japanese entry) with one
// scan of the automaton.
func (lx *lexicon) findAffixes(out []match, s string, toks []token) []match {
	var hits [32]acHit
	for _, h := range lx.affix.appendHits(hits[:0], s) {
		for _, ei := range lx.affixOf[h.id] {
			e := &lx.entries[ei]
			b0 := int32(h.end - len(e.elems[0].text))
			t0 := tokenAt(toks, b0)
			t1 := tokenAt(toks, int32(h.end)-1) + 1
			if t0 < 0 || !affixFits(e, s, toks[t0], b0, int32(h.end)) {
				continue
			}
			out = append(out, match{t0: int32(t0), t1: int32(t1), b0: b0, b1: int32(h.end), entry: ei})
		}
	}
	return out
}

// affixFits reports whether an affix hit [b0, b1) lies where its entry
// allows: at a word's start or end, inside a word, or (Japanese) anywhere
// but inside a Latin word.
func affixFits(e *lexEntry, s string, t token, b0, b1 int32) bool {
	if t.kind != tokWord && e.affix != affixText {
		return false
	}
	switch e.affix {
	case affixPrefix:
		return b0 == t.start
	case affixSuffix:
		return b1 == t.end
	case affixText:
		return (b0 == 0 || !isAlnum(s[b0-1]) || !isAlnum(s[b0])) && (int(b1) == len(s) || !isAlnum(s[b1]) || !isAlnum(s[b1-1]))
	}
	return true
}

// tokenAt returns the index of the token holding byte b, or -1.
func tokenAt(toks []token, b int32) int {
	i := sort.Search(len(toks), func(i int) bool { return toks[i].end > b })
	if i == len(toks) || toks[i].start > b {
		return -1
	}
	return i
}

// choose keeps, from left to right, the longest match at each place (of
// two as long, the one without a gap) and drops the matches it overlaps: "feel free" hides "free", "gift card"
// hides "gift". The words a ".." gap skipped stay free: in "give it five
// stars", "give .. stars" does not hide "five".
func choose(ms []match, taken [][2]int32) ([]match, [][2]int32) {
	slices.SortFunc(ms, func(a, b match) int {
		if a.b0 != b.b0 {
			return int(a.b0 - b.b0)
		}
		if n := (b.b1 - b.b0) - (a.b1 - a.b0); n != 0 {
			return int(n)
		}
		return int((a.g1 - a.g0) - (b.g1 - b.g0)) // a phrase written out beats one with a gap
	})
	out := ms[:0]
	taken = taken[:0]
	for i, m := range ms {
		if len(out) > 0 && i > 0 && sameSpan(m, out[len(out)-1]) {
			out = append(out, m) // the same words read two ways: "reviewers" is review and anyone
			continue
		}
		pieces := [2][2]int32{{m.b0, m.b1}, {0, 0}}
		if m.g1 > m.g0 {
			pieces = [2][2]int32{{m.b0, m.g0}, {m.g1, m.b1}}
			if m.keepTail {
				pieces[1] = [2]int32{}
			}
		}
		if overlaps(taken, pieces[0]) || overlaps(taken, pieces[1]) {
			continue
		}
		out = append(out, m)
		for _, p := range pieces {
			if p[1] > p[0] {
				taken = append(taken, p)
			}
		}
	}
	return out, taken
}

func sameSpan(a, b match) bool { return a.b0 == b.b0 && a.b1 == b.b1 && a.g0 == b.g0 && a.g1 == b.g1 }

func overlaps(taken [][2]int32, p [2]int32) bool {
	if p[1] <= p[0] {
		return false
	}
	for _, t := range taken {
		if p[0] < t[1] && t[0] < p[1] {
			return true
		}
	}
	return false
}

// isQuestion reports whether the sentence ends with a question mark.
func isQuestion(s string) bool {
	for i := len(s); i > 0; {
		r, n := utf8.DecodeLastRuneInString(s[:i])
		switch r {
		case '?', '？':
			return true
		case '。':
			r2, _ := utf8.DecodeLastRuneInString(s[:i-n])
			return r2 == 'か' // Japanese: 〜でしょうか。
		case ' ', '\n', '"', ')', '」':
			i -= n
			continue
		}
		return false
	}
	return false
}
