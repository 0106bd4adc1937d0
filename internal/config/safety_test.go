package config_test

import (
	"errors"
	"strings"
	"testing"

	"campaignd/internal/config"
)

// TestSyntaxErrorNeverShowsASecret: a TOML syntax error in the value of a
// secret names the file, the line and the key, never any part of the value.
func TestSyntaxErrorNeverShowsASecret(t *testing.T) {
	tests := []struct{ name, toml, key string }{
		{"unquoted password", "[channel.smtp]\npassword = Hunter2\n", "password"},
		{"unquoted dotted", "channel.smtp.password = Hunter2\n", "password"},
		{"quoted key", "[channel.smtp]\n\"password\" = Hunter2\n", "password"},
		{"junk after the value", "[channel.smtp]\npassword = \"ok\" Hunter2\n", "password"},
		{"number then letters", "[channel.spapi]\nclient_secret = 123Hunter\n", "client_secret"},
		{"unterminated array", "[channel.spapi]\nrefresh_token = [Hunter2\n", "refresh_token"},
		{"bad escape", "[channel.smtp]\npassword = \"Hun\\qter2\"\n", "password"},
		{"inline table", "[channel.smtp]\npassword = { a = Hunter2 }\n", "password"},
		{"multi-line string left open", "[channel.spapi]\nrefresh_token = \"\"\"Hunter2\nmore\n", "refresh_token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("c.toml", []byte(minimal+tt.toml))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want ErrInvalid", err)
			}
			msg := err.Error()
			for _, part := range []string{"Hunter", "Hun", "'H'", "qter"} {
				if strings.Contains(msg, part) {
					t.Fatalf("the error shows part of the secret (%q): %s", part, msg)
				}
			}
			if !strings.Contains(msg, "c.toml:") || !strings.Contains(msg, tt.key) {
				t.Fatalf("the error does not name the file, line and key %s: %s", tt.key, msg)
			}
		})
	}
	// Errors elsewhere keep the parser's own words.
	_, err := config.Parse("c.toml", []byte(minimal+"[schedule]\ntick = every minute\n"))
	if err == nil || !strings.Contains(err.Error(), `found "every"`) {
		t.Fatalf("a syntax error in a plain key lost its detail: %v", err)
	}
}

// TestEndpointsRequireHTTPS: the SP-API and token endpoints must use https,
// except on loopback addresses (test servers).
func TestEndpointsRequireHTTPS(t *testing.T) {
	spapi := func(endpoint, token string) string {
		return strings.Replace(minimal, `channel = "outbox"`, `channel = "spapi"`, 1) +
			"[channel.spapi]\nclient_id = \"id\"\nclient_secret = \"s\"\nrefresh_token = \"r\"\n" +
			"endpoint = \"" + endpoint + "\"\ntoken_endpoint = \"" + token + "\"\n"
	}
	tests := []struct {
		name, endpoint, token, wantKey string
	}{
		{"https", "https://sellingpartnerapi-eu.amazon.com", "https://api.amazon.com/auth/o2/token", ""},
		{"loopback v4", "http://127.0.0.1:8080", "http://127.0.0.1:8081/token", ""},
		{"loopback v6", "http://[::1]:8080", "http://localhost:8081/token", ""},
		{"http endpoint", "http://sellingpartnerapi-eu.amazon.com", "https://api.amazon.com/auth/o2/token", "channel.spapi.endpoint"},
		{"http token endpoint", "https://sellingpartnerapi-eu.amazon.com", "http://api.amazon.com/auth/o2/token", "channel.spapi.token_endpoint"},
		{"http to a LAN address", "http://192.168.1.10", "https://api.amazon.com/auth/o2/token", "channel.spapi.endpoint"},
		{"not a url", "sellingpartnerapi-eu.amazon.com", "https://api.amazon.com/auth/o2/token", "channel.spapi.endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
			_, err := config.Load(write(t, dir, "c.toml", spapi(tt.endpoint, tt.token)))
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("err = %v, want ErrInvalid naming %s", err, tt.wantKey)
			}
		})
	}
}

// TestSocketPathCollisions: control.socket may not be the ledger, a folder
// of the inbox or the outbox, nor sit inside the watched folder.
func TestSocketPathCollisions(t *testing.T) {
	tests := []struct{ name, socket, want string }{
		{"the ledger", "var/l.db", "ledger.path"},
		{"the inbox", "var/inbox", "inbox.dir"},
		{"processed", "var/processed", "inbox.processed_dir"},
		{"rejected", "var/rejected/", "inbox.rejected_dir"},
		{"the outbox", "./var/outbox", "channel.outbox.dir"},
		{"a template", "t.tmpl", `campaign "en" template`},
		{"inside the inbox", "var/inbox/s.sock", "inside inbox.dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
			cfg := strings.Replace(minimal, `socket = "var/s.sock"`, `socket = "`+tt.socket+`"`, 1)
			_, err := config.Load(write(t, dir, "c.toml", cfg))
			if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "control.socket") || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want ErrInvalid naming control.socket and %s", err, tt.want)
			}
		})
	}
}
