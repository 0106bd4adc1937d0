package policy

import (
	"regexp"
	"slices"
	"strings"

	"campaignd/internal/marketplace"
)

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

// tokens reads the part a whitespace-separated token at a time: links,
// e-mail addresses, web addresses, then entities and emoticons in the
// author's own text.
func (s *scan) tokens() {
	for ts := 0; ts < len(s.f.s); {
		for ts < len(s.f.s) && isSpaceByte(s.f.s[ts]) {
			ts++
		}
		te, flags := ts, uint8(0)
		for te < len(s.f.s) && byteFlags[s.f.s[te]]&flagSpace == 0 {
			flags |= byteFlags[s.f.s[te]]
			te++
		}
		if ts >= te {
			break
		}
		tok := s.lower[ts:te]
		if flags&flagColon != 0 && strings.Contains(tok, "://") {
			s.schemeURLs(ts, tok)
		}
		if flags&flagAt != 0 {
			s.find(ts, tok, "email", "P-CONTACT", "email")
		}
		if flags&flagW != 0 && flags&flagDot != 0 && strings.Contains(tok, "www.") {
			s.find(ts, tok, "www", "P-LINK", "link_www")
		}
		if flags&flagDot != 0 && hasInnerDot(tok) {
			s.bareDomains(ts, te, tok)
		}
		if s.kind(ts) == kindText {
			s.faceOrEntity(ts, te, flags)
		}
		ts = te
	}
}

// find reports every match of detector key in token tok (at ts) that no
// earlier finding covers.
func (s *scan) find(ts int, tok, key, rule, msgKey string) {
	for _, m := range s.k.c.detect[key].FindAllStringIndex(tok, -1) {
		a, b := ts+m[0], ts+m[1]
		if !s.covered(a, b) {
			s.report(rule, a, b, msgKey)
		}
	}
}

// schemeURLs reports the http(s) links of a token that are not the
// allowed review page.
func (s *scan) schemeURLs(ts int, tok string) {
	for _, m := range s.k.c.detect["scheme_url"].FindAllStringIndex(tok, -1) {
		a, b := ts+m[0], ts+m[1]
		for b > a && strings.ContainsRune(".,;:!?)]}'\"", rune(s.f.s[b-1])) {
			b--
		}
		if s.covered(a, b) {
			continue
		}
		u := s.f.s[a:b]
		switch {
		case !strings.HasPrefix(s.lower[a:b], "https://"):
			s.report("P-LINK", a, b, "link_http")
		case s.k.allowURL(u):
			s.taken = append(s.taken, [2]int{a, b})
			s.mask(a, b, kindReviewURL)
		case s.k.market == "":
			s.report("P-LINK", a, b, "link_other_any")
		default:
			s.report("P-LINK", a, b, "link_other", s.k.market)
		}
	}
}

// bareDomains reports domain names without a scheme ("our-shop.com",
// "bit.ly/x"); an Amazon marketplace's name ("Amazon.de") and names such
// as ASP.NET are not addresses.
func (s *scan) bareDomains(ts, te int, tok string) {
	for _, m := range s.k.c.detect["bare_domain"].FindAllStringSubmatchIndex(tok, -1) {
		a, b := ts+m[2], ts+m[3]
		if s.covered(a, b) || a > 0 && s.f.s[a-1] == '@' {
			continue
		}
		if spelledAtBefore(s.lower[max(0, a-8):a]) {
			continue // "support(at)hundebett.de": spelled reports the whole address
		}
		host := tok[m[2]:m[3]]
		path := b < te && (s.f.s[b] == '/' || s.f.s[b] == ':')
		if !path && (isMarketplaceHost(host) || s.k.c.notDomains[host]) {
			continue
		}
		if path {
			b = ts + m[1]
		}
		s.report("P-LINK", a, b, "link_bare")
	}
}

// spelledAtBefore reports whether text ends with a spelled "at" in
// brackets ("(at)", "[ät]"): the domain after it belongs to an e-mail
// address.
func spelledAtBefore(text string) bool {
	t := strings.TrimRight(text, " ")
	for _, at := range []string{"at", "ät"} {
		for _, br := range []string{"()", "[]", "{}", "<>"} {
			if strings.HasSuffix(t, string(br[0])+at+string(br[1])) || strings.HasSuffix(t, string(br[0])+" "+at+" "+string(br[1])) {
				return true
			}
		}
	}
	return false
}

// isMarketplaceHost reports whether host names an Amazon marketplace
// ("amazon.de", "www.amazon.co.jp").
func isMarketplaceHost(host string) bool {
	m, ok := marketplace.Lookup(host)
	return ok && (strings.EqualFold(m.Host, host) || strings.EqualFold(strings.TrimPrefix(m.Host, "www."), host))
}

