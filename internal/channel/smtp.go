package channel

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// The TLS modes of SMTPConfig.
const (
	SMTPStartTLS = "starttls" // plain connection upgraded with STARTTLS (mandatory); port 587
	SMTPTLS      = "tls"      // implicit TLS from the first byte; port 465
	SMTPNoTLS    = "none"     // no encryption (a local relay only); port 25
)

// DefaultSMTPTimeout bounds dialling and every SMTP command.
const DefaultSMTPTimeout = 30 * time.Second

// relayDomain is the host part of Amazon's anonymised buyer addresses:
// marketplace.amazon.<tld>, and m.marketplace.amazon.co.jp in Japan.
var relayDomain = regexp.MustCompile(`(?i)^(m\.)?marketplace\.amazon\.[a-z]{2,3}(\.[a-z]{2})?$`)

// IsRelayAddress reports whether addr is an Amazon buyer relay address
// (…@marketplace.amazon.<tld>), the only kind of recipient the smtp channel
// mails.
func IsRelayAddress(addr string) bool {
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Address != strings.TrimSpace(addr) {
		return false
	}
	at := strings.LastIndexByte(a.Address, '@')
	return at > 0 && relayDomain.MatchString(a.Address[at+1:])
}

// SMTPConfig configures the smtp channel. Host and From are required.
type SMTPConfig struct {
	Host string
	// Port defaults to 587 (starttls), 465 (tls) or 25 (none).
	Port int
	// From is the sender, an address approved in Seller Central
	// ("Example Brand <orders@example.com>").
	From string
	// TLS is "starttls" (default), "tls" or "none".
	TLS string
	// Username and Password enable SMTP AUTH (PLAIN or LOGIN, only over
	// TLS). The password never appears in errors or String.
	Username, Password string
	// Timeout bounds dialling and each command; default 30 s.
	Timeout time.Duration
	// RootCAs verifies the server certificate; nil means the system pool.
	RootCAs *x509.CertPool
	// RatePerMinute spaces sends at least a minute/RatePerMinute apart; 0 = unlimited.
	RatePerMinute int
	// Now defaults to time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done (rate limiting); defaults to a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// String describes the configuration without the password.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("{Host:%s Port:%d From:%s TLS:%s Username:%s Password:%s Timeout:%s RatePerMinute:%d}",
		c.Host, c.Port, c.From, c.TLS, c.Username, pw, c.Timeout, c.RatePerMinute)
}

// GoString is String, so that %#v does not print the password either.
func (c SMTPConfig) GoString() string { return "channel.SMTPConfig" + c.String() }

// SMTP mails the rendered template to the buyer's Amazon relay address. It
// keeps one connection open across sends and dials again when the server
// dropped it. Sends are serialised.
type SMTP struct {
	from     *mail.Address
	client   *gomail.Client
	now      func() time.Time
	sleep    func(context.Context, time.Duration) error
	interval time.Duration

	mu        sync.Mutex
	connected bool
	lastSend  time.Time
}

