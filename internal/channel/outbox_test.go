package channel

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var sendAt = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func testMessage(id string) Message {
	return Message{
		OrderID:       id,
		Marketplace:   "Amazon.de",
		MarketplaceID: "A1PA6795UKMFR9",
		To:            "abc123xyz@marketplace.amazon.de",
		Subject:       "Your order " + id,
		Body:          "Hello,\nplease consider leaving a review.\n",
		Language:      "en",
		Date:          sendAt,
	}
}

// readEML parses an .eml file and returns its message with the body decoded.
func readEML(t *testing.T, path string) (*mail.Message, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	msg, err := mail.ReadMessage(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	return msg, decodeBody(t, msg)
}

func decodeBody(t *testing.T, msg *mail.Message) string {
	t.Helper()
	var r io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

func decodeHeader(t *testing.T, v string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		t.Fatalf("decode %q: %v", v, err)
	}
	return s
}

func newTestOutbox(t *testing.T, from string) (*Outbox, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "outbox")
	o, err := NewOutbox(OutboxConfig{Dir: dir, From: from})
	if err != nil {
		t.Fatal(err)
	}
	return o, dir
}

func TestOutboxSendWritesMessage(t *testing.T) {
	o, dir := newTestOutbox(t, "Example Brand <orders@example.com>")
	m := testMessage("302-1234567-1234567")
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msg, body := readEML(t, filepath.Join(dir, "302-1234567-1234567.eml"))
	want := map[string]string{
		"From":                      `"Example Brand" <orders@example.com>`,
		"To":                        "<abc123xyz@marketplace.amazon.de>",
		"Subject":                   "Your order 302-1234567-1234567",
		"Message-Id":                "<302-1234567-1234567.campaignd@example.com>",
		"X-Campaignd-Order":         "302-1234567-1234567",
		"X-Campaignd-Marketplace":   "Amazon.de",
		"Content-Language":          "en",
		"Content-Transfer-Encoding": "quoted-printable",
		"Mime-Version":              "1.0",
	}
	for k, v := range want {
		if got := msg.Header.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") || !strings.Contains(strings.ToLower(ct), "charset=utf-8") {
		t.Errorf("Content-Type = %q", ct)
	}
	date, err := msg.Header.Date()
	if err != nil || !date.Equal(sendAt) {
		t.Errorf("Date = %v, %v; want %v", date, err, sendAt)
	}
	if body != m.Body {
		t.Errorf("body = %q, want %q", body, m.Body)
	}
	if v, err := o.Reconcile(context.Background(), m); err != nil || v != WasSent {
		t.Errorf("Reconcile = %v, %v; want was_sent", v, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("outbox holds %d entries, want 1 (no temp files left)", len(entries))
	}
}

func TestOutboxDefaults(t *testing.T) {
	o, dir := newTestOutbox(t, "")
	m := testMessage("302-1234567-1234567")
	m.To = ""
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msg, _ := readEML(t, filepath.Join(dir, "302-1234567-1234567.eml"))
	if got := msg.Header.Get("From"); got != "<campaignd@localhost>" {
		t.Errorf("From = %q", got)
	}
	if _, ok := msg.Header["To"]; ok {
		t.Errorf("To header present without recipient: %q", msg.Header.Get("To"))
	}
	if got := msg.Header.Get("Message-Id"); got != "<302-1234567-1234567.campaignd@localhost>" {
		t.Errorf("Message-Id = %q", got)
	}
}

func TestOutboxAccountFolder(t *testing.T) {
	o, dir := newTestOutbox(t, "")
	m := testMessage("302-1234567-1234567")
	m.Account = "eu-brand"
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "eu-brand", "302-1234567-1234567.eml")
	msg, _ := readEML(t, p)
	if got := msg.Header.Get("Message-Id"); got != "<302-1234567-1234567.eu-brand.campaignd@localhost>" {
		t.Errorf("Message-Id = %q", got)
	}
	if got, _ := o.Path(m); got != p {
		t.Errorf("Path = %q, want %q", got, p)
	}
	// The same order for the default account is a different request.
	m.Account = ""
	if v, _ := o.Reconcile(context.Background(), m); v != NotSent {
		t.Errorf("default account Reconcile = %v, want not_sent", v)
	}
}

