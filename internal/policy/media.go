package policy

import (
	"strings"
	"unicode/utf8"
)

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

// emoji reports each run of emoji once.
func (s *scan) emoji() {
	text := s.p.text
	for i := nextNonASCII(text, 0); i < len(text); {
		if text[i] < utf8.RuneSelf {
			i = nextNonASCII(text, i)
			continue
		}
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isEmoji(r) || r == 0xFE0F || r == 0x20E3 {
			i += n
			continue
		}
		j := i + n
		for j < len(text) {
			r2, n2 := utf8.DecodeRuneInString(text[j:])
			if !isEmoji(r2) && r2 != 0x200D {
				break
			}
			j += n2
		}
		s.report("P-MEDIA", i, j, "emoji")
		i = j
	}
}

// markup reports HTML tags and comments, markdown links and images, found
// at each '<', '[' and '!'. A link hidden in a tag or behind text is one
// P-LINK; an image, with whatever address it loads, one P-MEDIA.
func (s *scan) markup() {
	for i := 0; i < len(s.f.s); i++ {
		j := strings.IndexAny(s.f.s[i:], "<[!")
		if j < 0 {
			return
		}
		i += j
		win := s.lower[i:min(len(s.lower), i+600)]
		switch s.f.s[i] {
		case '<':
			s.tag(i, win)
		case '!':
			if m := s.k.c.detect["markdown_image"].FindStringIndex(win); m != nil && m[0] == 0 {
				s.report("P-MEDIA", i, i+m[1], "image")
			}
		case '[':
			if m := s.k.c.detect["markdown_link"].FindStringIndex(win); m != nil && m[0] == 0 {
				s.report("P-LINK", i, i+m[1], "link_markdown")
			}
		}
	}
}

// tag reports the HTML tag or comment at byte i, if any.
func (s *scan) tag(i int, win string) {
	if m := s.k.c.detect["html_comment"].FindStringIndex(win); m != nil && m[0] == 0 {
		s.report("P-MEDIA", i, i+4, "html")
		return
	}
	m := s.k.c.detect["html_tag"].FindStringSubmatchIndex(win)
	if m == nil || m[0] != 0 {
		return
	}
	if strings.HasPrefix(strings.TrimLeft(win[1:], " "), "/") && s.tags > 0 {
		// A closing tag belongs to the finding of its opening tag.
		s.taken = append(s.taken, [2]int{i, i + m[1]})
		s.mask(i, i+m[1], kindMasked)
		return
	}
	s.tags++
	switch win[m[2]:m[3]] {
	case "a", "area", "link", "base", "form", "iframe":
		s.report("P-LINK", i, i+m[1], "link_html")
	case "img", "picture", "source", "svg", "video", "object", "embed", "image":
		s.report("P-MEDIA", i, i+m[1], "image")
	default:
		s.report("P-MEDIA", i, i+m[1], "html")
	}
}

// faceOrEntity reports an HTML entity ("&nbsp;") or an emoticon (":-)")
// in the author's token [ts, te).
func (s *scan) faceOrEntity(ts, te int, flags uint8) {
	tok := s.f.s[ts:te]
	if flags&flagAmp != 0 && strings.Contains(tok, ";") {
		if m := s.k.c.detect["html_entity"].FindStringIndex(s.lower[ts:te]); m != nil {
			s.report("P-MEDIA", ts+m[0], ts+m[1], "entity")
			return
		}
	}
	if flags&flagFace == 0 {
		return
	}
	trimmed := strings.TrimRight(tok, ".,!")
	for _, e := range s.k.c.emoticons {
		if trimmed == e || len(e) >= 4 && strings.Contains(tok, e) {
			s.report("P-MEDIA", ts, te, "emoticon")
			return
		}
	}
}