// NewSMTP returns an smtp channel. It does not connect: the first Send dials.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: host is empty")
	}
	if cfg.From == "" {
		return nil, errors.New("smtp: from is empty (use an address approved in Seller Central)")
	}
	from, err := parseFrom(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	if cfg.RatePerMinute < 0 {
		return nil, fmt.Errorf("smtp: rate per minute %d is negative", cfg.RatePerMinute)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	opts := []gomail.Option{
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	port := cfg.Port
	switch cfg.TLS {
	case SMTPStartTLS, "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
		if port == 0 {
			port = 587
		}
	case SMTPTLS:
		opts = append(opts, gomail.WithSSL())
		if port == 0 {
			port = 465
		}
	case SMTPNoTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
		if port == 0 {
			port = 25
		}
	default:
		return nil, fmt.Errorf("smtp: tls %q is not starttls, tls or none", cfg.TLS)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", port)
	}
	opts = append(opts, gomail.WithPort(port))
	if cfg.Username != "" {
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	client, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
	s := &SMTP{from: from, client: client, now: cfg.Now, sleep: cfg.Sleep}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	if cfg.RatePerMinute > 0 {
		s.interval = time.Minute / time.Duration(cfg.RatePerMinute)
	}
	return s, nil
}

// Name returns "smtp".
func (s *SMTP) Name() string { return "smtp" }

// NeedsTemplate returns true.
func (s *SMTP) NeedsTemplate() bool { return true }

// NeedsBuyerEmail returns true: the message goes to the buyer's relay address.
func (s *SMTP) NeedsBuyerEmail() bool { return true }

// Reconcile returns Unknown: an SMTP server cannot be asked whether it took a
// message, so an order left claimed by a crash needs an operator.
func (s *SMTP) Reconcile(ctx context.Context, m Message) (Verdict, error) {
	return Unknown, nil
}

// Close ends the connection with QUIT.
func (s *SMTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.connected {
		return nil
	}
	s.connected = false
	if err := s.client.Close(); err != nil {
		return fmt.Errorf("smtp: close: %w", err)
	}
	return nil
}

// Send mails m to its relay address. An SMTP 4xx answer or a network error
// before the message was handed over returns ErrTransient, a 5xx answer
// ErrPermanent, a refused login ErrAuth, a recipient that is not an Amazon
// relay address ErrPermanent without connecting, and a connection lost after
// the whole message was handed over ErrInDoubt (which wraps ErrPermanent).
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if !IsRelayAddress(m.To) {
		return fmt.Errorf("smtp: order %s: recipient is not an Amazon relay address (…@marketplace.amazon.<tld>): %w", m.OrderID, ErrPermanent)
	}
	msg, err := buildMessage(m, s.from)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.wait(ctx); err != nil {
		return fmt.Errorf("smtp: order %s: %w: %w", m.OrderID, ErrTransient, err)
	}
	for attempt := 0; ; attempt++ {
		if !s.connected {
			if err := s.client.DialWithContext(ctx); err != nil {
				return fmt.Errorf("smtp: order %s: connect: %w", m.OrderID, classifyDial(err, m.To))
			}
			s.connected = true
		}
		err := s.client.Send(msg)
		s.lastSend = s.now()
		if err == nil {
			return nil
		}
		if msg.IsDelivered() {
			// The server accepted the message; only the RSET after it failed.
			s.drop()
			return nil
		}
		var se *gomail.SendError
		if errors.As(err, &se) && se.Reason == gomail.ErrConnCheck && attempt == 0 {
			// The idle connection was gone (NOOP failed) before anything of
			// this message was sent: dial again once.
			s.drop()
			continue
		}
		sentinel := classifySend(err)
		if smtpCode(err) == 0 {
			// Without an SMTP answer the connection is in an unknown state.
			s.drop()
		}
		return fmt.Errorf("smtp: order %s: %w: %s", m.OrderID, sentinel, describe(err, m.To))
	}
}

// wait spaces sends by the configured rate.
func (s *SMTP) wait(ctx context.Context) error {
	if s.interval == 0 || s.lastSend.IsZero() {
		return ctx.Err()
	}
	d := s.lastSend.Add(s.interval).Sub(s.now())
	if d <= 0 {
		return ctx.Err()
	}
	return s.sleep(ctx, d)
}

// drop abandons the connection without waiting for a polite QUIT.
func (s *SMTP) drop() {
	if s.connected {
		_ = s.client.Close()
	}
	s.connected = false
}

// smtpCode returns the SMTP reply code carried by err, or 0.
func smtpCode(err error) int {
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// classifySend maps a go-mail send error to a sentinel.
func classifySend(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		switch se.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			return ErrPermanent
		}
	}
	switch code := smtpCode(err); {
	case code >= 400 && code < 500:
		return ErrTransient
	case code >= 500 && code < 600:
		return ErrPermanent
	}
	if se != nil && se.Reason == gomail.ErrSMTPDataClose {
		// The final "." went out and no answer came back: the server may
		// have queued the message.
		return ErrInDoubt
	}
	return ErrTransient
}

// classifyDial maps a connection or login failure to a sentinel error.
func classifyDial(err error, to string) error {
	text := describe(err, to)
	code := smtpCode(err)
	if strings.Contains(err.Error(), "SMTP AUTH failed") || errors.Is(err, gomail.ErrPlainAuthNotSupported) ||
		errors.Is(err, gomail.ErrLoginAuthNotSupported) || errors.Is(err, gomail.ErrNoSupportedAuthDiscovered) {
		if code >= 400 && code < 500 {
			return fmt.Errorf("%w: login: %s", ErrTransient, text)
		}
		return fmt.Errorf("%w: login: %s", ErrAuth, text)
	}
	return fmt.Errorf("%w: %s", ErrTransient, text)
}

// describe renders err without the recipient's address: go-mail lists the
// affected recipients, and servers often quote the address in their answer.
func describe(err error, to string) string {
	text := err.Error()
	if i := strings.Index(text, ", affected recipient(s): "); i >= 0 {
		text = text[:i]
	}
	if to != "" {
		text = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(to)).ReplaceAllString(text, "<recipient>")
		if a, perr := mail.ParseAddress(to); perr == nil {
			text = regexp.MustCompile(`(?i)`+regexp.QuoteMeta(a.Address)).ReplaceAllString(text, "<recipient>")
		}
	}
	return text
}
