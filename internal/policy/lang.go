package policy

import (
	"strings"
)

// DetectLanguage guesses the language (en de fr es it ja) of text; ok is
// false when it cannot tell: too few words, or no clear winner.
//
// Japanese is recognised by script (hiragana and katakana); the Latin
// languages by counting their common function words.
func (c *Checker) DetectLanguage(text string) (lang string, ok bool) {
	return c.detectNormalized(normalize(text, nil).s)
}

func (c *Checker) detectNormalized(s string) (string, bool) {
	kana, han, latin := 0, 0, 0
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			latin++
		case r < 0x3040:
		case r <= 0x30FF || r >= 0x31F0 && r <= 0x31FF || r >= 0xFF66 && r <= 0xFF9F:
			kana++
		case r >= 0x3400 && r <= 0x4DBF || r >= 0x4E00 && r <= 0x9FFF || r >= 0xF900 && r <= 0xFAFF:
			han++
		}
	}
	if kana >= 4 && kana+han >= (kana+han+latin)/4 {
		return "ja", true
	}
	// A sample is enough to tell the language, and keeps long messages cheap.
	if len(s) > maxDetect {
		cut := maxDetect
		for cut > 0 && s[cut] != ' ' {
			cut--
		}
		s = s[:cut]
	}
	var score [8]int
	words := 0
	count := func(w string) {
		for bits, i := c.stopwords[w], 0; bits != 0; bits, i = bits>>1, i+1 {
			score[i] += int(bits & 1)
		}
	}
	for i := 0; i < len(s); {
		for i < len(s) && !isWordRune(s[i]) {
			i++
		}
		j := i
		for j < len(s) && isWordRune(s[j]) {
			j++
		}
		if j == i {
			break
		}
		w := strings.Trim(s[i:j], "'")
		i = j
		if w == "" {
			continue
		}
		words++
		// Elisions: "l'avis", "dell'ordine", "c'est".
		if k := strings.IndexByte(w, '\''); k > 0 && k < len(w)-1 {
			count(w[:k+1])
			w = w[k+1:]
		}
		count(w)
	}
	best, second, bestLang := 0, 0, ""
	for i, l := range supported {
		switch n := score[i]; {
		case n > best:
			best, second, bestLang = n, best, l
		case n > second:
			second = n
		}
	}
	if words < 4 || best < 3 || best*2 < second*3 {
		return "", false
	}
	return bestLang, true
}

// DetectLanguage guesses the language (en de fr es it ja) of text with the
// default checker; ok is false when it cannot tell (too short or mixed).
func DetectLanguage(text string) (lang string, ok bool) {
	return Default().DetectLanguage(text)
}

// maxDetect is how many bytes of text language detection reads.
const maxDetect = 3000

func isWordRune(c byte) bool { return c >= 'a' && c <= 'z' || c == '\'' }
