package channel

import (
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
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
//
// go-mail dials, negotiates TLS and logs in; the mail transaction itself
// (MAIL, RCPT, DATA) is run step by step on its smtp.Client so that the
// caller can record the point of no return just before the "." that ends
// the message, and so that a cancelled context cuts the line at once (see
// line).
type SMTP struct {
	from        *mail.Address
	client      *gomail.Client
	tlsConfig   *tls.Config
	implicitTLS bool
	timeout     time.Duration
	now         func() time.Time
	sleep       func(context.Context, time.Duration) error
	interval    time.Duration
	quit        time.Duration // quitTimeout (tests shorten it)
	line        line

	mu       sync.Mutex
	session  *smtp.Client // nil when not connected
	lastSend time.Time
}

// NewSMTP returns an smtp channel. It does not connect: the first Send dials.
func NewSMTP(cfg SMTPConfig) (*SMTP, error) {
	from, err := checkSMTPConfig(&cfg)
	if err != nil {
		return nil, err
	}
	s := &SMTP{from: from, timeout: cfg.Timeout, now: cfg.Now, sleep: cfg.Sleep, quit: quitTimeout,
		tlsConfig: &tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}}
	opts, err := s.options(cfg)
	if err != nil {
		return nil, err
	}
	if s.client, err = gomail.NewClient(cfg.Host, opts...); err != nil {
		return nil, fmt.Errorf("smtp: %w", err)
	}
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

// options are go-mail's settings for cfg: the port, TLS and login.
func (s *SMTP) options(cfg SMTPConfig) ([]gomail.Option, error) {
	opts := []gomail.Option{gomail.WithTimeout(cfg.Timeout), gomail.WithTLSConfig(s.tlsConfig), gomail.WithDialContextFunc(s.dial)}
	port := cfg.Port
	switch cfg.TLS {
	case SMTPStartTLS, "":
		opts, port = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory)), cmp.Or(port, 587)
	case SMTPTLS:
		// The dial function does the TLS handshake; WithSSL keeps go-mail
		// from trying STARTTLS on top of it.
		opts, port, s.implicitTLS = append(opts, gomail.WithSSL()), cmp.Or(port, 465), true
	case SMTPNoTLS:
		opts, port = append(opts, gomail.WithTLSPolicy(gomail.NoTLS)), cmp.Or(port, 25)
	}
	if port < 1 || port > 65535 {
		return nil, fmt.Errorf("smtp: port %d is out of range", port)
	}
	opts = append(opts, gomail.WithPort(port))
	if cfg.Username != "" {
		opts = append(opts, gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	return opts, nil
}

// checkSMTPConfig validates cfg, fills in the default timeout and returns
// the parsed From address.
func checkSMTPConfig(cfg *SMTPConfig) (*mail.Address, error) {
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
	switch cfg.TLS {
	case SMTPStartTLS, SMTPTLS, SMTPNoTLS, "":
	default:
		return nil, fmt.Errorf("smtp: tls %q is not starttls, tls or none", cfg.TLS)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	return from, nil
}

// dial opens the TCP connection for go-mail, under the line's guard, and
// does the TLS handshake itself for implicit TLS.
func (s *SMTP) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	conn := s.line.attach(raw)
	if !s.implicitTLS {
		return conn, nil
	}
	tc := tls.Client(conn, s.tlsConfig)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return tc, nil
}

// Name returns "smtp".
func (s *SMTP) Name() string { return "smtp" }

// NeedsTemplate returns true.
func (s *SMTP) NeedsTemplate() bool { return true }

// NeedsBuyerEmail returns true: the message goes to the buyer's relay address.
func (s *SMTP) NeedsBuyerEmail() bool { return true }

// Reconcile cannot ask an SMTP server whether it took a message. It returns
// NotSent when the caller recorded that the interrupted send never reached
// its point of no return (m.BeforePointOfNoReturn), and Unknown otherwise:
// such an order needs an operator.
func (s *SMTP) Reconcile(ctx context.Context, m Message) (Verdict, error) {
	if m.BeforePointOfNoReturn {
		return NotSent, nil
	}
	return Unknown, nil
}

// quitTimeout bounds the polite QUIT of Close, which runs when the daemon
// stops or reloads: a server that does not answer it must not hold either up.
const quitTimeout = 5 * time.Second

// Close ends the connection with QUIT.
func (s *SMTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.session == nil {
		return nil
	}
	s.line.extend(min(s.timeout, s.quit))
	err := s.session.Quit()
	s.drop()
	if err != nil {
		return fmt.Errorf("smtp: close: %w", err)
	}
	return nil
}

// Send mails m to its relay address. An SMTP 4xx answer, or a network
// error or cancellation before the end of the message, returns
// ErrTransient; a 5xx answer ErrPermanent; a refused login ErrAuth; a
// recipient that is not an Amazon relay address ErrPermanent without
// connecting.
//
// Once the server accepted the recipient and holds the message but for the
// final "." that ends it, m.PointOfNoReturn (if set) is called. If it fails,
// the connection is dropped with the message unterminated, which the server
// discards, and Send returns ErrTransient. A connection lost or cancelled
// after the final ".", before the server answered, returns ErrInDoubt
// (which wraps ErrPermanent).
//
// Cancelling ctx cuts the connection at once, whatever step the send is at.
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
	s.line.arm()
	stop := context.AfterFunc(ctx, s.line.cut)
	err = s.deliver(ctx, m, msg)
	if !stop() {
		s.drop() // the line was cut
	}
	s.lastSend = s.now()
	return err
}

