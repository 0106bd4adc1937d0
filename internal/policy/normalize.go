package policy

import (
	"slices"
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

// kindMarks are what normalisation writes for text that is not the
// author's own: each field value or placeholder becomes one mark.
var kindMarks = [...]string{kindData: " \x01 ", kindReviewURL: " \x02 ", kindOrderID: " \x03 ", kindMasked: " \x01 "}

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
func normalize(text string, kind []uint8) normText { return normalizeInto(text, kind, nil) }

// normalizeInto is normalize with the buffers of sc (nil: allocate): the
// offsets of the result live in sc until its next use.
func normalizeInto(text string, kind []uint8, sc *scratch) normText {
	var buf []byte
	var off []int32
	if sc != nil {
		buf, off = grow(sc.buf, len(text)+8)[:0], grow(sc.off, len(text)+8)[:0]
		defer func() { sc.buf, sc.off = buf[:0], off[:0] }()
	} else {
		buf = make([]byte, 0, len(text)+8)
		off = make([]int32, 0, len(text)+8)
	}
	emit := func(s string, at int) {
		buf = append(buf, s...)
		for range len(s) {
			off = append(off, int32(at))
		}
	}
	plainLeet := false   // a plain run held a byte deleet may read as a letter
	textEnd := len(text) // the end of the author text from i on
	if kind != nil {
		textEnd = 0
	}
	for i := 0; i < len(text); {
		if kind != nil {
			if k := kind[i]; k != kindText {
				j := i
				for j < len(text) && kind[j] == k {
					j++
				}
				emit(kindMarks[k], i)
				i = j
				continue
			}
			if textEnd <= i {
				for textEnd = i; textEnd < len(text) && kind[textEnd] == kindText; {
					textEnd++
				}
			}
		}
		// Plain ASCII, the common case, is copied a run at a time: printable
		// characters and control characters other than white space, and
		// single spaces between words.
		j := i
		var seen uint8
		for j < textEnd {
			c := text[j]
			if cl := plainASCII[c]; cl != 0 || c == ' ' && (j+1 == len(text) || text[j+1] > ' ' && text[j+1] < utf8.RuneSelf) {
				seen |= cl
				j++
				continue
			}
			break
		}
		if j > i {
			plainLeet = plainLeet || seen&plainIsLeet != 0
			n := len(buf)
			buf = slices.Grow(buf, j-i)[:n+j-i]
			for k, c := range []byte(text[i:j]) {
				buf[n+k] = lowerASCII[c]
			}
			n = len(off)
			off = slices.Grow(off, j-i)[:n+j-i]
			for k := range off[n:] {
				off[n+k] = int32(i + k)
			}
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if !plainLeet && !unicode.IsSpace(r) {
			// Whatever is emitted for r may hold digits: deleet reads it all.
			plainLeet = true
		}
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
				emit(" star ", i)
			} else {
				emit(" "+strconv.Itoa(count)+" stars ", i)
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
			if nl >= 2 || nl == 1 && endsLine(buf) {
				emit("\n", i)
			} else {
				emit(" ", i)
			}
			i = j
			continue
		case r >= 0x3041 && r <= 0x30FF && r != 0x309B && r != 0x309C || r >= 0x4E00 && r <= 0x9FFF || r >= 0x3001 && r <= 0x301F:
			// Kana, ideographs and CJK punctuation are already in NFKC form
			// (except the spacing voicing marks ゛゜).
			emit(text[i:i+n], i)
		case isJapanese(r) || (r >= 0xFF01 && r <= 0xFF5E):
			// A half-width voicing mark belongs to the kana before it
			// (ｷﾞ is ギ).
			if r2, n2 := utf8.DecodeRuneInString(text[i+n:]); r2 == 0xFF9E || r2 == 0xFF9F {
				emit(norm.NFKC.String(text[i:i+n+n2]), i)
				i += n + n2
				continue
			}
			emit(strings.ToLower(norm.NFKC.String(string(r))), i)
		default:
			switch r {
			case '’', '‘', '`', '´', 'ʼ', '′':
				r = '\''
			case '“', '”', '„', '«', '»', '‹', '›', '″':
				r = '"'
			case '‐', '‑', '‒', '–', '—', '―', '−':
				r = '-'
			case 'ß', 'ẞ':
				emit("ss", i)
				i += n
				continue
			case 'œ', 'Œ':
				emit("oe", i)
				i += n
				continue
			case 'æ', 'Æ':
				emit("ae", i)
				i += n
				continue
			case '¿', '¡':
				r = ' '
			}
			if r < rune(len(latinFold)) {
				emit(latinFold[r], i)
				break
			}
			emit(foldRune(r), i)
		}
		i += n
	}
	if plainLeet {
		deleet(buf)
	}
	buf, off = joinSpaced(buf, off)
	return normText{s: string(buf), off: off, n: len(text)}
}

func isLatin(c byte) bool { return c >= 'a' && c <= 'z' }

// plainASCII marks the ASCII bytes normalisation copies as they are (up to
// case): all but white space; plainIsLeet marks those deleet may change.
var plainASCII = func() (t [256]uint8) {
	for c := 0; c < utf8.RuneSelf; c++ {
		switch c {
		case ' ', '\t', '\n', '\r', '\v', '\f':
		default:
			t[c] = plainCopy
			if leet(byte(c)) != 0 {
				t[c] |= plainIsLeet
			}
		}
	}
	return t
}()

const (
	plainCopy = 1 << iota
	plainIsLeet
)

// lowerASCII lowercases ASCII letters and leaves every other byte alone.
var lowerASCII = func() (t [256]byte) {
	for c := range t {
		t[c] = byte(c)
		if c >= 'A' && c <= 'Z' {
			t[c] += 'a' - 'A'
		}
	}
	return t
}()

// leetTab is leet as a table.
var leetTab = func() (t [256]byte) {
	for c := range t {
		t[c] = leet(byte(c))
	}
	return t
}()

// leet returns the letter a digit or symbol imitates, or 0.
func leet(c byte) byte {
	switch c {
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
// a letter and the next one is a letter or another imitation. It works on
// normalised bytes; only ASCII is involved.
func deleet(b []byte) {
	for i := 1; i < len(b); i++ {
		if leetTab[b[i]] == 0 || !isLatin(b[i-1]) {
			continue
		}
		// The run of imitations must be followed by a letter or end a word
		// that already has two letters before it ("fr33").
		j := i
		for j < len(b) && leet(b[j]) != 0 {
			j++
		}
		nextLetter := j < len(b) && isLatin(b[j])
		twoBefore := i >= 2 && isLatin(b[i-2])
		if (b[i] == '!' || b[i] == '$' || b[i] == '@') && !nextLetter {
			continue
		}
		if !nextLetter && !twoBefore {
			continue
		}
		if !nextLetter && j-i == 1 && (b[i] == '1' || b[i] == '0') {
			// "thanks10", "mp3", "covid19": a trailing number, not a letter.
			continue
		}
		for k := i; k < j; k++ {
			b[k] = leet(b[k])
		}
		i = j
	}
}

func isSpacer(c byte) bool { return c == ' ' || c == '.' || c == '-' || c == '*' || c == '_' }

// joinSpaced joins letters written one by one with separators between
// them, "f r e e" or "f.r.e.e" or "f-r-e-e", when there are at least three.
func joinSpaced(b []byte, off []int32) ([]byte, []int32) {
	w := 0        // write position; equals i until the first join
	var prev byte // the original byte before position i
	for i := 0; i < len(b); {
		// A single letter at a word start, followed by spacer+letter repeatedly.
		if isLatin(b[i]) && i+2 < len(b) && isSpacer(b[i+1]) && (i == 0 || !isLatin(prev) && !isDigit(rune(prev))) {
			if j, sep, count := spacedRun(b, i); count >= 3 {
				w = joinRun(b, off, w, i, j, sep, count)
				prev = b[j]
				i = j + 1
				if sep != ' ' && i < len(b) && b[i] == sep && (i+1 == len(b) || b[i+1] == ' ') {
					i++ // the separator after the last letter: "f.r.e.e. gift"
				}
				continue
			}
		}
		prev = b[i]
		if w != i {
			b[w], off[w] = b[i], off[i]
		}
		w++
		i++
	}
	return b[:w], off[:w]
}

// spacedRun measures the run of single letters joined by one separator
// that starts at b[i]: it returns the last letter's index, the separator
// and the number of letters.
func spacedRun(b []byte, i int) (j int, sep byte, count int) {
	j, count = i, 1
	for j+2 < len(b) && isSpacer(b[j+1]) && isLatin(b[j+2]) && (sep == 0 || b[j+1] == sep) &&
		(j+3 >= len(b) || !isLatin(b[j+3])) {
		sep = b[j+1]
		j += 2
		count++
	}
	return j, sep, count
}

// joinRun writes the letters of the run b[i..j] at w without their
// separators and returns the new write position. A leading "a", "y", "o",
// "e" is usually a word of its own ("a f r e e gift"), not the word's
// first letter.
func joinRun(b []byte, off []int32, w, i, j int, sep byte, count int) int {
	k := i
	if count >= 4 && sep == ' ' && strings.IndexByte("ayoe", b[i]) >= 0 {
		b[w], off[w] = b[i], off[i]
		b[w+1], off[w+1] = b[i+1], off[i+1]
		w += 2
		k = i + 2
	}
	for ; k <= j; k += 2 {
		b[w], off[w] = b[k], off[k]
		w++
	}
	return w
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

// endsLine reports whether a line ending after b ends a sentence too: it
// does unless the line stops in the middle of words (a letter, digit, comma
// or hyphen), as a wrapped sentence does.
func endsLine(b []byte) bool {
	i := len(b)
	for i > 0 && b[i-1] == ' ' {
		i--
	}
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRune(b[:i])
	return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == ',' || r == '-' || r == '、')
}

// foldRune lowercases r and strips its accents (NFKD without marks),
// folding full- and half-width forms.
func foldRune(r rune) string {
	if k := width.LookupRune(r).Kind(); k == width.EastAsianFullwidth || k == width.EastAsianHalfwidth {
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
	return b.String()
}

// latinFold is foldRune for Latin-1 and Latin Extended-A, the accented
// letters of the European languages, computed once.
var latinFold = func() (t [0x250]string) {
	for r := range t {
		t[r] = foldRune(rune(r))
	}
	return t
}()
