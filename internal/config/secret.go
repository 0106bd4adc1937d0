package config

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// parseMessage is the text of a TOML syntax error. When the error is in the
// value of a secret (password, client_secret, refresh_token), the parser's
// own message may quote part of the value ("found \"Hunter\""), so it is
// replaced by one that names the key only.
func parseMessage(perr toml.ParseError, b []byte) string {
	key := perr.LastKey
	if !isSecretKey(key) {
		key = lineKey(b, perr.Position.Line)
	}
	if !isSecretKey(key) {
		return perr.Message
	}
	return fmt.Sprintf("the value of %s is not valid TOML (not shown: it is a secret); a string goes in quotes on one line: %s = \"...\"",
		key, lastComponent(key))
}

// keyRe matches the key of a `key = value` line.
var keyRe = regexp.MustCompile(`^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=`)

// lineKey returns the key assigned on line n (from 1) of b, or "".
func lineKey(b []byte, n int) string {
	lines := strings.Split(string(b), "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	m := keyRe.FindStringSubmatch(lines[n-1])
	if m == nil {
		return ""
	}
	return m[1]
}

// isSecretKey reports whether any part of a dotted key names a secret.
func isSecretKey(key string) bool {
	for _, part := range strings.Split(key, ".") {
		p := strings.ToLower(strings.Trim(strings.TrimSpace(part), `"'`))
		if strings.Contains(p, "password") || strings.Contains(p, "secret") || strings.Contains(p, "token") {
			return true
		}
	}
	return false
}

func lastComponent(key string) string {
	parts := strings.Split(key, ".")
	return strings.Trim(strings.TrimSpace(parts[len(parts)-1]), `"'`)
}