// deliver runs one mail transaction for m, dialling first when no
// connection is open.
func (s *SMTP) deliver(ctx context.Context, m Message, msg *gomail.Msg) error {
	if err := s.connect(ctx, m); err != nil {
		return err
	}
	if err := s.session.Mail(s.from.Address); err != nil {
		return s.failed(ctx, m, "MAIL FROM", err, false)
	}
	if err := s.session.Rcpt(m.To); err != nil {
		return s.failed(ctx, m, "RCPT TO", err, false)
	}
	s.line.extend(s.timeout)
	w, err := s.session.Data()
	if err != nil {
		return s.failed(ctx, m, "DATA", err, false)
	}
	if _, err := msg.WriteTo(w); err != nil {
		// The final "." did not go: the server discards what it got.
		return s.failed(ctx, m, "message", err, false)
	}
	// Only the line with the final "." is left to send. Until it goes, a
	// server that loses the connection discards the message (RFC 5321
	// 4.1.1.4): this is the last moment the send can be abandoned.
	if m.PointOfNoReturn != nil {
		if err := m.PointOfNoReturn(); err != nil {
			s.drop() // leaves the message unterminated: the server discards it
			return fmt.Errorf("smtp: order %s: not sent: record the point of no return: %w: %w", m.OrderID, ErrTransient, err)
		}
	}
	if ctx.Err() != nil {
		s.drop()
		return fmt.Errorf("smtp: order %s: not sent: %w: cancelled before the end of the message: %w", m.OrderID, ErrTransient, context.Cause(ctx))
	}
	s.line.extend(s.timeout)
	if err := w.Close(); err != nil {
		return s.failed(ctx, m, "end of message", err, true)
	}
	return nil
}

// connect makes sure a live session is open: the one kept from the last
// send if it still answers NOOP, a new one otherwise.
func (s *SMTP) connect(ctx context.Context, m Message) error {
	if s.session != nil {
		s.line.extend(s.timeout)
		if err := s.session.Noop(); err == nil {
			return nil
		}
		s.drop() // the idle connection is gone; nothing of this message went
	}
	c, err := s.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		s.line.close() // go-mail leaves the connection open when EHLO, TLS or AUTH fail
		if ctx.Err() != nil {
			return fmt.Errorf("smtp: order %s: connect: %w: %w", m.OrderID, ErrTransient, context.Cause(ctx))
		}
		return fmt.Errorf("smtp: order %s: connect: %w", m.OrderID, classifyDial(err, m.To))
	}
	s.session = c
	s.line.extend(s.timeout)
	return nil
}

