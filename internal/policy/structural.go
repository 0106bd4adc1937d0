package policy

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/width"
)

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
		if r >= 0xFF01 && r <= 0xFF5E || r == 0x3000 {
			if x := width.LookupRune(r).Folded(); x != 0 {
				r = x
			}
		}
		switch r {
		case '．', '。':
			if r == '．' {
				r = '.'
			}
		case 'ー', '－', '‐', '‑', '–', '—':
			r = '-'
		}
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

// isEmoji reports whether r is an emoji (pictographs, dingbats, flags,
// joiners). Text stars (★☆) and music notes are symbols, not emoji.
func isEmoji(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF:
		return true
	case r >= 0x2600 && r <= 0x27BF:
		switch r {
		case 0x2605, 0x2606, 0x266A, 0x266B, 0x2713, 0x2610, 0x2611, 0x2612:
			return false
		}
		return true
	case r == 0x2B50 || r == 0x2B55 || r == 0x2B1B || r == 0x2B1C || (r >= 0x2B05 && r <= 0x2B07):
		return true
	case r == 0x231A || r == 0x231B || (r >= 0x23E9 && r <= 0x23FA):
		return true
	case r == 0xFE0F || r == 0x20E3 || r == 0x3030 || r == 0x303D || r == 0x3297 || r == 0x3299:
		return true
	case r >= 0xE0020 && r <= 0xE007F:
		return true
	}
	return false
}

