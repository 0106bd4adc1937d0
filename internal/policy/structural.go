package policy

import (
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

// The structural detectors find what needs no reading of sentences:
// links, e-mail addresses, phone numbers and messenger accounts, spelled
// out or not; HTML, images and emoji; marks such as [Important] in the
// subject. They run on the whole of each part, data included: a product
// title can smuggle a link.

// folded is a part's text with full-width forms folded to ASCII, and the
// part offset of every byte.
type folded struct {
	s   string
	off []int32
}

// foldInto folds s, with the offsets in sc's buffer (nil: allocate),
// valid until its next use.
func foldInto(s string, sc *scratch) folded {
	plain := true
	for i := nextNonASCII(s, 0); i < len(s); i++ {
		if s[i] >= 0xE2 {
			// Full-width forms, CJK dashes and marks start with 0xE2..0xEF.
			plain = false
			break
		}
	}
	if plain {
		return folded{s: s}
	}
	var b strings.Builder
	b.Grow(len(s))
	f := folded{}
	if sc != nil {
		f.off = grow(sc.foldOff, len(s))[:0]
		defer func() { sc.foldOff = f.off[:0] }()
	} else {
		f.off = make([]int32, 0, len(s))
	}
	for i, r := range s {
		r = foldRuneWidth(r)
		n := utf8.RuneLen(r)
		if n < 0 {
			n = 3
		}
		b.WriteRune(r)
		for k := 0; k < n; k++ {
			f.off = append(f.off, int32(i))
		}
	}
	f.s = b.String()
	return f
}

// foldRuneWidth folds a full-width character to ASCII, the Japanese
// dashes and middle dot to '-' and the kanji digits to digits.
func foldRuneWidth(r rune) rune {
	if r >= 0xFF01 && r <= 0xFF5E || r == 0x3000 {
		if x := width.LookupRune(r).Folded(); x != 0 {
			r = x
		}
	}
	switch r {
	case '．':
		return '.'
	case 'ー', '－', '‐', '‑', '–', '—', '・':
		return '-'
	}
	if d := strings.IndexRune(kanjiDigits, r); d >= 0 {
		return rune('0' + utf8.RuneCountInString(kanjiDigits[:d])) // "〇九〇・一二三四" is a phone number
	}
	return r
}

// kanjiDigits are the Japanese digits, 〇 to 九.
const kanjiDigits = "〇一二三四五六七八九"

// scan is one part being read by the structural detectors.
type scan struct {
	k     *check
	p     *part
	f     folded
	lower string   // f.s with ASCII letters lowercased
	taken [][2]int // ranges of f.s already reported
	tags  int      // HTML tags reported
}

// at returns the part offset of byte i of the folded text.
func (s *scan) at(i int) int {
	if s.f.off == nil {
		return min(i, len(s.p.text))
	}
	if i >= len(s.f.off) {
		return len(s.p.text)
	}
	return int(s.f.off[i])
}

// kind returns the kind of text byte i of the folded text came from.
func (s *scan) kind(i int) uint8 { return s.p.kind[s.at(i)] }

// covered reports whether [a, b) overlaps a range already reported.
func (s *scan) covered(a, b int) bool {
	for _, t := range s.taken {
		if a < t[1] && t[0] < b {
			return true
		}
	}
	return false
}

// report adds a finding for folded bytes [a, b), naming messages[msgKey],
// and marks the range taken.
func (s *scan) report(rule string, a, b int, msgKey string, args ...any) {
	s.taken = append(s.taken, [2]int{a, b})
	from, to := s.p.src(s.at(a)), s.srcEnd(b)
	detail := s.k.c.messages[msgKey]
	if len(args) > 0 {
		detail = sprintf(detail, args...)
	}
	s.k.structHits = append(s.k.structHits, structHit{rule: rule, off: from})
	if s.p.subject {
		s.k.subjectSeen[rule] = true
	}
	s.k.add(rule, from, detail, s.k.excerpt(from, to))
	if rule == "P-LINK" && s.k.c.namesSocial(s.lower[a:b]) {
		// A link to a social network also promotes the account.
		s.k.structHits = append(s.k.structHits, structHit{rule: "P-MARKETING", off: from})
		s.k.add("P-MARKETING", from, s.k.c.messages["link_social"], s.k.excerpt(from, to))
	}
	switch msgKey {
	case "emoji", "emoticon", "entity", "subject_mark":
		// Words and stars: still read by the sentence rules ("rate us ⭐⭐⭐⭐⭐").
	default:
		s.mask(a, b, kindMasked)
	}
}

// namesSocial reports whether an address names a social network.
func (c *Checker) namesSocial(addr string) bool {
	for _, h := range c.socialHosts {
		if strings.Contains(addr, h) {
			return true
		}
	}
	return false
}

// mask marks the author text of folded bytes [a, b) as kind, so that the
// sentence rules do not read a link's or address's words.
func (s *scan) mask(a, b int, kind uint8) {
	for i := s.at(a); i < s.at(b) || i == s.at(a) && a < b; i++ {
		if i >= len(s.p.kind) {
			break
		}
		if s.p.kind[i] == kindText {
			s.p.kind[i] = kind
		}
	}
}

// srcEnd returns the source offset just after folded byte b-1.
func (s *scan) srcEnd(b int) int {
	if b <= 0 {
		return s.p.src(s.at(0))
	}
	to := s.p.src(s.at(b-1)) + 1
	for src := s.k.loc.src(); to < len(src) && !utf8.RuneStart(src[to]); {
		to++
	}
	return to
}

// structural applies the link, contact, media and subject-mark detectors
// to a part, data included.
func (k *check) structural(p *part) {
	if p.text == "" {
		return
	}
	s := &scan{k: k, p: p}
	s.emoji()
	s.f = foldInto(p.text, k.sc)
	s.lower = asciiLower(s.f.s)
	s.markup()
	s.tokens()
	s.spelled()
	s.phones()
	s.spelledPhones()
	s.messengerIDs()
	s.handles()
	if p.subject {
		s.subjectMarks()
	}
}

// subjectMarks reports [Important], a fake "Re:" and "!!" in a subject.
func (s *scan) subjectMarks() {
	if m := s.k.c.detect["subject_marks"].FindStringIndex(s.lower); m != nil {
		s.report("P-SUBJECT", m[0], m[1], "subject_mark")
	}
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// hasInnerDot reports whether s has a dot between two letters or digits,
// as every domain name does.
func hasInnerDot(s string) bool {
	for i := 1; i+1 < len(s); i++ {
		if s[i] == '.' && isAlnum(s[i-1]) && isAlnum(s[i+1]) {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z'
}

// asciiLower lowercases ASCII letters only, so that byte offsets stay put.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = lowerASCII[b[i]]
	}
	return string(b)
}

// nextNonASCII returns the index of the first byte at or after i that is
// not ASCII, or len(s).
func nextNonASCII(s string, i int) int {
	for ; i+8 <= len(s); i += 8 {
		if (uint64(s[i])|uint64(s[i+1])<<8|uint64(s[i+2])<<16|uint64(s[i+3])<<24|
			uint64(s[i+4])<<32|uint64(s[i+5])<<40|uint64(s[i+6])<<48|uint64(s[i+7])<<56)&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return i
		}
	}
	return i
}
