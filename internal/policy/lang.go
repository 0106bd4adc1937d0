package policy

import (
	"strings"
	"unicode"
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
		case unicode.In(r, unicode.Hiragana, unicode.Katakana):
			kana++
		case unicode.Is(unicode.Han, r):
			han++
		case r >= 'a' && r <= 'z':
			latin++
		}
	}
	if kana >= 4 && kana+han >= (kana+han+latin)/4 {
		return "ja", true
	}
	score := map[string]int{}
	words := 0
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r == '\'') }) {
		words++
		w = strings.Trim(w, "'")
		// Elisions: "l'avis", "dell'ordine", "c'est".
		if i := strings.IndexByte(w, '\''); i > 0 && i < len(w)-1 {
			if langs, ok := c.stopwords[w[:i+1]]; ok {
				for l := range langs {
					score[l]++
				}
			}
			w = w[i+1:]
		}
		for l := range c.stopwords[w] {
			score[l]++
		}
	}
	best, second, bestLang := 0, 0, ""
	for _, l := range supported {
		switch n := score[l]; {
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