// structural applies the link, contact and media rules to a part: to all
// of it, data included.
func (k *check) structural(p *part) {
	if p.text == "" {
		return
	}
	at := p.src
	srcEnd := func(partEnd int) int {
		if partEnd <= 0 {
			return at(0)
		}
		to := p.src(partEnd-1) + 1
		for src := k.loc.src(); to < len(src) && !utf8.RuneStart(src[to]); {
			to++
		}
		return to
	}
	report := func(rule string, from, to int, msgKey string, args ...any) {
		detail := k.c.messages[msgKey]
		if len(args) > 0 {
			detail = fmt.Sprintf(detail, args...)
		}
		k.add(rule, at(from), detail, k.excerpt(at(from), srcEnd(to)))
	}

	// Emoji.
	for i := nextNonASCII(p.text, 0); i < len(p.text); {
		if p.text[i] < utf8.RuneSelf {
			i = nextNonASCII(p.text, i)
			continue
		}
		r, n := utf8.DecodeRuneInString(p.text[i:])
		if isEmoji(r) && r != 0xFE0F && r != 0x20E3 {
			j := i + n
			for j < len(p.text) {
				r2, n2 := utf8.DecodeRuneInString(p.text[j:])
				if !isEmoji(r2) && r2 != 0x200D {
					break
				}
				j += n2
			}
			report("P-MEDIA", i, j, "emoji")
			i = j
			continue
		}
		i += n
	}

	f := foldInto(p.text, k.sc)
	// Detectors run on lowercased text; only the few stretches they look
	// at are lowercased.
	fo := func(i int) int {
		if f.off == nil {
			return min(i, len(p.text))
		}
		if i >= len(f.off) {
			return len(p.text)
		}
		return int(f.off[i])
	}
	authored := func(i int) bool { return p.kind[fo(i)] == kindText }
	dataAt := func(i int) uint8 { return p.kind[fo(i)] }

	// HTML tags and comments, markdown links and images: at each '<', '['
	// and '!', found with one IndexByte per character and position.
	nextLt, nextBr, nextEx := -1, -1, -1
	next := func(c byte, at *int, i int) {
		if *at < i {
			if j := strings.IndexByte(f.s[i:], c); j < 0 {
				*at = len(f.s)
			} else {
				*at = i + j
			}
		}
	}
	for i := 0; i < len(f.s); i++ {
		next('<', &nextLt, i)
		next('[', &nextBr, i)
		next('!', &nextEx, i)
		if i = min(nextLt, nextBr, nextEx); i >= len(f.s) {
			break
		}
		win := asciiLower(f.s[i:min(len(f.s), i+600)])
		switch f.s[i] {
		case '<':
			if m := k.c.detect["html_comment"].FindStringIndex(win); m != nil && m[0] == 0 {
				report("P-MEDIA", fo(i), fo(i+m[1]), "html")
				continue
			}
			if m := k.c.detect["html_tag"].FindStringSubmatchIndex(win); m != nil && m[0] == 0 {
				tag := win[m[2]:m[3]]
				switch tag {
				case "a", "area", "link", "base", "form", "iframe":
					report("P-LINK", fo(i), fo(i+m[1]), "link_html")
					report("P-MEDIA", fo(i), fo(i+m[1]), "html")
				case "img", "picture", "source", "svg", "video", "object", "embed", "image":
					report("P-MEDIA", fo(i), fo(i+m[1]), "image")
				default:
					report("P-MEDIA", fo(i), fo(i+m[1]), "html")
				}
			}
		case '!':
			if m := k.c.detect["markdown_image"].FindStringIndex(win); m != nil && m[0] == 0 {
				report("P-MEDIA", fo(i), fo(i+m[1]), "image")
			}
		case '[':
			if m := k.c.detect["markdown_link"].FindStringIndex(win); m != nil && m[0] == 0 {
				report("P-LINK", fo(i), fo(i+m[1]), "link_markdown")
			}
		}
	}

	// Tokens: links, e-mail addresses, entities, emoticons.
	type rng struct{ a, b int }
	var taken []rng
	covered := func(a, b int) bool {
		for _, t := range taken {
			if a < t.b && t.a < b {
				return true
			}
		}
		return false
	}
	for ts := 0; ts < len(f.s); {
		for ts < len(f.s) && isSpaceByte(f.s[ts]) {
			ts++
		}
		// One table lookup per byte finds the token's end and what it holds.
		te, flags := ts, uint8(0)
		for te < len(f.s) {
			c := byteFlags[f.s[te]]
			if c&flagSpace != 0 {
				break
			}
			flags |= c
			te++
		}
		if ts >= te {
			break
		}
		tok := f.s[ts:te]
		hasColon, hasAt, hasW := flags&flagColon != 0, flags&flagAt != 0, flags&flagW != 0
		hasAmp, hasFace := flags&flagAmp != 0, flags&flagFace != 0
		if hasColon && strings.Contains(tok, "://") {
			for _, m := range k.c.detect["scheme_url"].FindAllStringIndex(tok, -1) {
				a, b := ts+m[0], ts+m[1]
				for b > a && strings.ContainsRune(".,;:!?)]}'\"", rune(f.s[b-1])) {
					b--
				}
				taken = append(taken, rng{a, b})
				u := f.s[a:b]
				if dataAt(a) == kindReviewURL {
					continue
				}
				if strings.HasPrefix(strings.ToLower(u), "https://") && k.allowURL(u) {
					continue
				}
				if !strings.HasPrefix(strings.ToLower(u), "https://") {
					report("P-LINK", fo(a), fo(b), "link_http")
				} else {
					report("P-LINK", fo(a), fo(b), "link_other")
				}
			}
		}
		if hasAt {
			for _, m := range k.c.detect["email"].FindAllStringIndex(tok, -1) {
				a, b := ts+m[0], ts+m[1]
				if covered(a, b) {
					continue
				}
				taken = append(taken, rng{a, b})
				report("P-CONTACT", fo(a), fo(b), "email")
			}
		}
		if hasW && flags&flagDot != 0 {
			if ltok := asciiLower(tok); strings.Contains(ltok, "www.") {
				for _, m := range k.c.detect["www"].FindAllStringIndex(ltok, -1) {
					a, b := ts+m[0], ts+m[1]
					if covered(a, b) {
						continue
					}
					taken = append(taken, rng{a, b})
					report("P-LINK", fo(a), fo(b), "link_www")
				}
			}
		}
		if flags&flagDot != 0 && hasInnerDot(tok) {
			ltok := asciiLower(tok)
			for _, m := range k.c.detect["bare_domain"].FindAllStringSubmatchIndex(ltok, -1) {
				a, b := ts+m[2], ts+m[3]
				if covered(a, b) || (a > 0 && f.s[a-1] == '@') {
					continue
				}
				host := ltok[m[2]:m[3]]
				pathAfter := b < te && (f.s[b] == '/' || f.s[b] == ':')
				if !pathAfter && isMarketplaceName(host) {
					continue
				}
				end := b
				if pathAfter {
					end = ts + m[1]
				}
				taken = append(taken, rng{a, end})
				report("P-LINK", fo(a), fo(end), "link_bare")
			}
		}
		if authored(ts) {
			if hasAmp && strings.Contains(tok, ";") {
				if m := k.c.detect["html_entity"].FindStringIndex(asciiLower(tok)); m != nil {
					report("P-MEDIA", fo(ts+m[0]), fo(ts+m[1]), "entity")
				}
			}
			trimmed := tok
			if hasFace {
				trimmed = strings.TrimRight(tok, ".,!")
			}
			for _, e := range k.c.emoticons {
				if !hasFace {
					break
				}
				if trimmed == e || (len(e) >= 4 && strings.Contains(tok, e)) {
					report("P-MEDIA", fo(ts), fo(te), "emoticon")
					break
				}
			}
		}
		ts = te
	}

	// Phone numbers.
	k.phones(f.s, func(a, b int) {
		if covered(a, b) {
			return
		}
		report("P-CONTACT", fo(a), fo(b), "phone")
	})
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isMarketplaceName(host string) bool {
	switch host {
	case "amazon.com", "amazon.ca", "amazon.com.mx", "amazon.com.br", "amazon.co.uk", "amazon.de", "amazon.fr",
		"amazon.es", "amazon.it", "amazon.nl", "amazon.se", "amazon.pl", "amazon.com.be", "amazon.com.tr",
		"amazon.ae", "amazon.sa", "amazon.eg", "amazon.in", "amazon.co.jp", "amazon.com.au", "amazon.sg":
		return true
	}
	return false
}

// phones finds phone numbers in s: runs of digits and separators tried
// against the phone patterns, skipping the order id.
func (k *check) phones(s string, found func(a, b int)) {
	isSep := func(c byte) bool {
		return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '+'
	}
	for i := 0; i < len(s); {
		for i < len(s) && !phoneStart[s[i]] {
			i++
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if !(isDigit(rune(c)) || c == '+' || c == '(') {
			i++
			continue
		}
		j, digits := i, 0
		for j < len(s) && (isDigit(rune(s[j])) || isSep(s[j])) {
			if s[j] == ' ' && j+1 < len(s) && s[j+1] == ' ' {
				break
			}
			if isDigit(rune(s[j])) {
				digits++
			}
			j++
		}
		run := s[i:j]
		if digits >= 7 && (k.orderID == "" || !strings.Contains(run, k.orderID)) {
		keys:
			for _, key := range []string{"phone_intl", "phone_us", "phone_local"} {
				for _, m := range k.c.detect[key].FindAllStringIndex(run, -1) {
					a, b := i+m[0], i+m[1]
					if (a > 0 && isDigit(rune(s[a-1]))) || (b < len(s) && isDigit(rune(s[b]))) {
						continue
					}
					n := 0
					for x := a; x < b; x++ {
						if isDigit(rune(s[x])) {
							n++
						}
					}
					if n < 8 || n > 15 {
						continue
					}
					found(a, b)
					break keys
				}
			}
		}
		if j == i {
			j++
		}
		i = j
	}
}

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
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for ; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b.WriteString(s[last:i])
			b.WriteByte(c + 'a' - 'A')
			last = i + 1
		}
	}
	b.WriteString(s[last:])
	return b.String()
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

// phoneStart marks the bytes a phone number can start with.
var phoneStart = func() (t [256]bool) {
	for _, c := range "0123456789+(" {
		t[c] = true
	}
	return t
}()

// Byte classes for the token scan.
const (
	flagSpace = 1 << iota
	flagColon
	flagAt
	flagW
	flagAmp
	flagFace
	flagDot
)

var byteFlags = func() (t [256]uint8) {
	for _, c := range " \t\n\r" {
		t[c] = flagSpace
	}
	t[':'] = flagColon | flagFace
	t['@'] = flagAt
	t['w'], t['W'] = flagW, flagW
	t['&'] = flagAmp
	t['.'] = flagDot
	for _, c := range ";^<(xX" {
		t[c] |= flagFace
	}
	return t
}()
