package channel

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/mail"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	smtpd "github.com/emersion/go-smtp"
)

// received is one message the test SMTP server accepted.
type received struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	User string
}

// smtpBackend records sessions and messages. Recipients whose local part
// starts with "tempfail" get 451, "reject" 550; for "vanish" the server takes
// the message and hangs up before answering.
type smtpBackend struct {
	mu       sync.Mutex
	user     string // AUTH PLAIN is offered when set
	pass     string
	sessions int
	authOK   int
	authBad  int
	msgs     []received
	conns    []*smtpd.Conn
	rcpts    int           // recipients accepted
	stall    chan struct{} // recipients "stallrcpt…" and "stalldata…" wait for it to close
	stalled  chan string   // told "rcpt" or "data" when a session starts to stall
}

func (b *smtpBackend) NewSession(c *smtpd.Conn) (smtpd.Session, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sessions++
	b.conns = append(b.conns, c)
	sess := &smtpSession{b: b, c: c}
	if b.user != "" {
		return &smtpAuthSession{sess}, nil
	}
	return sess, nil
}

func (b *smtpBackend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.msgs...)
}

func (b *smtpBackend) sessionCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.sessions
}

type smtpSession struct {
	b    *smtpBackend
	c    *smtpd.Conn
	from string
	to   []string
	user string
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtpd.MailOptions) error {
	if s.b.user != "" && s.user == "" {
		return smtpd.ErrAuthRequired
	}
	s.from = from
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtpd.RcptOptions) error {
	switch {
	case strings.HasPrefix(to, "tempfail"):
		return &smtpd.SMTPError{Code: 451, EnhancedCode: smtpd.EnhancedCode{4, 3, 0}, Message: "Mailbox " + to + " busy, try again later"}
	case strings.HasPrefix(to, "reject"):
		return &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "Recipient " + to + " rejected"}
	case strings.HasPrefix(to, "stallrcpt"):
		s.b.stallHere("rcpt")
	}
	s.b.mu.Lock()
	s.b.rcpts++
	s.b.mu.Unlock()
	s.to = append(s.to, to)
	return nil
}

// stallHere blocks the session, without answering, until the test ends.
func (b *smtpBackend) stallHere(where string) {
	b.stalled <- where
	<-b.stall
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	_, isTLS := s.c.TLSConnectionState()
	if len(s.to) > 0 && strings.HasPrefix(s.to[0], "stalldata") {
		s.b.stallHere("data") // the whole message is here; the answer never comes
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.b.msgs = append(s.b.msgs, received{From: s.from, To: append([]string(nil), s.to...), Data: data, TLS: isTLS, User: s.user})
	if len(s.to) > 0 && strings.HasPrefix(s.to[0], "vanish") {
		// Take the message, then drop the line before answering.
		s.c.Conn().Close()
	}
	return nil
}

type smtpAuthSession struct{ *smtpSession }

func (s *smtpAuthSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *smtpAuthSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		s.b.mu.Lock()
		defer s.b.mu.Unlock()
		if username != s.b.user || password != s.b.pass {
			s.b.authBad++
			return smtpd.ErrAuthFailed
		}
		s.b.authOK++
		s.user = username
		return nil
	}), nil
}

// selfSigned returns a certificate for 127.0.0.1 and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "campaignd test SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, pool
}

// startSMTP runs a go-smtp server on 127.0.0.1:0 in mode "none",
// "starttls" or "tls" and returns its port and the pool trusting its cert.
func startSMTP(t *testing.T, be *smtpBackend, mode string) (int, *x509.CertPool) {
	t.Helper()
	srv := smtpd.NewServer(be)
	srv.Domain = "localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	// Connection handlers may still log after the test ended: discard.
	srv.ErrorLog = log.New(io.Discard, "", 0)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var pool *x509.CertPool
	if mode != SMTPNoTLS {
		cert, p := selfSigned(t)
		pool = p
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}}
		if mode == SMTPTLS {
			l = tls.NewListener(l, cfg)
		} else {
			srv.TLSConfig = cfg
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		// Close only closes listeners Serve has registered; a test that never
		// connected may get here first, so close this one as well.
		l.Close()
		<-done
	})
	return l.Addr().(*net.TCPAddr).Port, pool
}