func TestOutboxSecondSendIsAlreadySent(t *testing.T) {
	o, dir := newTestOutbox(t, "")
	m := testMessage("302-1234567-1234567")
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "302-1234567-1234567.eml")
	before, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	m2 := m
	m2.Subject, m2.Body, m2.Date = "changed", "changed", sendAt.Add(time.Hour)
	err = o.Send(context.Background(), m2)
	if !errors.Is(err, ErrAlreadySent) {
		t.Fatalf("second Send = %v, want ErrAlreadySent", err)
	}
	after, _ := os.ReadFile(p)
	if string(after) != string(before) {
		t.Error("second Send changed the first file")
	}
}

// The existence check before writing can race with another writer; the
// hard link is the authority and must refuse to replace a file that appears
// in between.
func TestOutboxLinkNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	final := filepath.Join(dir, "302-1234567-1234567.eml")
	if err := os.WriteFile(final, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := writeNew(dir, final, ".302-1234567-1234567.*.tmp", []byte("second"))
	if !errors.Is(err, os.ErrExist) {
		t.Fatalf("writeNew = %v, want ErrExist", err)
	}
	if b, _ := os.ReadFile(final); string(b) != "first" {
		t.Errorf("file = %q, want first", b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("dir holds %d entries, want 1 (temp file removed)", len(entries))
	}
}

func TestOutboxStrayTempFile(t *testing.T) {
	o, dir := newTestOutbox(t, "")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	// A crash between writing the temp file and linking it leaves this behind.
	stray := filepath.Join(dir, ".302-1234567-1234567.123456.tmp")
	if err := os.WriteFile(stray, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	m := testMessage("302-1234567-1234567")
	if v, err := o.Reconcile(context.Background(), m); err != nil || v != NotSent {
		t.Fatalf("Reconcile with stray temp = %v, %v; want not_sent", v, err)
	}
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	matches, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	if len(matches) != 1 || filepath.Base(matches[0]) != "302-1234567-1234567.eml" {
		t.Errorf(".eml files = %v", matches)
	}
	if _, body := readEML(t, matches[0]); body != m.Body {
		t.Errorf("body = %q", body)
	}
}

func TestOutboxHeaderInjection(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Message)
		wantErr error
	}{
		{"subject CRLF", func(m *Message) { m.Subject = "Hi\r\nBcc: victim@example.com" }, nil},
		{"subject LF", func(m *Message) { m.Subject = "Hi\nBcc: victim@example.com\n\nbody" }, nil},
		{"marketplace CRLF", func(m *Message) { m.Marketplace = "Amazon.de\r\nBcc: victim@example.com" }, nil},
		{"language CRLF", func(m *Message) { m.Language = "en\r\nBcc: victim@example.com" }, nil},
		{"to CRLF", func(m *Message) { m.To = "a@marketplace.amazon.de\r\nBcc: victim@example.com" }, ErrPermanent},
		{"to comma list", func(m *Message) { m.To = "a@marketplace.amazon.de, victim@example.com" }, ErrPermanent},
		{"order id CRLF", func(m *Message) { m.OrderID = "302-1\r\nBcc: x" }, ErrPermanent},
		{"order id path", func(m *Message) { m.OrderID = "../302-1234567-1234567" }, ErrPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, dir := newTestOutbox(t, "")
			m := testMessage("302-1234567-1234567")
			tt.mutate(&m)
			err := o.Send(context.Background(), m)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Send = %v, want %v", err, tt.wantErr)
				}
				if files, _ := filepath.Glob(filepath.Join(filepath.Dir(dir), "*", "*")); len(files) != 0 {
					t.Errorf("files written: %v", files)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "302-1234567-1234567.eml")
			raw, _ := os.ReadFile(p)
			msg, _ := readEML(t, p)
			if _, ok := msg.Header["Bcc"]; ok {
				t.Fatalf("Bcc header injected:\n%s", raw)
			}
			for _, line := range strings.Split(string(raw), "\r\n") {
				if strings.HasPrefix(strings.ToLower(line), "bcc:") {
					t.Fatalf("Bcc line in message:\n%s", raw)
				}
				if line == "" {
					break
				}
			}
			// The value survives, encoded, and decodes back to what was given.
			switch tt.name {
			case "subject CRLF", "subject LF":
				if got := decodeHeader(t, msg.Header.Get("Subject")); got != m.Subject {
					t.Errorf("Subject decodes to %q, want %q", got, m.Subject)
				}
			}
		})
	}
}

