package policy

import (
	"fmt"
	"math/bits"
	"strings"
)

// comboDoc is a combination rule as written in common.toml.
type comboDoc struct {
	Rule         string   // rule id it reports, or "request"
	Name         string   // short name, unique
	All          []string // concepts that must all occur: "a|b" either, "!a" negated, "~a" either way
	None         []string // concepts that cancel the rule when they occur (not negated)
	Prev         []string // concepts the previous sentence must hold
	PrevQuestion bool     `toml:"prev_question"` // and it must be a question
	Within       int      // at most this many words between the first concept's end and the last one's start; 0: the sentence
	Ordered      bool     // the concepts occur in the order of All
	Clause       bool     // all in one clause
	Statement    bool     // not in a question ("Would you recommend it to a friend?" asks whether)
	Near         int      // the first concept governs the second: at most this many words before it, in one clause
	Across       bool     // request rules only: the concepts may be in different sentences of the part
	Where        string   // "subject", "body" or "" (both)
	Data         bool     // read text that came from order data (only)
	Over         []string // rules this one replaces when both fire in a sentence
	Languages    []string // only these languages (all when empty)
	Example      string   // a sentence it catches (checked by the tests)
}

// Item modes.
const (
	modeYes = iota // an occurrence outside any negation
	modeNeg        // a negated occurrence
	modeAny        // either
)

type comboItem struct {
	alts conceptSet
	mode uint8
}

func (it comboItem) accepts(o occ) bool {
	return it.alts.has(o.c) && (it.mode == modeAny || (it.mode == modeNeg) == o.neg)
}

func (it comboItem) present(st *sentenceTags) bool {
	switch it.mode {
	case modeYes:
		return st.yes.meets(it.alts)
	case modeNeg:
		return st.no.meets(it.alts)
	}
	return st.yes.meets(it.alts) || st.no.meets(it.alts)
}

// combo is a compiled combination rule.
type combo struct {
	comboDoc
	all, prev []comboItem
	none      conceptSet
	trigger   conceptSet // the alternatives of its rarest item: the rule can fire only where one occurs
	subject   bool       // applies to the subject
	body      bool       // applies to the body
	langs     map[string]bool
}

func (c *Checker) compileCombo(d comboDoc) (*combo, error) {
	if err := c.checkComboDoc(d); err != nil {
		return nil, fmt.Errorf("combine %q: %w", d.Name, err)
	}
	cb := &combo{comboDoc: d, subject: d.Where != "body", body: d.Where != "subject"}
	var err error
	if cb.all, err = c.items(d.All); err != nil {
		return nil, fmt.Errorf("combine %q: %w", d.Name, err)
	}
	if cb.prev, err = c.items(d.Prev); err != nil {
		return nil, fmt.Errorf("combine %q: %w", d.Name, err)
	}
	none, err := c.items(d.None)
	if err != nil {
		return nil, fmt.Errorf("combine %q: %w", d.Name, err)
	}
	for _, it := range none {
		cb.none = cb.none.union(it.alts)
	}
	cb.trigger = cb.all[0].alts
	for _, it := range cb.all[1:] {
		if bitCount(it.alts) < bitCount(cb.trigger) {
			cb.trigger = it.alts
		}
	}
	if len(d.Languages) > 0 {
		cb.langs = map[string]bool{}
		for _, l := range d.Languages {
			cb.langs[l] = true
		}
	}
	return cb, nil
}

// checkComboDoc checks the fields of a combination rule that name rules
// and places.
func (c *Checker) checkComboDoc(d comboDoc) error {
	if d.Where != "" && d.Where != "body" && d.Where != "subject" {
		return fmt.Errorf("where = %q (want subject or body)", d.Where)
	}
	if _, ok := c.byID[d.Rule]; !ok && d.Rule != requestRule {
		return fmt.Errorf("unknown rule %q", d.Rule)
	}
	if len(d.All) == 0 {
		return fmt.Errorf("no concepts in all")
	}
	if d.Near > 0 && len(d.All) < 2 {
		return fmt.Errorf("near needs two concepts")
	}
	if d.Across && (d.Rule != requestRule || len(d.Prev) > 0 || d.Within > 0 || d.Ordered || d.Clause) {
		return fmt.Errorf("across is for request rules without prev, within, ordered or clause")
	}
	for _, r := range d.Over {
		if _, ok := c.byID[r]; !ok {
			return fmt.Errorf("over names unknown rule %q", r)
		}
	}
	return nil
}

