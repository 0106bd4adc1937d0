package channel

import (
	"bytes"
	"fmt"
	"net/mail"
	"regexp"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// defaultFrom is the From header of outbox messages when none is configured.
const defaultFrom = "campaignd@localhost"

// safeName is what an order id or account may look like to become part of a
// file name or a Message-ID: no separators, no dots, no control characters.
var safeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// parseFrom parses a configured From address ("Brand <orders@example.com>").
func parseFrom(from string) (*mail.Address, error) {
	if from == "" {
		from = defaultFrom
	}
	if strings.ContainsAny(from, "\r\n") {
		return nil, fmt.Errorf("from address contains a line break")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("parse from address %q: %w", from, err)
	}
	return addr, nil
}

// messageID is the deterministic Message-ID (without angle brackets) of the
// request for m: the same order always gets the same id, so a receiver can
// spot a duplicate.
func messageID(m Message, from *mail.Address) string {
	host := "localhost"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 && at < len(from.Address)-1 {
		host = from.Address[at+1:]
	}
	local := m.OrderID
	if m.Account != "" {
		local += "." + m.Account
	}
	return local + ".campaignd@" + host
}

// checkIDs validates the order id and account of m for use in file names and
// headers.
func checkIDs(m Message) error {
	if !safeName.MatchString(m.OrderID) {
		return fmt.Errorf("order id %q is not usable: %w", m.OrderID, ErrPermanent)
	}
	if m.Account != "" && !safeName.MatchString(m.Account) {
		return fmt.Errorf("account %q is not usable: %w", m.Account, ErrPermanent)
	}
	return nil
}

// buildMessage renders m as an RFC 5322 message with go-mail, which encodes
// every header value (RFC 2047) so that no CR or LF from the data can start a
// header of its own. The body is text/plain; charset=UTF-8, quoted-printable.
func buildMessage(m Message, from *mail.Address) (*gomail.Msg, error) {
	if err := checkIDs(m); err != nil {
		return nil, err
	}
	if m.Date.IsZero() {
		return nil, fmt.Errorf("order %s: message has no date: %w", m.OrderID, ErrPermanent)
	}
	msg := gomail.NewMsg(gomail.WithCharset(gomail.CharsetUTF8), gomail.WithEncoding(gomail.EncodingQP),
		gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	if m.To != "" {
		if strings.ContainsAny(m.To, "\r\n") {
			return nil, fmt.Errorf("order %s: recipient address contains a line break: %w", m.OrderID, ErrPermanent)
		}
		if err := msg.SetAddrHeader(gomail.HeaderTo, m.To); err != nil {
			// The address itself stays out of the error: it is personal data.
			return nil, fmt.Errorf("order %s: invalid recipient address: %w", m.OrderID, ErrPermanent)
		}
	}
	msg.Subject(m.Subject)
	msg.SetDateWithValue(m.Date)
	msg.SetMessageIDWithValue(messageID(m, from))
	msg.SetGenHeader(gomail.HeaderUserAgent, "campaignd")
	msg.SetGenHeader("X-Campaignd-Order", m.OrderID)
	if m.Marketplace != "" {
		msg.SetGenHeader("X-Campaignd-Marketplace", m.Marketplace)
	}
	if m.Language != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Language)
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	return msg, nil
}

// render writes msg to a byte slice.
func render(msg *gomail.Msg) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render message: %w", err)
	}
	return buf.Bytes(), nil
}
