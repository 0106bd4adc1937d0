package policy

import (
	"unicode"
	"unicode/utf8"
)

// Token kinds.
const (
	tokWord      = iota // letters (a Latin word, or a run of one Japanese script)
	tokNumber           // digits
	tokPunct            // one punctuation or symbol character
	tokData             // text from order data, or a field placeholder
	tokReviewURL        // the review link
	tokOrderID          // the order id
)

// Marks normalisation puts in place of text that is not the author's own.
const (
	dataMark      = '\x01'
	reviewURLMark = '\x02'
	orderIDMark   = '\x03'
)

// token is a word, number or punctuation mark of normalised text.
type token struct {
	start, end int32 // byte range in the sentence's text
	kind       uint8
	script     uint8  // Japanese tokens: scriptHira, scriptKata or scriptHan
	code       bool   // part of a code such as THANKS15 in the source text
	title      bool   // written with a capital and then small letters ("Star")
	stem       string // words: the stem (the word itself when the language has no stemmer)
}

const (
	scriptLatin = iota
	scriptHira
	scriptKata
	scriptHan
	scriptOther
)

// clausePunct marks the punctuation that ends a clause.
var clausePunct = func() (t [128]bool) {
	for _, c := range ",;:()[]{}\"" {
		t[c] = true
	}
	return t
}()

// isClauseBreak reports whether tok (in text s) ends a clause: a comma,
// colon, bracket, quote or a dash between spaces, or the Japanese comma.
func isClauseBreak(s string, tok token) bool {
	if tok.kind != tokPunct {
		return false
	}
	c := s[tok.start]
	if c < utf8.RuneSelf {
		return clausePunct[c] || c == '-'
	}
	r, _ := utf8.DecodeRuneInString(s[tok.start:])
	return r == '、' || r == '，' || r == '「' || r == '」' || r == '（' || r == '）' || r == '：'
}

// tokenize appends the tokens of s to out. elide splits French and Italian
// elisions ("l'avis" is "l'" and "avis"); otherwise an apostrophe inside a
// word belongs to it ("don't").
func tokenize(out []token, s string, elide bool) []token {
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\n' || c == '\t' || c == '\r':
			i++
		case c >= 'a' && c <= 'z':
			j := wordEnd(s, i, elide)
			out = append(out, token{start: int32(i), end: int32(j), kind: tokWord})
			i = j
		case c >= '0' && c <= '9':
			j := i + 1
			for j < len(s) && (isDigitByte(s[j]) || (s[j] == '.' || s[j] == ',') && j+1 < len(s) && isDigitByte(s[j+1])) {
				j++
			}
			out = append(out, token{start: int32(i), end: int32(j), kind: tokNumber})
			i = j
		case c == dataMark || c == reviewURLMark || c == orderIDMark:
			out = append(out, token{start: int32(i), end: int32(i + 1), kind: markKind[c]})
			i++
		case c < utf8.RuneSelf:
			// A hyphen inside a word ("5-star", "e-mail") only splits it.
			inWord := c == '-' && i > 0 && i+1 < len(s) && isAlnum(s[i-1]) && isAlnum(s[i+1])
			if !inWord && c != '\'' {
				out = append(out, token{start: int32(i), end: int32(i + 1), kind: tokPunct})
			}
			i++
		default:
			i = tokenizeRune(&out, s, i)
		}
	}
	return out
}

// wordEnd returns the end of the Latin word that starts at s[i]. With
// elide, an apostrophe ends the word and stays with it ("l'"); otherwise
// it joins two parts of one word ("don't").
func wordEnd(s string, i int, elide bool) int {
	j := i + 1
	for j < len(s) && (isLower(s[j]) || s[j] == '\'' && j+1 < len(s) && isLower(s[j+1]) && !elide) {
		j++
	}
	if elide && j < len(s) && s[j] == '\'' {
		j++
	}
	return j
}

var markKind = map[byte]uint8{dataMark: tokData, reviewURLMark: tokReviewURL, orderIDMark: tokOrderID}

func isLower(c byte) bool     { return c >= 'a' && c <= 'z' }
func isDigitByte(c byte) bool { return c >= '0' && c <= '9' }

// tokenizeRune adds the token that starts with the non-ASCII character at
// s[i]: a run of one Japanese script, or a punctuation mark, and returns
// where the next token starts.
func tokenizeRune(out *[]token, s string, i int) int {
	r, n := utf8.DecodeRuneInString(s[i:])
	sc := scriptOf(r)
	if sc == scriptLatin {
		if unicode.IsLetter(r) {
			sc = scriptOther // a letter of another script: Cyrillic, Hangul, ...
		} else {
			if r != utf8.RuneError && !unicode.IsSpace(r) && !isSpaceRune(r) {
				*out = append(*out, token{start: int32(i), end: int32(i + n), kind: tokPunct})
			}
			return i + n
		}
	}
	j := i + n
	for j < len(s) {
		r2, n2 := utf8.DecodeRuneInString(s[j:])
		sc2 := scriptOf(r2)
		if sc2 == scriptLatin && sc == scriptOther && unicode.IsLetter(r2) && r2 >= utf8.RuneSelf {
			sc2 = scriptOther
		}
		if sc2 != sc {
			break
		}
		j += n2
	}
	*out = append(*out, token{start: int32(i), end: int32(j), kind: tokWord, script: uint8(sc)})
	return j
}

func isSpaceRune(r rune) bool { return r == 0x3000 || r == 0xA0 }

// scriptOf returns the Japanese script of r, or scriptLatin for anything
// else (tokenize tells letters of other scripts apart).
func scriptOf(r rune) int {
	switch {
	case r >= 0x3041 && r <= 0x309F:
		return scriptHira
	case r >= 0x30A0 && r <= 0x30FF || r >= 0x31F0 && r <= 0x31FF:
		return scriptKata
	case r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r == '々' || r == '〆':
		return scriptHan
	}
	return scriptLatin
}
