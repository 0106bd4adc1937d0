package policy

import (
	"math/bits"
	"strings"
	"unicode"
)

// Language detection. A text in a script of its own (Japanese kana,
// Chinese ideographs without kana, Korean, Cyrillic, Arabic, Greek,
// Hebrew, Thai, Devanagari) is told by its script; a text in Latin script
// by counting the common words (stop words) of each language campaignd
// knows: the six it has rules for and the others of common.toml
// (other_language), so that a Dutch or Portuguese text is named as such.

// scriptLangs are the languages told by their script alone.
var scriptLangs = []struct {
	code, name string
	in         func(rune) bool
}{
	{"ko", "Korean", func(r rune) bool { return unicode.Is(unicode.Hangul, r) }},
	{"ru", "Russian", func(r rune) bool { return unicode.Is(unicode.Cyrillic, r) }},
	{"ar", "Arabic", func(r rune) bool { return unicode.Is(unicode.Arabic, r) }},
	{"el", "Greek", func(r rune) bool { return unicode.Is(unicode.Greek, r) }},
	{"he", "Hebrew", func(r rune) bool { return unicode.Is(unicode.Hebrew, r) }},
	{"th", "Thai", func(r rune) bool { return unicode.Is(unicode.Thai, r) }},
	{"hi", "Hindi", func(r rune) bool { return unicode.Is(unicode.Devanagari, r) }},
}

// maxLangs bounds the languages stop words are counted for.
const maxLangs = 32

// addStopwords registers a language detection can name.
func (c *Checker) addStopwords(code, name string, words []string) {
	if len(c.langs) >= maxLangs {
		return
	}
	bit := uint32(1) << len(c.langs)
	c.langs = append(c.langs, langInfo{code: code, name: name})
	for _, w := range words {
		c.stopwords[normalize(w, nil).s] |= bit
	}
}

// langName returns the English name of a language code.
func (c *Checker) langName(code string) string {
	for _, l := range c.langs {
		if l.code == code {
			return l.name
		}
	}
	for _, l := range scriptLangs {
		if l.code == code {
			return l.name
		}
	}
	if code == "zh" {
		return "Chinese"
	}
	return code
}

// langCount is what language detection counts in a text.
type langCount struct {
	hits    [maxLangs]int // stop words of each language
	score   [maxLangs]int // the same, weighted: a word of k languages counts 12/k
	words   int
	kana    int
	han     int
	latin   int
	script  [8]int // letters of each of scriptLangs
	letters int
}

// count adds the words and letters of normalised text s (marks for data
// are skipped).
func (c *Checker) count(n *langCount, s string) {
	for _, r := range s {
		switch sc := scriptOf(r); {
		case r >= 'a' && r <= 'z':
			n.latin++
		case sc == scriptHira || sc == scriptKata:
			n.kana++
		case sc == scriptHan:
			n.han++
		case r < 0x80 || !unicode.IsLetter(r):
			continue
		default:
			for i, l := range scriptLangs {
				if l.in(r) {
					n.script[i]++
				}
			}
		}
		n.letters++
	}
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '\'') }) {
		w = strings.Trim(w, "'")
		if w == "" {
			continue
		}
		n.words++
		if k := strings.IndexByte(w, '\''); k > 0 && k < len(w)-1 {
			c.countWord(n, w[:k+1]) // elisions: "l'avis", "dell'ordine"
			w = w[k+1:]
		}
		c.countWord(n, w)
	}
}

func (c *Checker) countWord(n *langCount, w string) {
	b := c.stopwords[w]
	if b == 0 {
		return
	}
	weight := 12 / bits.OnesCount32(b)
	for i := 0; b != 0; b, i = b>>1, i+1 {
		if b&1 != 0 {
			n.hits[i]++
			n.score[i] += weight
		}
	}
}

// verdict names the language of the counted text, or returns ok false.
// minScore is the number of stop words a Latin-script language needs.
func (c *Checker) verdict(n *langCount, minScore int) (string, bool) {
	if n.kana >= 2 && (n.kana+n.han)*4 >= n.letters {
		return "ja", true
	}
	if n.han >= 4 && n.kana == 0 && n.han*2 >= n.letters {
		return "zh", true
	}
	for i, l := range scriptLangs {
		if n.script[i] >= 4 && n.script[i]*2 >= n.letters {
			return l.code, true
		}
	}
	if n.latin*2 < n.letters {
		return "", false
	}
	best, second, bi := 0, 0, -1
	for i := range c.langs {
		switch s := n.score[i]; {
		case s > best:
			best, second, bi = s, best, i
		case s > second:
			second = s
		}
	}
	if bi < 0 || n.words < 2 || n.hits[bi] < minScore || best*2 < second*3 {
		return "", false
	}
	return c.langs[bi].code, true
}

// scoreOf returns the stop-word count of language code.
func (c *Checker) scoreOf(n *langCount, code string) int {
	for i, l := range c.langs {
		if l.code == code {
			return n.score[i]
		}
	}
	return 0
}

// foreign reports the language of a sentence or subject when it is clearly
// not the declared one: named by its script, or with at least minScore
// stop words of its own and at most a third as many of the declared
// language's.
func (c *Checker) foreign(n *langCount, declared string, minScore int) (string, bool) {
	got, ok := c.verdict(n, minScore)
	if !ok || got == declared {
		return "", false
	}
	if n.latin*2 >= n.letters && c.scoreOf(n, declared)*3 > c.scoreOf(n, got) {
		return "", false
	}
	return got, true
}

// DetectLanguage guesses the language of text: one of the six campaignd
// has rules for, or another it can name (nl, pt, zh, ...); ok is false when
// it cannot tell (too few words, or no clear winner).
func (c *Checker) DetectLanguage(text string) (lang string, ok bool) {
	var n langCount
	s := normalize(text, nil).s
	if len(s) > maxDetect {
		s = s[:maxDetect]
	}
	c.count(&n, s)
	if n.words < 4 && n.kana+n.han < 4 {
		return "", false
	}
	return c.verdict(&n, 3)
}

// DetectLanguage guesses the language of text with the default checker;
// see Checker.DetectLanguage.
func DetectLanguage(text string) (lang string, ok bool) {
	return Default().DetectLanguage(text)
}

// maxDetect is how many bytes of text whole-text detection reads.
const maxDetect = 3000
