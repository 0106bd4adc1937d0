package policy

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// normText is text prepared for phrase matching, with the byte offset of
// the source character every byte came from.
type normText struct {
	s   string
	off []int32 // len(s): source byte offset of each byte of s
	n   int     // length of the source text
}

// endOf returns the source offset just after the source character byte i
// of the normalised text came from.
func (t normText) endOf(i int) int {
	for j := i + 1; j < len(t.off); j++ {
		if t.off[j] != t.off[i] {
			return int(t.off[j])
		}
	}
	return t.n
}

type nrune struct {
	r        rune
	off, end int32
}

// dataMark stands for text that came from data; no pattern contains it.
const dataMark = '\x01'

// paraMark ends a sentence at a blank line.
const paraMark = '\n'

func isStar(r rune) bool {
	switch r {
	case '★', '☆', '⭐', '✩', '✪', '✫', '✬', '✭', '✮', '✯', '✰', '🌟', '⋆', '✶', '✷', '✸', '✹':
		return true
	}
	return false
}

// isJapanese reports whether r belongs to a Japanese/CJK script or the
// CJK symbol blocks.
func isJapanese(r rune) bool {
	return (r >= 0x3000 && r <= 0x30FF) || (r >= 0x3400 && r <= 0x9FFF) || (r >= 0xF900 && r <= 0xFAFF) || (r >= 0xFF61 && r <= 0xFF9F) || (r >= 0x31F0 && r <= 0x31FF)
}

// normalize prepares text for phrase matching. kind (nil: all author text)
// tells which bytes came from data; each data range becomes one dataMark.
func normalize(text string, kind []uint8) normText {
	rs := make([]nrune, 0, len(text)+8)
	emit := func(s string, off, end int) {
		for _, r := range s {
			rs = append(rs, nrune{r, int32(off), int32(end)})
		}
	}
	for i := 0; i < len(text); {
		if kind != nil && kind[i] != kindText {
			j := i
			for j < len(text) && kind[j] != kindText {
				j++
			}
			emit(" \x01 ", i, j)
			i = j
			continue
		}
		if c := text[i]; c < utf8.RuneSelf && c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f' {
			// Plain ASCII: the common case.
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			rs = append(rs, nrune{rune(c), int32(i), int32(i + 1)})
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		switch {
		case isStar(r):
			// A run of stars, perhaps spaced or with variation selectors, is a count.
			j, count := i, 0
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if isStar(r2) {
					count++
				} else if r2 != ' ' && r2 != 0xFE0F && r2 != 0x200D {
					break
				}
				j += n2
			}
			for j > i && text[j-1] == ' ' {
				j--
			}
			if count == 1 {
				emit(" star ", i, j)
			} else {
				emit(" "+strconv.Itoa(count)+" stars ", i, j)
			}
			i = j
			continue
		case unicode.IsSpace(r):
			j, nl := i, 0
			for j < len(text) {
				r2, n2 := utf8.DecodeRuneInString(text[j:])
				if !unicode.IsSpace(r2) {
					break
				}
				if r2 == '\n' {
					nl++
				}
				j += n2
			}
			if nl >= 2 || nl == 1 && endsLine(rs) {
				emit("\n", i, j)
			} else {
				emit(" ", i, j)
			}
			i = j
			continue
		case isJapanese(r) || (r >= 0xFF01 && r <= 0xFF5E):
			emit(strings.ToLower(norm.NFKC.String(string(r))), i, i+n)
		case r < 0x80:
			if r >= 'A' && r <= 'Z' {
				r += 'a' - 'A'
			}
			rs = append(rs, nrune{r, int32(i), int32(i + n)})
		default:
			switch r {
			case '’', '‘', '`', '´', 'ʼ', '′':
				r = '\''
			case '“', '”', '„', '«', '»', '‹', '›', '″':
				r = '"'
			case '‐', '‑', '‒', '–', '—', '―', '−':
				r = '-'
			case 'ß', 'ẞ':
				emit("ss", i, i+n)
				i += n
				continue
			case 'œ', 'Œ':
				emit("oe", i, i+n)
				i += n
				continue
			case 'æ', 'Æ':
				emit("ae", i, i+n)
				i += n
				continue
			case '¿', '¡':
				r = ' '
			}
			if width.LookupRune(r).Kind() == width.EastAsianFullwidth || width.LookupRune(r).Kind() == width.EastAsianHalfwidth {
				if f := width.LookupRune(r).Folded(); f != 0 {
					r = f
				}
			}
			var b strings.Builder
			for _, d := range norm.NFKD.String(string(r)) {
				if unicode.Is(unicode.Mn, d) {
					continue
				}
				b.WriteRune(unicode.ToLower(d))
			}
			emit(b.String(), i, i+n)
		}
		i += n
	}
	rs = deleet(rs)
	rs = joinSpaced(rs)
	n := 0
	for _, x := range rs {
		if x.r < utf8.RuneSelf {
			n++
		} else {
			n += utf8.RuneLen(x.r)
		}
	}
	buf := make([]byte, 0, n)
	out := normText{off: make([]int32, n), n: len(text)}
	for _, x := range rs {
		before := len(buf)
		if x.r < utf8.RuneSelf {
			buf = append(buf, byte(x.r))
		} else {
			buf = utf8.AppendRune(buf, x.r)
		}
		for k := before; k < len(buf); k++ {
			out.off[k] = x.off
		}
	}
	out.s = string(buf)
	return out
}