// items parses concept lists such as ["reward", "review|opinion", "!satisfied"].
func (c *Checker) items(list []string) ([]comboItem, error) {
	var out []comboItem
	for _, s := range list {
		it := comboItem{}
		switch {
		case strings.HasPrefix(s, "!"):
			it.mode, s = modeNeg, s[1:]
		case strings.HasPrefix(s, "~"):
			it.mode, s = modeAny, s[1:]
		}
		for _, name := range strings.Split(s, "|") {
			if g, ok := c.groups[name]; ok {
				it.alts = it.alts.union(g)
				continue
			}
			id, ok := c.conceptID[name]
			if !ok {
				return nil, fmt.Errorf("unknown concept %q", name)
			}
			it.alts.add(id)
		}
		out = append(out, it)
	}
	return out, nil
}

func bitCount(s conceptSet) int { return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) }

// applies reports whether cb can fire in a sentence of st.
func (cb *combo) applies(st *sentenceTags, prev *sentenceTags, lang string, subject, data bool) bool {
	if !st.yes.meets(cb.trigger) && !st.no.meets(cb.trigger) {
		return false
	}
	if subject && !cb.subject || !subject && !cb.body || data != cb.Data || cb.langs != nil && !cb.langs[lang] || cb.Statement && st.quest {
		return false
	}
	for _, it := range cb.all {
		if !it.present(st) {
			return false
		}
	}
	if st.yes.meets(cb.none) {
		return false
	}
	if len(cb.prev) > 0 {
		if prev == nil || cb.PrevQuestion && !prev.quest {
			return false
		}
		for _, it := range cb.prev {
			if !it.present(prev) {
				return false
			}
		}
	}
	return true
}

// maxAnchors bounds the occurrences of a rule's first concept that span
// tries as a starting point, and maxCands those of each other concept: a
// sentence of thousands of concept words stays cheap.
const (
	maxAnchors = 64
	maxCands   = 256
)

// span finds occurrences, one per item, that meet the rule's order,
// distance and clause constraints, and returns the bytes of the sentence
// they cover. The distance is the number of words between the end of the
// earliest concept and the start of the latest one. From each occurrence
// of the first item it takes, item by item, the occurrence that keeps the
// distance smallest, and keeps the tightest result.
func (cb *combo) span(st *sentenceTags) (int32, int32, bool) {
	var cands [][]occ
	for _, it := range cb.all {
		var list []occ
		for _, o := range st.occs {
			if it.accepts(o) && len(list) < maxCands {
				list = append(list, o)
			}
		}
		if len(list) == 0 {
			return 0, 0, false
		}
		cands = append(cands, list)
	}
	var best [2]int32
	found := false
	for i, a := range cands[0] {
		if i == maxAnchors {
			break
		}
		b, ok := cb.extend(st, cands, a)
		if ok && (!found || b[1]-b[0] < best[1]-best[0]) {
			best, found = b, true
		}
	}
	return best[0], best[1], found
}

// governs reports whether occurrence b follows occurrence a in its clause
// at most near tokens after it.
func governs(st *sentenceTags, a, b occ, near int) bool {
	return b.b0 >= a.b1 && int(b.t0)-int(a.t1) <= near && st.clause[a.t0] == st.clause[b.t0]
}

// extend completes a choice that starts with occurrence a of the first
// item, greedily, and returns the bytes it covers.
func (cb *combo) extend(st *sentenceTags, cands [][]occ, a occ) ([2]int32, bool) {
	lastT0, firstT1, prevT0 := a.t0, a.t1, a.t0
	bytes := [2]int32{a.b0, a.b1}
	for i, list := range cands[1:] {
		var pick occ
		bestGap := int32(1 << 30)
		for _, o := range list {
			if cb.Ordered && o.t0 < prevT0 || cb.Clause && st.clause[o.t0] != st.clause[a.t0] {
				continue
			}
			if i == 0 && cb.Near > 0 && !governs(st, a, o, cb.Near) {
				continue
			}
			if gap := max(lastT0, o.t0) - min(firstT1, o.t1); gap < bestGap {
				pick, bestGap = o, gap
			}
		}
		if bestGap == 1<<30 || cb.Within > 0 && int(bestGap) > cb.Within {
			return bytes, false
		}
		lastT0, firstT1, prevT0 = max(lastT0, pick.t0), min(firstT1, pick.t1), pick.t0
		bytes = [2]int32{min(bytes[0], pick.b0), max(bytes[1], pick.b1)}
	}
	return bytes, true
}