// spelled reports addresses written out to slip past a filter: "name (at)
// shop (dot) com" (P-CONTACT), "shop dot com slash help" and "www . shop .
// fr" (P-LINK).
func (s *scan) spelled() {
	c := s.k.c
	// Groups: 1 the local part, 2 the domain, 3 its top-level domain.
	findNear(c.spelledEmail, s.lower, atMarkers, dotFollows, func(m []int) bool {
		if s.covered(m[0], m[1]) || !c.isTLD(s.lower[m[6]:m[7]], true) {
			return false
		}
		if s.placeNotMailbox(m[2], m[3], m[1]) {
			s.report("P-LINK", m[4], m[1], "link_spelled")
		} else {
			s.report("P-CONTACT", m[0], m[1], "email_spelled")
		}
		return true
	})
	// Groups: 1 the spelled dot, 2 the top-level domain, 3 a path.
	findNear(c.spelledDomain, s.lower, dotMarkers, nil, func(m []int) bool {
		strong := m[6] >= 0 || strings.ContainsAny(s.lower[m[2]:m[3]], "([{<")
		if s.covered(m[0], m[1]) || !c.isTLD(s.lower[m[4]:m[5]], strong) {
			return false
		}
		s.report("P-LINK", m[0], m[1], "link_spelled")
		return true
	})
	for _, m := range c.detect["spaced_domain"].FindAllStringIndex(s.lower, -1) {
		end := s.lastTLD(m[0], m[1])
		if end > m[0] && !s.covered(m[0], end) {
			s.report("P-LINK", m[0], end, "link_spelled")
		}
	}
	s.spelledLoose()
}

// spelledLoose reports what the strict expressions of spelled miss: the @
// named in words with a spelled dot and a domain some words later ("sav,
// suivi de l'arobase, puis maisonbleue, point, fr"), and a top-level
// domain standing alone after its dot ("type oakandflax followed by
// .com/care").
func (s *scan) spelledLoose() {
	c := s.k.c
	findNear(c.detect["spelled_email_loose"], s.lower, atNames, nil, func(m []int) bool {
		if s.covered(m[0], m[1]) || !c.isTLD(s.lower[m[2]:m[3]], true) {
			return false
		}
		s.report("P-CONTACT", m[0], m[1], "email_spelled")
		return true
	})
	findNear(c.detect["dot_tld"], s.lower, []string{" .", "(.", "\".", "'."}, tldFollows, func(m []int) bool {
		a, b := m[2], m[3]
		tld := strings.TrimPrefix(strings.SplitN(s.lower[a:b], "/", 2)[0], ".")
		if s.covered(a, b) || !strings.Contains(s.lower[a:b], "/") && !c.isTLD(tld, false) && !strings.Contains(tld, ".") {
			return false
		}
		s.report("P-LINK", a, b, "link_spelled")
		return true
	})
}

// tldFollows reports whether a top-level domain follows the dot of the
// marker at s[i:] (" .com/care", not " . Next").
func tldFollows(s string, i int) bool {
	j := i + 2
	k := j
	for k < len(s) && k < j+6 && isLower(s[k]) {
		k++
	}
	return k > j && (strongTLDs[s[j:k]] || weakTLDs[s[j:k]])
}

// atNames are the names of the @ sign that spelledLoose looks around.
var atNames = []string{"arobase", "arroba", "chiocciola", "klammeraffe", "at-zeichen", "at-sign", "at sign", "アットマ"}

// Spelled addresses are searched only near the words that spell them:
// the expressions start with a word of any letters, so running them over
// a whole message would try them at every letter.
var (
	atMarkers  = []string{" at ", "(at", "[at", "{at", "<at", " ät ", "(ät", "[ät", "arobase", "arroba", "chiocciola", "klammeraffe", "アットマ", "あっとま", "@", "＠"}
	dotMarkers = []string{" dot ", " point ", "punkt", "punto", "(.)", "[.]", "{.}", "(dot", "[dot", "{dot", "(point", "[point", " . ", "ドット", "どっと"}
)

// nearWindow is how far before and after a marker an address can reach.
const nearWindow = 80

// dotFollows reports whether a dot that can be part of an address follows
// the marker at s[i:]: a spelled one, or a real dot with a letter after it
// ("shop.com", not the end of a sentence). An "at" in prose ("at any
// time") has none and is not searched further.
func dotFollows(s string, i int) bool {
	w := s[i:min(len(s), i+nearWindow)]
	for _, mk := range dotMarkers {
		if strings.Contains(w, mk) {
			return true
		}
	}
	for j := strings.IndexByte(w, '.'); j >= 0 && j+1 < len(w); {
		if isLower(w[j+1]) {
			return true
		}
		k := strings.IndexByte(w[j+1:], '.')
		if k < 0 {
			break
		}
		j += 1 + k
	}
	return false
}

