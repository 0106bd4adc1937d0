package scheduler_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

// mailServer is a real SMTP server (emersion/go-smtp) that records what it
// accepts. Recipients whose local part starts with "reject" get a 550.
type mailServer struct {
	mu   sync.Mutex
	msgs []mailMsg
	// onData, when set, is called as a message arrives, before the server
	// answers it; onRcpt as a recipient arrives, before it is answered.
	onData func(to []string)
	onRcpt func(to string)
}

type mailMsg struct {
	to   []string
	data string
}

func (m *mailServer) NewSession(*smtpd.Conn) (smtpd.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct {
	m  *mailServer
	to []string
}

func (s *mailSession) Reset()                                { s.to = nil }
func (s *mailSession) Logout() error                         { return nil }
func (s *mailSession) Mail(string, *smtpd.MailOptions) error { return nil }
func (s *mailSession) Rcpt(to string, _ *smtpd.RcptOptions) error {
	if strings.HasPrefix(to, "reject") {
		return &smtpd.SMTPError{Code: 550, EnhancedCode: smtpd.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	if s.m.onRcpt != nil {
		s.m.onRcpt(to)
	}
	s.to = append(s.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.m.onData != nil {
		s.m.onData(s.to)
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, mailMsg{to: s.to, data: string(b)})
	s.m.mu.Unlock()
	return nil
}

func (m *mailServer) received() []mailMsg {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]mailMsg(nil), m.msgs...)
}

func startMailServer(t *testing.T) (*mailServer, int) {
	t.Helper()
	m := &mailServer{}
	srv := smtpd.NewServer(m)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return m, ln.Addr().(*net.TCPAddr).Port
}

// smtpEnv opens an env whose Amazon.com campaign mails through mail, and
// ingests a shipments report with one order per id, each with a relay
// address.
func smtpEnv(t *testing.T, port int, ids ...string) *env {
	t.Helper()
	e := openEnv(t, fmt.Sprintf(`[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = %q
channel = "smtp"
[channel.smtp]
host = "127.0.0.1"
port = %d
from = "orders@example.com"
tls = "none"
`, enTemplate(t), port))
	var rows strings.Builder
	rows.WriteString("amazon-order-id\tshipment-id\tpurchase-date\tshipment-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\testimated-arrival-date\tsales-channel\n")
	for i, id := range ids {
		fmt.Fprintf(&rows, "%s\tS%d\t2026-11-01T10:00:00-08:00\t2026-11-02T10:00:00-08:00\tbuyer%d@marketplace.amazon.com\tJane Buyer\tSKU1\tWater Bottle\t2026-11-05T10:00:00-08:00\tAmazon.com\n", id, i, i)
	}
	e.ingest("shipments.txt", rows.String(), at("2026-11-03T00:00:00Z"))
	return e
}

// TestSMTPPointOfNoReturnIsDurableBeforeData: when the message reaches the
// server, the ledger already holds the order's point of no return.
func TestSMTPPointOfNoReturnIsDurableBeforeData(t *testing.T) {
	mail, port := startMailServer(t)
	const id = "111-0000001-0000001"
	e := smtpEnv(t, port, id)
	var atData ledger.Record
	mail.onData = func([]string) { atData, _, _ = e.ledger.Get(ledger.Key{OrderID: id}) }
	if st := e.pass(at("2026-11-11T00:00:00Z")); st.Sent != 1 {
		t.Fatalf("pass = %+v", st)
	}
	if atData.State != ledger.Claimed || atData.DeliveringAt.IsZero() {
		t.Fatalf("as the message arrived the order was %s with DeliveringAt %v, want claimed with it set", atData.State, atData.DeliveringAt)
	}
	if rec := e.state(id); rec.State != ledger.Sent {
		t.Fatalf("after the pass: %s", rec.State)
	}
}

// TestReconcileClaimedSMTP: after a crash, an order whose send had not
// reached the point of no return is sent again (once); one that had is in
// doubt and never sent again automatically.
func TestReconcileClaimedSMTP(t *testing.T) {
	mail, port := startMailServer(t)
	const before, during = "111-0000001-0000001", "111-0000002-0000002"
	e := smtpEnv(t, port, before, during)
	now := at("2026-11-11T00:00:00Z")
	for _, id := range []string{before, during} {
		if _, err := e.ledger.Claim(ledger.Key{OrderID: id}, "smtp", now); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.ledger.MarkDelivering(ledger.Key{OrderID: during}, now); err != nil {
		t.Fatal(err)
	}
	st, err := e.engine.Reconcile(context.Background(), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if st.Retried != 1 || st.InDoubt != 1 {
		t.Fatalf("reconcile = %+v, want 1 retried and 1 in doubt", st)
	}
	if rec := e.state(before); rec.State != ledger.Scheduled {
		t.Errorf("claimed before the point of no return: %s (%s), want scheduled", rec.State, rec.Reason)
	}
	if rec := e.state(during); rec.State != ledger.InDoubt {
		t.Errorf("claimed past the point of no return: %s, want in_doubt", rec.State)
	}
	if st := e.pass(now.Add(2 * time.Minute)); st.Sent != 1 {
		t.Fatalf("pass after reconcile = %+v, want the retried order sent", st)
	}
	got := mail.received()
	if len(got) != 1 || !strings.Contains(got[0].data, before) {
		t.Fatalf("server received %d messages, want one for %s", len(got), before)
	}
	if rec := e.state(before); rec.State != ledger.Sent {
		t.Errorf("retried order: %s, want sent", rec.State)
	}
}

// TestSMTPChannel sends through a real SMTP server: the relay address from an
// FBA shipments report is used and then purged; a 550 ends as failed.
func TestSMTPChannel(t *testing.T) {
	mail, port := startMailServer(t)
	e := openEnv(t, fmt.Sprintf(`[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = %q
channel = "smtp"
[channel.smtp]
host = "127.0.0.1"
port = %d
from = "orders@example.com"
tls = "none"
`, enTemplate(t), port))
	l, eng := e.ledger, e.engine

	hdr := "amazon-order-id\tshipment-id\tpurchase-date\tshipment-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\testimated-arrival-date\tsales-channel\n"
	rows := "111-0000001-0000001\tS1\t2026-11-01T10:00:00-08:00\t2026-11-02T10:00:00-08:00\tabc123@marketplace.amazon.com\tJane Buyer\tSKU1\tWater Bottle\t2026-11-05T10:00:00-08:00\tAmazon.com\n" +
		"111-0000002-0000002\tS2\t2026-11-01T10:00:00-08:00\t2026-11-02T10:00:00-08:00\treject99@marketplace.amazon.com\tJoe Buyer\tSKU1\tWater Bottle\t2026-11-05T10:00:00-08:00\tAmazon.com\n"
	e.ingest("shipments.txt", hdr+rows, at("2026-11-03T00:00:00Z"))
	r, _, _ := l.Get(ledger.Key{OrderID: "111-0000001-0000001"})
	if r.State != ledger.Scheduled || r.Order.BuyerEmail == "" {
		t.Fatalf("record before the send: %s, buyer email kept %v", r.State, r.Order.BuyerEmail != "")
	}
	st, err := eng.Pass(context.Background(), at("2026-11-11T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.Failed != 1 {
		t.Fatalf("pass = %+v", st)
	}
	got := mail.received()
	if len(got) != 1 || len(got[0].to) != 1 || got[0].to[0] != "abc123@marketplace.amazon.com" {
		t.Fatalf("server received %+v", got)
	}
	if !strings.Contains(got[0].data, "111-0000001-0000001") || !strings.Contains(got[0].data, "orders@example.com") {
		t.Fatalf("message:\n%s", got[0].data)
	}
	sent, _, _ := l.Get(ledger.Key{OrderID: "111-0000001-0000001"})
	if sent.State != ledger.Sent || sent.Order.BuyerEmail != "" || sent.Order.BuyerName != "" {
		t.Fatalf("after the send: state %s, buyer data purged %v", sent.State, sent.Order.BuyerEmail == "" && sent.Order.BuyerName == "")
	}
	failed, _, _ := l.Get(ledger.Key{OrderID: "111-0000002-0000002"})
	if failed.State != ledger.Failed || failed.Order.BuyerEmail != "" {
		t.Fatalf("550: state %s (%s)", failed.State, failed.Reason)
	}
	if strings.Contains(failed.Reason, "reject99") || strings.Contains(failed.LastError, "reject99") {
		t.Fatalf("the buyer's address leaked into the ledger's reason: %q / %q", failed.Reason, failed.LastError)
	}
	if st, _ := eng.Pass(context.Background(), at("2026-11-12T00:00:00Z")); st.Sent != 0 || len(mail.received()) != 1 {
		t.Fatalf("second pass sent again: %+v", st)
	}
}

// TestStopSends: stopping cancels a send that has not reached its point of
// no return at once (the order goes again at the next pass, with no
// back-off and no problem recorded), gives one whose message is out a grace
// period for the server's answer (then it is in doubt), and lets no later
// send start.
func TestStopSends(t *testing.T) {
	tests := []struct {
		name      string
		stallRcpt bool
		answer    bool // the server answers within the grace period
		want      ledger.State
	}{
		{"stalled before the point of no return", true, false, ledger.Scheduled},
		{"message out, no answer", false, false, ledger.InDoubt},
		{"message out, answer within the grace", false, true, ledger.Sent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mail, port := startMailServer(t)
			const id, later = "111-0000001-0000001", "111-0000002-0000002"
			e := smtpEnv(t, port, id, later)
			stalled, release := make(chan struct{}), make(chan struct{})
			t.Cleanup(func() { close(release) })
			stall := func() {
				close(stalled)
				<-release
			}
			stopped := make(chan struct{})
			switch {
			case tt.stallRcpt:
				mail.onRcpt = func(string) { stall() }
			case tt.answer:
				mail.onData = func([]string) { close(stalled); <-stopped }
			default:
				mail.onData = func([]string) { stall() }
			}
			now := at("2026-11-11T00:00:00Z")
			ctx, cancel := context.WithCancel(context.Background())
			passDone := make(chan scheduler.PassStats, 1)
			go func() {
				st, err := e.engine.Pass(ctx, now)
				if err != nil {
					t.Error(err)
				}
				passDone <- st
			}()
			<-stalled
			cancel() // the pass takes no new work ...
			e.engine.StopSends(200 * time.Millisecond)
			close(stopped) // ... and a server that answers now does so within the grace
			select {
			case <-passDone:
			case <-time.After(20 * time.Second):
				t.Fatal("the pass did not end after StopSends")
			}
			rec := e.state(id)
			if rec.State != tt.want {
				t.Fatalf("the order in flight is %s (%s), want %s", rec.State, rec.Reason, tt.want)
			}
			if tt.want == ledger.Scheduled && (!rec.SendAt.Equal(now) || rec.LastError != "") {
				t.Errorf("cancelled before the point of no return: send at %s, last error %q; want again at %s, no problem", rec.SendAt, rec.LastError, now)
			}
			if later := e.state(later); later.State != ledger.Scheduled || later.Attempts != 0 {
				t.Errorf("the next order was touched: %s after %d attempts", later.State, later.Attempts)
			}
			// Once stopping, no send starts, even from a pass not told to stop.
			mail.onRcpt, mail.onData = nil, nil
			before := len(mail.received())
			e.engine.Pass(context.Background(), now)
			if n := len(mail.received()); n != before {
				t.Errorf("%d messages went after StopSends", n-before)
			}
		})
	}
}
