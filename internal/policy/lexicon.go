package policy

import (
	"fmt"
	"strings"
)

// conceptID numbers the concepts of common.toml; conceptSet is a set of
// them.
type conceptID uint8

const maxConcepts = 128

type conceptSet [2]uint64

func (s *conceptSet) add(c conceptID)              { s[c>>6] |= 1 << (c & 63) }
func (s conceptSet) has(c conceptID) bool          { return s[c>>6]&(1<<(c&63)) != 0 }
func (s conceptSet) meets(o conceptSet) bool       { return s[0]&o[0] != 0 || s[1]&o[1] != 0 }
func (s conceptSet) union(o conceptSet) conceptSet { return conceptSet{s[0] | o[0], s[1] | o[1]} }

// Element kinds of a lexicon entry.
const (
	elemStem   = iota // a word, compared by stem
	elemExact         // "=word": a word compared as written
	elemNumber        // "#": any number
	elemPunct         // a punctuation mark or symbol ("%", "€")
	elemGap           // "..": up to maxGap tokens of any kind but a clause break
)

// maxGap is how many tokens ".." in an entry may stand for.
const maxGap = 4

type lexElem struct {
	kind uint8
	text string
}

// Affix kinds: how a "*" entry matches inside a word.
const (
	affixNone   = iota
	affixPrefix // "gutschein*": the word starts with it
	affixSuffix // "*gutschein": the word ends with it
	affixInfix  // "*gutschein*": anywhere in the word
	affixText   // Japanese: anywhere in the text
)

// lexEntry is one phrase of a language's lexicon: the concepts it names
// and how it is matched.
type lexEntry struct {
	text     string // as written in the rule file
	elems    []lexElem
	affix    uint8
	concepts []conceptID
	keepTail bool // a ".." phrase whose last word stays free (transparent concepts)
}

// lexicon is the compiled lexicon of one language.
type lexicon struct {
	lang    string
	name    string
	stem    *stemmer // nil: Japanese, matched on the text
	elide   bool     // split elisions (French, Italian)
	modPrev bool     // a noun's modifiers may stand before it and after it (Romance)
	// negAcross: a backward negation reaches across commas to the start
	// of the sentence (Japanese lists: お礼やプレゼント、割引などはございません).
	negAcross bool
	// nounsCapitalized: every noun starts with a capital (German), so a
	// capital is no sign of a name.
	nounsCapitalized bool
	entries          []lexEntry
	byStem           map[string][]int32
	byExact          map[string][]int32
	byPunct          map[string][]int32
	byNum            []int32
	affix            *acMatcher
	affixOf          [][]int32 // affix keyword id -> entries
	// function words (articles, pronouns, prepositions, auxiliaries) are
	// not nouns: a concept marked "modifier" stays a concept next to them.
	function map[string]bool
}

// compileEntry parses one lexicon phrase. Words are normalised and stemmed
// as text is; see the README for the syntax.
func (lx *lexicon) compileEntry(src string) (lexEntry, error) {
	e := lexEntry{text: src}
	if lx.stem == nil {
		t := strings.TrimSpace(normalize(strings.TrimPrefix(src, "="), nil).s)
		if t == "" {
			return e, fmt.Errorf("empty phrase %q", src)
		}
		e.affix, e.elems = affixText, []lexElem{{kind: elemExact, text: t}}
		return e, nil
	}
	fields := strings.Fields(src)
	if len(fields) == 1 && strings.Contains(src, "*") {
		return lx.compileAffix(src)
	}
	for i, f := range fields {
		switch {
		case f == "..":
			if i == 0 || i == len(fields)-1 {
				return e, fmt.Errorf("%q: \"..\" must stand between words", src)
			}
			e.elems = append(e.elems, lexElem{kind: elemGap})
		case f == "#":
			e.elems = append(e.elems, lexElem{kind: elemNumber})
		default:
			els, err := lx.words(f)
			if err != nil {
				return e, fmt.Errorf("%q: %w", src, err)
			}
			e.elems = append(e.elems, els...)
		}
	}
	if len(e.elems) == 0 {
		return e, fmt.Errorf("empty phrase %q", src)
	}
	return e, nil
}