func newTestSMTP(t *testing.T, port int, mode string, pool *x509.CertPool, mutate func(*SMTPConfig)) *SMTP {
	t.Helper()
	cfg := SMTPConfig{Host: "127.0.0.1", Port: port, From: "Example Brand <orders@example.com>", TLS: mode,
		Timeout: 10 * time.Second, RootCAs: pool}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := NewSMTP(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func smtpMessage(id, to string) Message {
	m := testMessage(id)
	m.To = to
	m.Subject = "Ihre Bestellung " + id + " – Größe"
	m.Body = "Guten Tag,\nwir würden uns über Ihre Bewertung freuen.\n"
	m.Language = "de"
	return m
}

func parseReceived(t *testing.T, r received) (*mail.Message, string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(r.Data))
	if err != nil {
		t.Fatalf("parse received message: %v\n%s", err, r.Data)
	}
	return msg, decodeBody(t, msg)
}

func TestSMTPSend(t *testing.T) {
	tests := []struct {
		mode     string
		user     string
		wantTLS  bool
		wantUser string
	}{
		{SMTPNoTLS, "", false, ""},
		{SMTPStartTLS, "seller", true, "seller"},
		{SMTPTLS, "seller", true, "seller"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			be := &smtpBackend{user: tt.user, pass: "pa55-w0rd"}
			port, pool := startSMTP(t, be, tt.mode)
			s := newTestSMTP(t, port, tt.mode, pool, func(c *SMTPConfig) { c.Username, c.Password = tt.user, "pa55-w0rd" })
			m := smtpMessage(orderA, "abc123xyz@marketplace.amazon.de")
			if err := s.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			got := be.messages()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			r := got[0]
			if r.From != "orders@example.com" || !reflect.DeepEqual(r.To, []string{"abc123xyz@marketplace.amazon.de"}) {
				t.Errorf("envelope = %q -> %q", r.From, r.To)
			}
			if r.TLS != tt.wantTLS || r.User != tt.wantUser {
				t.Errorf("tls = %v, user = %q; want %v, %q", r.TLS, r.User, tt.wantTLS, tt.wantUser)
			}
			msg, body := parseReceived(t, r)
			if got := decodeHeader(t, msg.Header.Get("Subject")); got != m.Subject {
				t.Errorf("Subject = %q, want %q", got, m.Subject)
			}
			if body != m.Body {
				t.Errorf("body = %q, want %q", body, m.Body)
			}
			for k, v := range map[string]string{
				"To": "<abc123xyz@marketplace.amazon.de>", "From": `"Example Brand" <orders@example.com>`,
				"Message-Id": "<" + orderA + ".campaignd@example.com>", "X-Campaignd-Order": orderA, "Content-Language": "de",
			} {
				if got := msg.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			if v, err := s.Reconcile(context.Background(), m); v != Unknown || err != nil {
				t.Errorf("Reconcile = %v, %v; want unknown", v, err)
			}
		})
	}
}

func TestSMTPConnectionReuse(t *testing.T) {
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPNoTLS)
	s := newTestSMTP(t, port, SMTPNoTLS, nil, nil)
	ctx := context.Background()
	for _, id := range []string{orderA, orderB} {
		if err := s.Send(ctx, smtpMessage(id, "buyer-"+id+"@marketplace.amazon.de")); err != nil {
			t.Fatal(err)
		}
	}
	if n := be.sessionCount(); n != 1 {
		t.Errorf("connections = %d, want 1 for 2 sends", n)
	}
	if n := len(be.messages()); n != 2 {
		t.Errorf("messages = %d, want 2", n)
	}

	// The server drops the idle connection: the next send dials again.
	be.mu.Lock()
	be.conns[0].Close()
	be.mu.Unlock()
	if err := s.Send(ctx, smtpMessage("111-1111111-1111111", "c@marketplace.amazon.de")); err != nil {
		t.Fatalf("send after the server closed the connection: %v", err)
	}
	if n := be.sessionCount(); n != 2 {
		t.Errorf("connections = %d, want 2 after a reconnect", n)
	}
	if n := len(be.messages()); n != 3 {
		t.Errorf("messages = %d, want 3", n)
	}
}