// findNear offers take each submatch of re in s that lies in a window
// around one of markers (offsets in s) for which near (when set) holds. A
// submatch take refuses ("at shop.help" is no address) is tried again one
// byte further on, so that it does not hide an address that overlaps it.
func findNear(re *regexp.Regexp, s string, markers []string, near func(s string, i int) bool, take func(m []int) bool) {
	done := -1 // s[:done] has been searched
	for _, w := range markerWindows(s, markers, near) {
		a := max(w[0], done)
		for a > 0 && a > w[0]-nearWindow && !isSpaceByte(s[a-1]) {
			a-- // start at a word's start
		}
		for a < w[1] {
			m := re.FindStringSubmatchIndex(s[a:w[1]])
			if m == nil {
				break
			}
			for i := range m {
				if m[i] >= 0 {
					m[i] += a
				}
			}
			if m[0] >= done && take(m) {
				a = m[1]
			} else {
				a = m[0] + 1
			}
		}
		done = w[1]
	}
}

// markerWindows returns the merged windows around every occurrence of the
// markers in s for which near holds, in order.
func markerWindows(s string, markers []string, near func(s string, i int) bool) [][2]int {
	var pos []int
	for _, mk := range markers {
		for from := 0; ; {
			i := strings.Index(s[from:], mk)
			if i < 0 {
				break
			}
			if near == nil || near(s, from+i) {
				pos = append(pos, from+i)
			}
			from += i + len(mk)
		}
	}
	slices.Sort(pos)
	var out [][2]int
	for _, p := range pos {
		a, b := max(0, p-nearWindow), min(len(s), p+nearWindow)
		for b < len(s) && !isSpaceByte(s[b]) {
			b++ // end at a word's end
		}
		if n := len(out); n > 0 && a <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], b)
			continue
		}
		out = append(out, [2]int{a, b})
	}
	return out
}

// lastTLD returns where a spaced address in lower[a:b] ends: after its
// last label that is a top-level domain ("www . shop . es. Next" ends
// after "es"), or a when it has none.
func (s *scan) lastTLD(a, b int) int {
	for end := b; end > a; {
		dot := strings.LastIndexByte(s.lower[a:end], '.')
		if dot < 0 {
			return a
		}
		label := strings.TrimSpace(s.lower[a+dot+1 : end])
		if s.k.c.isTLD(label, true) {
			return end
		}
		end = a + dot
		for end > a && s.lower[end-1] == ' ' {
			end--
		}
	}
	return a
}

// placeNotMailbox reports whether a spelled "at" after the word
// lower[a:b], before the domain lower[b:end], introduces a place, not a
// mailbox: "find us at shop dot com", "the manual is at shop dot com",
// "tips live at shop . co . uk". The at must be the plain word, and the
// word before it a function word, or the domain's dots real ones.
func (s *scan) placeNotMailbox(a, b, end int) bool {
	if !strings.HasPrefix(s.lower[b:], " at ") {
		return false
	}
	if !s.k.c.spelledDotWord.MatchString(s.lower[b:end]) {
		return true
	}
	w := s.lower[a:b]
	if s.k.c.mailboxes[w] {
		return false // "hallo at kaffeeberg dot de"
	}
	lx := s.k.c.lex[s.k.lang]
	return s.k.c.placeWords[w] || lx != nil && lx.function[w] || s.k.c.lex["en"].function[w]
}

// compileSpelled joins the spelled-address pieces of common.toml into the
// two expressions spelled uses.
func compileSpelled(src map[string]string) (*regexp.Regexp, *regexp.Regexp, error) {
	label := `[a-z0-9][a-z0-9\-_]*`
	at, dot, slash := src["spelled_at"], src["spelled_dot"], src["spelled_slash"]
	anyDot := `(?:` + dot + `|\.)`
	// A local part may spell its dots too: "shop dot help at gmail dot com".
	local := `[a-z0-9][a-z0-9.\-_]*(?:` + dot + `[a-z0-9][a-z0-9.\-_]*)*`
	email, err := regexp.Compile(`(` + local + `)(?:` + at + `)(` + label + `(?:` + anyDot + label + `)*` + anyDot + `([a-z]{2,6}))\b`)
	if err != nil {
		return nil, nil, err
	}
	domain, err := regexp.Compile(label + `(` + dot + `)([a-z]{2,6})\b((?:` + slash + `)[a-z0-9\-_]+)?`)
	return email, domain, err
}

// strongTLDs are top-level domains that are no common word in the six
// languages; the others ("de", "es", "it") count after a spelled dot only
// with brackets, a path or an "at".
var strongTLDs = map[string]bool{"com": true, "net": true, "org": true, "info": true, "biz": true, "io": true, "shop": true, "store": true, "online": true, "site": true, "app": true, "xyz": true, "eu": true, "uk": true, "fr": true, "jp": true, "nl": true, "ch": true, "pl": true, "br": true, "mx": true, "au": true, "sg": true, "ae": true, "ly": true, "gl": true, "ru": true, "cn": true, "tv": true, "page": true, "link": true, "co": true}

var weakTLDs = map[string]bool{"de": true, "es": true, "it": true, "in": true, "to": true, "me": true, "at": true, "be": true, "us": true, "ca": true, "se": true}

// isTLD reports whether t is a top-level domain; weak ones count only when
// strong is set.
func (c *Checker) isTLD(t string, strong bool) bool {
	return strongTLDs[t] || strong && weakTLDs[t]
}