// words turns one space-free piece of a phrase into elements: "=" marks a
// word compared as written; a piece such as "5-star" or "l'avis" may hold
// several tokens.
func (lx *lexicon) words(f string) ([]lexElem, error) {
	exact := strings.HasPrefix(f, "=")
	f = strings.TrimPrefix(f, "=")
	s := f
	if !isPlainWord(f) {
		s = normalize(f, nil).s
	}
	var out []lexElem
	for _, t := range tokenize(nil, s, lx.elide) {
		w := s[t.start:t.end]
		switch t.kind {
		case tokWord:
			if exact {
				out = append(out, lexElem{kind: elemExact, text: w})
			} else {
				out = append(out, lexElem{kind: elemStem, text: lx.stem.of(w)})
			}
		case tokNumber:
			out = append(out, lexElem{kind: elemExact, text: w})
		case tokPunct:
			out = append(out, lexElem{kind: elemPunct, text: w})
		default:
			return nil, fmt.Errorf("unexpected %q", f)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no word in %q", f)
	}
	return out, nil
}

// isPlainWord reports whether s is lower-case ASCII letters only, which
// normalisation leaves as they are.
func isPlainWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLower(s[i]) {
			return false
		}
	}
	return s != ""
}

func (lx *lexicon) compileAffix(src string) (lexEntry, error) {
	e := lexEntry{text: src}
	core := strings.Trim(src, "*")
	switch {
	case strings.HasPrefix(src, "*") && strings.HasSuffix(src, "*"):
		e.affix = affixInfix
	case strings.HasSuffix(src, "*"):
		e.affix = affixPrefix
	default:
		e.affix = affixSuffix
	}
	s := normalize(core, nil).s
	if strings.Contains(core, "*") || s == "" || strings.ContainsAny(s, " '") {
		return e, fmt.Errorf("%q: \"*\" goes at the start or end of one word", src)
	}
	e.elems = []lexElem{{kind: elemExact, text: s}}
	return e, nil
}

// index builds the lookup tables once every entry is known.
func (lx *lexicon) index() error {
	lx.byStem, lx.byExact, lx.byPunct = map[string][]int32{}, map[string][]int32{}, map[string][]int32{}
	var keys []string
	keyID := map[string]int{}
	for i, e := range lx.entries {
		if e.affix != affixNone {
			k := e.elems[0].text
			id, ok := keyID[k]
			if !ok {
				id = len(keys)
				keyID[k] = id
				keys = append(keys, k)
				lx.affixOf = append(lx.affixOf, nil)
			}
			lx.affixOf[id] = append(lx.affixOf[id], int32(i))
			continue
		}
		switch first := e.elems[0]; first.kind {
		case elemStem:
			lx.byStem[first.text] = append(lx.byStem[first.text], int32(i))
		case elemExact:
			lx.byExact[first.text] = append(lx.byExact[first.text], int32(i))
		case elemPunct:
			lx.byPunct[first.text] = append(lx.byPunct[first.text], int32(i))
		case elemNumber:
			lx.byNum = append(lx.byNum, int32(i))
		}
	}
	if len(keys) == 0 {
		return nil
	}
	m, err := newACMatcher(keys)
	lx.affix = m
	return err
}

// add records src as a phrase of concept c, merging it with an identical
// phrase of another concept.
func (lx *lexicon) add(src string, c conceptID, seen map[string]int) error {
	e, err := lx.compileEntry(src)
	if err != nil {
		return err
	}
	key := entryKey(e)
	if i, ok := seen[key]; ok {
		for _, x := range lx.entries[i].concepts {
			if x == c {
				return nil
			}
		}
		lx.entries[i].concepts = append(lx.entries[i].concepts, c)
		return nil
	}
	e.concepts = []conceptID{c}
	seen[key] = len(lx.entries)
	lx.entries = append(lx.entries, e)
	return nil
}

func entryKey(e lexEntry) string {
	var b strings.Builder
	b.WriteByte('0' + e.affix)
	for _, el := range e.elems {
		b.WriteByte(' ')
		b.WriteByte('0' + el.kind)
		b.WriteString(el.text)
	}
	return b.String()
}