func TestSMTPAnswers(t *testing.T) {
	tests := []struct {
		name string
		to   string
		want error
	}{
		{"451 transient", "tempfail-abc@marketplace.amazon.de", ErrTransient},
		{"550 permanent", "reject-abc@marketplace.amazon.de", ErrPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &smtpBackend{}
			port, _ := startSMTP(t, be, SMTPNoTLS)
			s := newTestSMTP(t, port, SMTPNoTLS, nil, nil)
			err := s.Send(context.Background(), smtpMessage(orderA, tt.to))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), tt.to) || strings.Contains(err.Error(), "-abc@") {
				t.Errorf("error shows the buyer address: %q", err)
			}
			if !strings.Contains(err.Error(), orderA) {
				t.Errorf("error %q lacks the order id", err)
			}
			if n := len(be.messages()); n != 0 {
				t.Errorf("server received %d messages", n)
			}
			// The connection is still good for the next order.
			if err := s.Send(context.Background(), smtpMessage(orderB, "ok@marketplace.amazon.de")); err != nil {
				t.Fatal(err)
			}
			if n := be.sessionCount(); n != 1 {
				t.Errorf("connections = %d, want 1", n)
			}
		})
	}
}

func TestSMTPAuthFailure(t *testing.T) {
	be := &smtpBackend{user: "seller", pass: "right-pa55"}
	port, pool := startSMTP(t, be, SMTPStartTLS)
	s := newTestSMTP(t, port, SMTPStartTLS, pool, func(c *SMTPConfig) { c.Username, c.Password = "seller", "wrong-pa55" })
	err := s.Send(context.Background(), smtpMessage(orderA, "abc@marketplace.amazon.de"))
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("Send = %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "pa55") {
		t.Errorf("error shows the password: %q", err)
	}
	be.mu.Lock()
	bad := be.authBad
	be.mu.Unlock()
	if bad != 1 || len(be.messages()) != 0 {
		t.Errorf("bad logins = %d, messages = %d", bad, len(be.messages()))
	}
	cfg := SMTPConfig{Host: "h", From: "a@b.c", Username: "u", Password: "pa55-secret"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(f, cfg); strings.Contains(out, "pa55") {
			t.Errorf("%s prints the password: %s", f, out)
		}
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPStartTLS)
	s := newTestSMTP(t, port, SMTPStartTLS, x509.NewCertPool(), nil)
	err := s.Send(context.Background(), smtpMessage(orderA, "abc@marketplace.amazon.de"))
	if !errors.Is(err, ErrTransient) {
		t.Fatalf("Send = %v, want ErrTransient", err)
	}
	if n := len(be.messages()); n != 0 {
		t.Errorf("server received %d messages", n)
	}
}