// failed classifies an error of step (after the whole message went, when
// final), tidies the session up and returns the error to report: an SMTP
// 4xx answer is ErrTransient and a 5xx ErrPermanent; without an answer the
// connection is dropped and the error is ErrInDoubt when final, else
// ErrTransient.
func (s *SMTP) failed(ctx context.Context, m Message, step string, err error, final bool) error {
	code := smtpCode(err)
	var sentinel error
	switch {
	case code >= 400 && code < 500:
		sentinel = ErrTransient
	case code >= 500 && code < 600:
		sentinel = ErrPermanent
	case final:
		sentinel = ErrInDoubt
	default:
		sentinel = ErrTransient
	}
	switch {
	case code == 0:
		s.drop() // without an answer the connection is in an unknown state
	case !final:
		s.reset()
	}
	if ctx.Err() != nil {
		return fmt.Errorf("smtp: order %s: %s: %w: cancelled (%w): %s", m.OrderID, step, sentinel, context.Cause(ctx), describe(err, m.To))
	}
	return fmt.Errorf("smtp: order %s: %s: %w: %s", m.OrderID, step, sentinel, describe(err, m.To))
}

// reset ends the open mail transaction with RSET, or drops the connection
// when even that fails.
func (s *SMTP) reset() {
	s.line.extend(s.timeout)
	if err := s.session.Reset(); err != nil {
		s.drop()
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
	if s.session != nil {
		_ = s.session.Close()
		s.session = nil
	}
	s.line.close()
}

// line is the TCP connection under the SMTP session. Cutting it (when the
// send's context ends) sets a deadline in the past, so a read or write
// blocked on a stalled server returns at once. Every deadline the SMTP and
// TLS libraries set goes through it too, so none of them can undo a cut.
type line struct {
	mu    sync.Mutex
	conn  net.Conn
	isCut bool
}

// cutDeadline is a deadline long past.
var cutDeadline = time.Unix(1, 0)

// attach makes raw the line's connection and returns it guarded.
func (l *line) attach(raw net.Conn) net.Conn {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn = raw
	if l.isCut {
		_ = raw.SetDeadline(cutDeadline)
	}
	return guardedConn{Conn: raw, l: l}
}

// arm readies the line for a new send.
func (l *line) arm() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.isCut = false
}

// cut makes every blocked and later read and write fail at once.
func (l *line) cut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.isCut = true
	if l.conn != nil {
		_ = l.conn.SetDeadline(cutDeadline)
	}
}

// extend gives the next step d, unless the line was cut.
func (l *line) extend(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil && !l.isCut {
		_ = l.conn.SetDeadline(time.Now().Add(d))
	}
}

// close closes the connection.
func (l *line) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		_ = l.conn.Close()
		l.conn = nil
	}
}

// setDeadline applies t unless the line was cut.
func (l *line) setDeadline(t time.Time, set func(time.Time) error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.isCut {
		t = cutDeadline
	}
	return set(t)
}

// guardedConn routes deadlines through its line.
type guardedConn struct {
	net.Conn
	l *line
}

func (c guardedConn) SetDeadline(t time.Time) error { return c.l.setDeadline(t, c.Conn.SetDeadline) }
func (c guardedConn) SetReadDeadline(t time.Time) error {
	return c.l.setDeadline(t, c.Conn.SetReadDeadline)
}
func (c guardedConn) SetWriteDeadline(t time.Time) error {
	return c.l.setDeadline(t, c.Conn.SetWriteDeadline)
}

// smtpCode returns the SMTP reply code carried by err, or 0.
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	var se *gomail.SendError
	if errors.As(err, &se) && se.ErrorCode() != 0 {
		return se.ErrorCode()
	}
	return 0
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
