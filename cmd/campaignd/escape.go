package main

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// clean makes a string from data (a file name, a product name, a reason)
// safe to print on a terminal, on one line: control characters (escape
// sequences, carriage returns, newlines, tabs), invisible format characters
// (bidirectional overrides) and invalid UTF-8 are written as Go escapes
// (\x1b, \n, \u202e), so no report or file name can move the cursor, recolour
// the screen or fake a line of output. Letters of every script stay as they
// are.
func clean(s string) string { return escape(s, false) }

// cleanText is clean for text that is meant to span lines (a rendered
// message): newlines and tabs stay, everything else clean escapes is escaped.
func cleanText(s string) string { return escape(s, true) }

func escape(s string, keepLines bool) string {
	if !needsEscape(s, keepLines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLines && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case printable(r):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string, keepLines bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || (!printable(r) && !(keepLines && (r == '\n' || r == '\t'))) {
			return true
		}
	}
	return false
}

// printable reports whether r shows as itself: graphic characters and
// spaces, but no control or format character.
func printable(r rune) bool {
	return unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r)
}