func TestOutboxNonASCII(t *testing.T) {
	tests := []struct {
		name, subject, body, lang string
	}{
		{"german", "Ihre Bestellung bei Müller & Söhne – Größe XL", "Guten Tag,\nwir würden uns über Ihre Bewertung freuen. Grüße, Ärger-frei GmbH\n", "de"},
		{"japanese", "ご注文について：商品レビューのお願い", "こんにちは。\nご購入いただきありがとうございます。商品のレビューをお願いいたします。とても長い行もきちんと折り返されて元に戻ることを確認するための文章です。\n", "ja"},
		{"long ascii", strings.TrimSpace(strings.Repeat("word ", 40)), strings.Repeat("a", 300) + "\n", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, dir := newTestOutbox(t, "Müller Shop <shop@example.de>")
			m := testMessage("302-1234567-1234567")
			m.Subject, m.Body, m.Language = tt.subject, tt.body, tt.lang
			if err := o.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, "302-1234567-1234567.eml")
			raw, _ := os.ReadFile(p)
			for i, line := range strings.Split(string(raw), "\r\n") {
				if len(line) > 998 {
					t.Errorf("line %d is %d octets long", i, len(line))
				}
				for _, c := range []byte(line) {
					if c >= 0x80 {
						t.Fatalf("line %d has a raw non-ASCII byte: %q", i, line)
					}
				}
			}
			msg, body := readEML(t, p)
			if got := decodeHeader(t, msg.Header.Get("Subject")); got != tt.subject {
				t.Errorf("Subject = %q, want %q", got, tt.subject)
			}
			if body != tt.body {
				t.Errorf("body = %q, want %q", body, tt.body)
			}
			if got := msg.Header.Get("Content-Language"); got != tt.lang {
				t.Errorf("Content-Language = %q", got)
			}
			from, err := (&mail.AddressParser{WordDecoder: new(mime.WordDecoder)}).Parse(msg.Header.Get("From"))
			if err != nil || from.Name != "Müller Shop" || from.Address != "shop@example.de" {
				t.Errorf("From = %+v, %v", from, err)
			}
		})
	}
}

func TestOutboxRejectsBadInput(t *testing.T) {
	if _, err := NewOutbox(OutboxConfig{}); err == nil {
		t.Error("NewOutbox without dir succeeded")
	}
	if _, err := NewOutbox(OutboxConfig{Dir: t.TempDir(), From: "not an address"}); err == nil {
		t.Error("NewOutbox with bad from succeeded")
	}
	o, dir := newTestOutbox(t, "")
	m := testMessage("302-1234567-1234567")
	m.Date = time.Time{}
	if err := o.Send(context.Background(), m); !errors.Is(err, ErrPermanent) {
		t.Errorf("Send without date = %v, want ErrPermanent", err)
	}
	m = testMessage("302-1234567-1234567")
	m.Account = "../x"
	if err := o.Send(context.Background(), m); !errors.Is(err, ErrPermanent) {
		t.Errorf("Send with bad account = %v, want ErrPermanent", err)
	}
	if _, err := os.Stat(dir); err == nil {
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Errorf("files written: %v", files)
		}
	}
}
