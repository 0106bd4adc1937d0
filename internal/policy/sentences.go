package policy

import "unicode/utf8"

// sentence is a [start, end) range of normalized text.
type sentence struct{ start, end int }

// appendSentences appends the sentences of s to out. A semicolon joins two
// clauses of one sentence ("your one-star review predates the exchange;
// perhaps it deserves a second look") and only ends a clause.
func appendSentences(out []sentence, s string) []sentence {
	start := 0
	for i := 0; i < len(s); {
		for i < len(s) && !sentenceByte[s[i]] {
			i++
		}
		if i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			// ASCII: only these bytes end a sentence.
			i++
			switch c {
			case '!', '?', '\n':
			case '.':
				if i < len(s) && s[i] != ' ' && s[i] != '\n' {
					continue
				}
			default:
				continue
			}
			out = append(out, sentence{start, i})
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch r {
		case '。', '！', '？', '．':
			out = append(out, sentence{start, i})
			start = i
		}
	}
	if start < len(s) {
		out = append(out, sentence{start, len(s)})
	}
	return out
}

// sentenceByte marks the bytes that may end a sentence: the ASCII marks
// and every byte of a multi-byte character.
var sentenceByte = func() (t [256]bool) {
	for _, c := range "!?\n." {
		t[c] = true
	}
	for c := utf8.RuneSelf; c < 256; c++ {
		t[c] = true
	}
	return t
}()