func TestSMTPRecipientChecks(t *testing.T) {
	tests := []struct {
		name, to string
	}{
		{"empty", ""},
		{"not a relay", "buyer@gmail.com"},
		{"lookalike domain", "x@marketplace.amazon.de.evil.com"},
		{"subdomain", "x@evil.marketplace.amazon.de"},
		{"crlf", "x@marketplace.amazon.de\r\nBcc: victim@example.com"},
		{"two recipients", "x@marketplace.amazon.de, victim@example.com"},
		{"display name", "Jane Doe <x@marketplace.amazon.de>"},
	}
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPNoTLS)
	s := newTestSMTP(t, port, SMTPNoTLS, nil, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Send(context.Background(), smtpMessage(orderA, tt.to))
			if !errors.Is(err, ErrPermanent) {
				t.Fatalf("Send = %v, want ErrPermanent", err)
			}
		})
	}
	if n := be.sessionCount(); n != 0 {
		t.Errorf("connected %d times for invalid recipients", n)
	}
	for _, ok := range []string{"a1b2@marketplace.amazon.com", "x@marketplace.amazon.co.uk", "x@m.marketplace.amazon.co.jp", "X@Marketplace.Amazon.DE", "x@marketplace.amazon.com.mx"} {
		if !IsRelayAddress(ok) {
			t.Errorf("IsRelayAddress(%q) = false", ok)
		}
	}
}

func TestSMTPHeaderSafety(t *testing.T) {
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPNoTLS)
	s := newTestSMTP(t, port, SMTPNoTLS, nil, nil)
	m := smtpMessage(orderA, "abc@marketplace.amazon.de")
	m.Subject = "Your order\r\nBcc: victim@example.com\r\n\r\nInjected body"
	m.Marketplace = "Amazon.de\nBcc: victim@example.com"
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := be.messages()[0]
	if !reflect.DeepEqual(r.To, []string{"abc@marketplace.amazon.de"}) {
		t.Errorf("RCPT TO = %q", r.To)
	}
	msg, body := parseReceived(t, r)
	if _, ok := msg.Header["Bcc"]; ok {
		t.Errorf("Bcc header injected:\n%s", r.Data)
	}
	if got := decodeHeader(t, msg.Header.Get("Subject")); got != m.Subject {
		t.Errorf("Subject = %q", got)
	}
	if body != m.Body {
		t.Errorf("body = %q", body)
	}
}

func TestSMTPRateLimit(t *testing.T) {
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPNoTLS)
	clock := newFakeClock()
	s := newTestSMTP(t, port, SMTPNoTLS, nil, func(c *SMTPConfig) {
		c.RatePerMinute, c.Now, c.Sleep = 2, clock.Now, clock.Sleep
	})
	ctx := context.Background()
	for i, id := range []string{orderA, orderB, "111-1111111-1111111"} {
		if i == 2 {
			clock.Advance(10 * time.Second) // time passed on its own counts
		}
		if err := s.Send(ctx, smtpMessage(id, "x"+fmt.Sprint(i)+"@marketplace.amazon.de")); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := clock.Sleeps(), []time.Duration{30 * time.Second, 20 * time.Second}; !reflect.DeepEqual(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
	if n := len(be.messages()); n != 3 {
		t.Errorf("messages = %d", n)
	}
}

func TestSMTPConfigErrors(t *testing.T) {
	for _, cfg := range []SMTPConfig{
		{From: "a@b.c"},
		{Host: "h"},
		{Host: "h", From: "not an address"},
		{Host: "h", From: "a@b.c", TLS: "ssl"},
		{Host: "h", From: "a@b.c", Port: 70000},
		{Host: "h", From: "a@b.c", RatePerMinute: -1},
	} {
		if _, err := NewSMTP(cfg); err == nil {
			t.Errorf("NewSMTP(%v) succeeded", cfg)
		}
	}
}

func TestSMTPInDoubt(t *testing.T) {
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPNoTLS)
	s := newTestSMTP(t, port, SMTPNoTLS, nil, nil)
	ctx := context.Background()
	err := s.Send(ctx, smtpMessage(orderA, "vanish-abc@marketplace.amazon.de"))
	if !errors.Is(err, ErrInDoubt) || !errors.Is(err, ErrPermanent) || errors.Is(err, ErrTransient) {
		t.Fatalf("Send = %v, want ErrInDoubt (wrapping ErrPermanent)", err)
	}
	if strings.Contains(err.Error(), "vanish-abc") {
		t.Errorf("error shows the buyer address: %q", err)
	}
	// The server did take the message: retrying would have sent it twice.
	if n := len(be.messages()); n != 1 {
		t.Errorf("server holds %d messages, want 1", n)
	}
	if err := s.Send(ctx, smtpMessage(orderB, "ok@marketplace.amazon.de")); err != nil {
		t.Fatalf("send after the lost connection: %v", err)
	}
	if n := be.sessionCount(); n != 2 {
		t.Errorf("connections = %d, want 2", n)
	}
}