func isLatin(r rune) bool { return r >= 'a' && r <= 'z' }

// leet returns the letter a digit or symbol imitates, or 0.
func leet(r rune) rune {
	switch r {
	case '0':
		return 'o'
	case '1', '!':
		return 'i'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '8':
		return 'b'
	case '|':
		return 'l'
	}
	return 0
}

// deleet reads digits and symbols inside a word as the letters they imitate
// ("fr33" is "free", "g1ft" is "gift"): only when the previous character is
// a letter and the next one is a letter or another imitation.
func deleet(rs []nrune) []nrune {
	for i := 1; i < len(rs); i++ {
		ok := leet(rs[i].r) != 0
		if !ok || !isLatin(rs[i-1].r) {
			continue
		}
		// The run of imitations must be followed by a letter or end a word
		// that already has two letters before it ("fr33").
		j := i
		for j < len(rs) {
			if leet(rs[j].r) == 0 {
				break
			}
			j++
		}
		nextLetter := j < len(rs) && isLatin(rs[j].r)
		twoBefore := i >= 2 && isLatin(rs[i-2].r)
		if rs[i].r == '!' || rs[i].r == '$' || rs[i].r == '@' {
			if !nextLetter {
				continue
			}
		}
		if !nextLetter && !twoBefore {
			continue
		}
		if !nextLetter && j-i == 1 && (rs[i].r == '1' || rs[i].r == '0') {
			// "thanks10", "mp3", "covid19": a trailing number, not a letter.
			continue
		}
		for k := i; k < j; k++ {
			rs[k].r = leet(rs[k].r)
		}
		i = j
	}
	return rs
}

func isSpacer(r rune) bool {
	return r == ' ' || r == '.' || r == '-' || r == '*' || r == '_' || r == '·'
}

// joinSpaced joins letters written one by one with separators between
// them, "f r e e" or "f.r.e.e" or "f-r-e-e", when there are at least three.
func joinSpaced(rs []nrune) []nrune {
	var out []nrune // allocated at the first join; nil means "same as rs so far"
	for i := 0; i < len(rs); {
		// A single letter at a word start, followed by spacer+letter repeatedly.
		if isLatin(rs[i].r) && (i == 0 || !isLatin(rs[i-1].r) && !isDigit(rs[i-1].r)) {
			j, count := i, 1
			var sep rune
			for j+2 < len(rs) && isSpacer(rs[j+1].r) && isLatin(rs[j+2].r) && (sep == 0 || rs[j+1].r == sep) &&
				(j+3 >= len(rs) || !isLatin(rs[j+3].r)) {
				sep = rs[j+1].r
				j += 2
				count++
			}
			if count >= 3 {
				if out == nil {
					out = make([]nrune, i, len(rs))
					copy(out, rs[:i])
				}
				k := i
				// A leading "a", "y", "o", "e" is usually a word of its own
				// ("a f r e e gift"), not the word's first letter.
				if count >= 4 && sep == ' ' && strings.ContainsRune("ayoe", rs[i].r) {
					out = append(out, rs[i], rs[i+1])
					k = i + 2
				}
				for ; k <= j; k += 2 {
					out = append(out, rs[k])
				}
				i = j + 1
				continue
			}
		}
		if out != nil {
			out = append(out, rs[i])
		}
		i++
	}
	if out == nil {
		return rs
	}
	return out
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// endsLine reports whether a line ending after rs ends a sentence too: it
// does unless the line stops in the middle of words (a letter, digit, comma
// or hyphen), as a wrapped sentence does.
func endsLine(rs []nrune) bool {
	for i := len(rs) - 1; i >= 0; i-- {
		r := rs[i].r
		if r == ' ' {
			continue
		}
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ',' || r == '-' || r == '、')
	}
	return true
}
