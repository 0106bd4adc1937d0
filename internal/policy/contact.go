package policy

import (
	"regexp"
	"strings"
)

// phoneStart marks the bytes a phone number can start with.
var phoneStart = func() (t [256]bool) {
	for _, c := range "0123456789+(" {
		t[c] = true
	}
	return t
}()

func isPhoneSep(c byte) bool {
	return c == ' ' || c == '-' || c == '.' || c == '/' || c == '(' || c == ')' || c == '+'
}

// phones reports phone numbers: runs of digits and separators that one of
// the phone patterns matches with 8 to 15 digits, other than the order id.
func (s *scan) phones() {
	text := s.f.s
	for i := 0; i < len(text); {
		for i < len(text) && !phoneStart[text[i]] {
			i++
		}
		if i >= len(text) {
			return
		}
		j, digits := i, 0
		for j < len(text) && (isDigitByte(text[j]) || isPhoneSep(text[j])) {
			if text[j] == ' ' && j+1 < len(text) && text[j+1] == ' ' {
				break
			}
			if isDigitByte(text[j]) {
				digits++
			}
			j++
		}
		if digits >= 7 && (s.k.orderID == "" || !strings.Contains(text[i:j], s.k.orderID)) {
			s.phoneIn(i, j)
		}
		i = max(j, i+1)
	}
}

// phoneIn reports the first phone number in the run text[i:j].
func (s *scan) phoneIn(i, j int) {
	text := s.f.s
	for _, key := range []string{"phone_intl", "phone_us", "phone_local", "phone_groups"} {
		for _, m := range s.k.c.detect[key].FindAllStringIndex(text[i:j], -1) {
			a, b := i+m[0], i+m[1]
			if a > 0 && isDigitByte(text[a-1]) || b < len(text) && isDigitByte(text[b]) || s.covered(a, b) {
				continue
			}
			n := 0
			for x := a; x < b; x++ {
				if isDigitByte(text[x]) {
					n++
				}
			}
			if n >= 8 && n <= 15 && !isDate(text[a:b]) {
				s.report("P-CONTACT", a, b, "phone")
				return
			}
		}
	}
}

// messengers are the apps whose account an "@name" after them gives.
var messengers = []string{"telegram", "whatsapp", "signal", "skype", "wechat", "line", "viber", "kik", "threema", "discord", "snapchat"}

// handles reports "@name" accounts that are no e-mail address: after a
// messenger's name a contact channel (P-CONTACT), otherwise a social media
// account (P-MARKETING).
func (s *scan) handles() {
	for from := 0; from < len(s.lower); {
		i := strings.IndexByte(s.lower[from:], '@')
		if i < 0 {
			return
		}
		a := from + i
		b := a + 1
		for b < len(s.lower) && isHandleByte(s.lower[b]) {
			b++
		}
		from = b
		startsWord := a == 0 || strings.IndexByte(" \t\n(:,", s.lower[a-1]) >= 0
		if !startsWord || b-a < 4 || b-a > 31 || s.lower[a+1] == '.' || s.covered(a, b) {
			continue
		}
		before := s.lower[max(0, a-24):a]
		rule, key := "P-MARKETING", "handle_social"
		for _, name := range messengers {
			if strings.Contains(before, name) {
				rule, key = "P-CONTACT", "handle"
				break
			}
		}
		s.report(rule, a, b, key)
	}
}

func isHandleByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// minSpelledDigits is how many digits written as words in a row make a
// phone number ("five five five, two one zero, eight eight four one").
const minSpelledDigits = 8

// spelledPhones reports phone numbers written as words: a run of number
// words standing for at least minSpelledDigits digits (a digit word for
// one, a word for the tens or teens for two: "zéro six, douze,
// trente-quatre"), separated by spaces, commas, dots or dashes.
func (s *scan) spelledPhones() {
	text := s.lower
	start, end, n := -1, -1, 0
	flush := func() {
		if n >= minSpelledDigits && !s.covered(start, end) {
			s.report("P-CONTACT", start, end, "phone")
		}
		start, n = -1, 0
	}
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && !isWordSep(text[j]) {
			j++
		}
		if j == i {
			if !isPhoneWordGap(text[i]) {
				flush()
			}
			i++
			continue
		}
		switch d, ok := s.k.c.numberWords[text[i:j]]; {
		case !ok || d == 0 && n == 0:
			flush() // a joiner ("et") only continues a number
		case d > 0:
			if n == 0 {
				start = i
			}
			end, n = j, n+d
		}
		i = j
	}
	flush()
}

// messengerIDs reports a messenger account given by its ID without an @
// ("LINE（ID：tanaka_shop）").
func (s *scan) messengerIDs() {
	findNear(s.k.c.detect["messenger_id"], s.lower, messengerNames, idFollows, func(m []int) bool {
		if s.covered(m[0], m[1]) {
			return false
		}
		s.report("P-CONTACT", m[0], m[1], "handle")
		return true
	})
}

// idFollows reports whether "id" follows the messenger name at s[i:]
// closely ("line (id: ...", "LINE ID:").
func idFollows(s string, i int) bool {
	w := s[i:min(len(s), i+16)]
	return strings.Contains(w, "id") || strings.Contains(w, "ｉｄ")
}

// messengerNames are the messengers whose IDs messengerIDs looks for.
var messengerNames = []string{"line", "whatsapp", "telegram", "wechat", "kakao", "viber", "signal", "skype", "ライン"}

// isWordSep reports whether c ends a word (ASCII that is no letter).
func isWordSep(c byte) bool {
	return c < 0x80 && !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
}

// isPhoneWordGap reports whether c may stand between the digit words of
// a phone number.
func isPhoneWordGap(c byte) bool { return c == ' ' || c == ',' || c == '.' || c == '-' || c == '\n' }

// dateRE matches a date written with digits ("12.05.2024", "2024-05-12").
var dateRE = regexp.MustCompile(`^(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})|\d{4}[./-]\d{1,2}[./-]\d{1,2})$`)

// isDate reports whether s is a date rather than a phone number.
func isDate(s string) bool { return dateRE.MatchString(strings.TrimSpace(s)) }