// TestSMTPPointOfNoReturn: the hook runs once the server accepted the
// recipient, before the message is complete at the server; a hook that
// fails abandons the send, and the server discards the unterminated
// message.
func TestSMTPPointOfNoReturn(t *testing.T) {
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPNoTLS)
	s := newTestSMTP(t, port, SMTPNoTLS, nil, nil)
	ctx := context.Background()

	calls := 0
	m := smtpMessage(orderA, "abc@marketplace.amazon.de")
	m.PointOfNoReturn = func() error {
		calls++
		be.mu.Lock()
		defer be.mu.Unlock()
		if be.rcpts != 1 || len(be.msgs) != 0 {
			t.Errorf("at the point of no return the server accepted %d recipients and holds %d messages, want 1 and 0", be.rcpts, len(be.msgs))
		}
		return nil
	}
	if err := s.Send(ctx, m); err != nil || calls != 1 || len(be.messages()) != 1 {
		t.Fatalf("Send = %v with %d hook calls and %d messages at the server, want nil, 1, 1", err, calls, len(be.messages()))
	}

	// A refused recipient never reaches the point of no return.
	refused := smtpMessage(orderB, "reject-abc@marketplace.amazon.de")
	refused.PointOfNoReturn = func() error { t.Error("hook called for a refused recipient"); return nil }
	if err := s.Send(ctx, refused); !errors.Is(err, ErrPermanent) {
		t.Fatalf("refused recipient: %v", err)
	}

	// A hook that cannot record the point of no return stops the send.
	failing := smtpMessage("111-1111111-1111111", "def@marketplace.amazon.de")
	failing.PointOfNoReturn = func() error { return errors.New("ledger: disk full") }
	err := s.Send(ctx, failing)
	if !errors.Is(err, ErrTransient) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("failing hook: Send = %v, want ErrTransient naming the cause", err)
	}
	if n := len(be.messages()); n != 1 {
		t.Fatalf("server holds %d messages after a failed hook, want 1", n)
	}
	// The connection was dropped with the message unterminated; the next
	// send dials again.
	if err := s.Send(ctx, smtpMessage("222-2222222-2222222", "ghi@marketplace.amazon.de")); err != nil {
		t.Fatal(err)
	}
	if n, sessions := len(be.messages()), be.sessionCount(); n != 2 || sessions != 2 {
		t.Errorf("messages = %d, connections = %d; want 2 and 2", n, sessions)
	}
}

func TestSMTPReconcileKnowsBeforePointOfNoReturn(t *testing.T) {
	s := newTestSMTP(t, 25, SMTPNoTLS, nil, func(c *SMTPConfig) { c.Host = "127.0.0.1" })
	m := smtpMessage(orderA, "abc@marketplace.amazon.de")
	if v, err := s.Reconcile(context.Background(), m); v != Unknown || err != nil {
		t.Errorf("Reconcile without a record = %v, %v; want unknown", v, err)
	}
	m.BeforePointOfNoReturn = true
	if v, err := s.Reconcile(context.Background(), m); v != NotSent || err != nil {
		t.Errorf("Reconcile before the point of no return = %v, %v; want not_sent", v, err)
	}
}

// TestSMTPCancelStalledSend: a server that stops answering does not hold a
// send beyond its context: before the point of no return the send is a safe
// retry, after the whole message went it is in doubt. Either way the next
// send dials a fresh connection.
func TestSMTPCancelStalledSend(t *testing.T) {
	tests := []struct {
		to, where string
		want      error
		hook      int
	}{
		{"stallrcpt-abc@marketplace.amazon.de", "rcpt", ErrTransient, 0},
		{"stalldata-abc@marketplace.amazon.de", "data", ErrInDoubt, 1},
	}
	for _, tt := range tests {
		t.Run(tt.where, func(t *testing.T) {
			be := &smtpBackend{stall: make(chan struct{}), stalled: make(chan string, 1)}
			port, _ := startSMTP(t, be, SMTPNoTLS)
			t.Cleanup(func() { close(be.stall) })
			// The configured timeout is far away: only the cancellation ends the send.
			s := newTestSMTP(t, port, SMTPNoTLS, nil, func(c *SMTPConfig) { c.Timeout = time.Hour })
			ctx, cancel := context.WithCancel(context.Background())
			m := smtpMessage(orderA, tt.to)
			hook := 0
			m.PointOfNoReturn = func() error { hook++; return nil }
			done := make(chan error, 1)
			go func() { done <- s.Send(ctx, m) }()
			if got := <-be.stalled; got != tt.where {
				t.Fatalf("server stalled at %s, want %s", got, tt.where)
			}
			cancel()
			select {
			case err := <-done:
				if !errors.Is(err, tt.want) || !errors.Is(err, context.Canceled) {
					t.Fatalf("Send = %v, want %v wrapping context.Canceled", err, tt.want)
				}
				if tt.want == ErrTransient && errors.Is(err, ErrPermanent) {
					t.Errorf("a send cancelled before the point of no return is not a safe retry: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Send did not return after its context was cancelled")
			}
			if hook != tt.hook {
				t.Errorf("hook calls = %d, want %d", hook, tt.hook)
			}
			if err := s.Send(context.Background(), smtpMessage(orderB, "ok@marketplace.amazon.de")); err != nil {
				t.Fatalf("send after the cancelled one: %v", err)
			}
			if n := be.sessionCount(); n != 2 {
				t.Errorf("connections = %d, want 2 (the cut one and a fresh one)", n)
			}
		})
	}
}

// quietProxy forwards a TCP connection to addr until the client says QUIT,
// and from then on swallows what the client sends: a server that never
// answers QUIT.
func quietProxy(t *testing.T, addr string) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", addr)
			if err != nil {
				c.Close()
				return
			}
			t.Cleanup(func() { c.Close(); up.Close() })
			go io.Copy(c, up)
			go func() {
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					if bytes.Contains(bytes.ToUpper(buf[:n]), []byte("QUIT")) {
						io.Copy(io.Discard, c)
						return
					}
					up.Write(buf[:n])
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestSMTPCloseDoesNotWaitForQuit: Close, which runs when the daemon stops
// or reloads, gives a server that does not answer QUIT a few seconds, not
// the whole command timeout.
func TestSMTPCloseDoesNotWaitForQuit(t *testing.T) {
	t.Parallel()
	be := &smtpBackend{}
	port, _ := startSMTP(t, be, SMTPNoTLS)
	s := newTestSMTP(t, quietProxy(t, fmt.Sprintf("127.0.0.1:%d", port)), SMTPNoTLS, nil, func(c *SMTPConfig) { c.Timeout = time.Hour })
	if s.quit != quitTimeout {
		t.Fatalf("QUIT is given %s, want quitTimeout (%s)", s.quit, quitTimeout)
	}
	s.quit = 300 * time.Millisecond // the wait is the same code, shorter
	if err := s.Send(context.Background(), smtpMessage(orderA, "abc@marketplace.amazon.de")); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err := s.Close()
	if took := time.Since(start); took > s.quit+time.Second {
		t.Fatalf("Close took %s with a server that does not answer QUIT, want about %s", took, s.quit)
	}
	if err == nil {
		t.Error("Close reported no error although QUIT got no answer")
	}
}
