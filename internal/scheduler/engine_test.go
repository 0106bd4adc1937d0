package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"campaignd/internal/channel"
	"campaignd/internal/config"
	"campaignd/internal/ledger"
	"campaignd/internal/lwa"
	"campaignd/internal/scheduler"
)

const header = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\tproduct-name\tsku\tasin\titem-status\tquantity\n"

// row builds one All Orders line.
func row(id, purchase, updated, status, channel, product, itemStatus string) string {
	return strings.Join([]string{id, "", purchase, updated, status, "Amazon", channel, product, "SKU-1", "B0TEST0001", itemStatus, "1"}, "\t") + "\n"
}

type env struct {
	t      *testing.T
	dir    string
	cfg    *config.Config
	ledger *ledger.Ledger
	engine *scheduler.Engine
}

// baseConfig is the part of every test config that is not about campaigns.
const baseConfig = `seller_name = "Test Brand"
[ledger]
path = "campaignd.db"
[inbox]
dir = "inbox"
processed_dir = "processed"
rejected_dir = "rejected"
[control]
socket = "c.sock"
`

// openEnv writes baseConfig plus campaigns (TOML) into a temporary folder
// and opens a real ledger and engine on it. The ledger's invariants are
// checked when the test ends.
func openEnv(t *testing.T, campaigns string) *env {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(path, []byte(baseConfig+campaigns), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	setup := newSetup(t, cfg)
	l, err := ledger.Open(cfg.Ledger.Path, ledger.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := l.Check(); err != nil {
			t.Errorf("ledger invariants: %v", err)
		}
		l.Close()
	})
	return &env{t: t, dir: dir, cfg: cfg, ledger: l, engine: scheduler.NewEngine(l, setup, nil)}
}

// enTemplate is the shipped English template's absolute path.
func enTemplate(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs("../../templates/review-request.en.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newEnv is an engine with one English outbox campaign for Amazon.com.
func newEnv(t *testing.T) *env {
	t.Helper()
	return openEnv(t, fmt.Sprintf(`[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = %q
channel = "outbox"
[channel.outbox]
dir = "outbox"
`, enTemplate(t)))
}

// newSetup builds cfg's setup with the senders its campaigns use, opened as
// cmd/campaignd opens them, and closes it when the test ends.
func newSetup(t *testing.T, cfg *config.Config) *scheduler.Setup {
	t.Helper()
	s, err := scheduler.NewSetup(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if cfg.Uses("outbox") {
		s.Senders["outbox"] = must(channel.NewOutbox(channel.OutboxConfig{Dir: cfg.Channel.Outbox.Dir}))(t)
	}
	if sc := cfg.Channel.SMTP; cfg.Uses("smtp") {
		s.Senders["smtp"] = must(channel.NewSMTP(channel.SMTPConfig{Host: sc.Host, Port: sc.Port, From: sc.From, TLS: sc.TLS,
			Timeout: sc.Timeout.Duration, RatePerMinute: sc.RatePerMinute, Now: time.Now}))(t)
	}
	if sp := cfg.Channel.SPAPI; cfg.Uses("spapi") {
		tokens := must(lwa.New(lwa.Config{TokenEndpoint: sp.TokenEndpoint, ClientID: sp.ClientID,
			ClientSecret: sp.ClientSecret, RefreshToken: sp.RefreshToken}))(t)
		s.Senders["spapi"] = must(channel.NewSPAPI(channel.SPAPIConfig{Endpoint: sp.Endpoint, Tokens: tokens}))(t)
	}
	return s
}

// must returns v, or fails the test with err.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func (e *env) ingest(name, content string, now time.Time) scheduler.IngestReport {
	e.t.Helper()
	p := filepath.Join(e.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	rep, err := e.engine.Ingest(context.Background(), p, now)
	if err != nil {
		e.t.Fatalf("ingest %s: %v", name, err)
	}
	return rep
}

func (e *env) pass(now time.Time) scheduler.PassStats {
	e.t.Helper()
	st, err := e.engine.Pass(context.Background(), now)
	if err != nil {
		e.t.Fatalf("pass at %v: %v", now, err)
	}
	return st
}

func (e *env) outbox() []string {
	e.t.Helper()
	ents, err := os.ReadDir(filepath.Join(e.dir, "outbox"))
	if err != nil && !os.IsNotExist(err) {
		e.t.Fatal(err)
	}
	var names []string
	for _, de := range ents {
		names = append(names, de.Name())
	}
	sort.Strings(names)
	return names
}

func (e *env) state(id string) ledger.Record {
	e.t.Helper()
	r, ok, err := e.ledger.Get(ledger.Key{OrderID: id})
	if err != nil || !ok {
		e.t.Fatalf("get %s: %v, %v", id, ok, err)
	}
	return r
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestSendsExactlyOnce(t *testing.T) {
	e := newEnv(t)
	rep := e.ingest("orders.txt", header+
		row("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped")+
		row("111-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Pending", "Amazon.com", "Water Bottle", "Unshipped"),
		at("2026-11-05T00:00:00Z"))
	if rep.Stats.New != 2 || rep.Summary.Rows != 2 {
		t.Fatalf("ingest report %+v", rep)
	}
	// Delivered 11-04 10:00 + 5 days: due 11-09 10:00.
	if st := e.pass(at("2026-11-09T09:59:59Z")); st.Sent != 0 || len(e.outbox()) != 0 {
		t.Fatalf("sent before the send time: %+v %v", st, e.outbox())
	}
	if st := e.pass(at("2026-11-09T10:00:00Z")); st.Sent != 1 {
		t.Fatalf("pass at the send time: %+v", st)
	}
	if got := e.outbox(); len(got) != 1 || got[0] != "111-0000001-0000001.eml" {
		t.Fatalf("outbox = %v", got)
	}
	eml, _ := os.ReadFile(filepath.Join(e.dir, "outbox", "111-0000001-0000001.eml"))
	if !strings.Contains(string(eml), "111-0000001-0000001") {
		t.Errorf("message does not carry the order id:\n%s", eml)
	}
	if r := e.state("111-0000001-0000001"); r.State != ledger.Sent {
		t.Fatalf("state = %s", r.State)
	}
	// The same bytes again change nothing; a second pass writes nothing.
	again := e.ingest("orders-copy.txt", header+
		row("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped")+
		row("111-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-02T10:00:00Z", "Pending", "Amazon.com", "Water Bottle", "Unshipped"),
		at("2026-11-10T00:00:00Z"))
	if !again.Duplicate {
		t.Fatalf("same bytes not recognised: %+v", again)
	}
	if st := e.pass(at("2026-11-12T00:00:00Z")); st.Sent != 0 || len(e.outbox()) != 1 {
		t.Fatalf("second pass sent again: %+v %v", st, e.outbox())
	}
	// A later report about the sent order (new bytes) cannot reschedule it.
	e.ingest("later.txt", header+row("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-11T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"), at("2026-11-12T00:00:00Z"))
	if r := e.state("111-0000001-0000001"); r.State != ledger.Sent {
		t.Fatalf("state after a later report = %s", r.State)
	}
	if st := e.pass(at("2026-11-20T00:00:00Z")); st.Sent != 0 {
		t.Fatalf("sent again: %+v", st)
	}
}

func TestCancellationStopsPendingSend(t *testing.T) {
	e := newEnv(t)
	e.ingest("a.txt", header+row("111-0000003-0000003", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped", "Amazon.com", "Bottle", "Shipped"), at("2026-11-03T12:00:00Z"))
	if r := e.state("111-0000003-0000003"); r.State != ledger.Scheduled {
		t.Fatalf("state = %s (%s)", r.State, r.Reason)
	}
	e.ingest("b.txt", header+row("111-0000003-0000003", "2026-11-01T10:00:00Z", "2026-11-05T10:00:00Z", "Cancelled", "Amazon.com", "Bottle", "Cancelled"), at("2026-11-05T12:00:00Z"))
	e.pass(at("2026-11-20T00:00:00Z"))
	if len(e.outbox()) != 0 {
		t.Fatalf("a cancelled order was sent: %v", e.outbox())
	}
	if r := e.state("111-0000003-0000003"); r.State != ledger.Excluded || !strings.Contains(r.Reason, "cancelled") {
		t.Fatalf("state = %s (%s)", r.State, r.Reason)
	}
}

func TestNothingAtOrAfterDeadline(t *testing.T) {
	for _, tt := range []struct {
		name string
		now  time.Time
		sent bool
	}{
		{"the send margin and a second before", at("2026-12-01T00:00:00Z").Add(-scheduler.SendMargin - time.Second), true},
		{"exactly the send margin before: a slow send could end at the deadline", at("2026-12-01T00:00:00Z").Add(-scheduler.SendMargin), false},
		{"one second before", at("2026-11-30T23:59:59Z"), false},
		{"exactly at purchase + 30 days", at("2026-12-01T00:00:00Z"), false},
		{"after", at("2026-12-05T00:00:00Z"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			// Delivered late: due 11-28, deadline 12-01 00:00.
			e.ingest("a.txt", header+row("111-0000004-0000004", "2026-11-01T00:00:00Z", "2026-11-23T00:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"), at("2026-11-23T01:00:00Z"))
			e.pass(tt.now)
			r := e.state("111-0000004-0000004")
			if got := len(e.outbox()) == 1; got != tt.sent {
				t.Fatalf("sent = %v, want %v (state %s, %s)", got, tt.sent, r.State, r.Reason)
			}
			if !tt.sent && r.State != ledger.Expired {
				t.Fatalf("state = %s, want expired", r.State)
			}
		})
	}
}

func TestRenderedMessageRefused(t *testing.T) {
	e := newEnv(t)
	e.ingest("a.txt", header+row("111-0000005-0000005", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle - visit www.cheap-bottles.example for 50% off", "Shipped"), at("2026-11-03T12:00:00Z"))
	st := e.pass(at("2026-11-10T00:00:00Z"))
	if st.Refused != 1 || len(e.outbox()) != 0 {
		t.Fatalf("pass = %+v, outbox %v: a message with a link in the product name must be refused", st, e.outbox())
	}
	r := e.state("111-0000005-0000005")
	if r.State != ledger.Scheduled || !strings.Contains(r.Refusal, "P-LINK") {
		t.Fatalf("state %s refusal %q: want scheduled with the P-LINK refusal recorded", r.State, r.Refusal)
	}
	probs, err := e.ledger.RecentProblems(5)
	if err != nil || len(probs) == 0 {
		t.Fatalf("refusal not among recent problems: %v %v", probs, err)
	}
}

func TestReconcileAfterCrash(t *testing.T) {
	e := newEnv(t)
	e.ingest("a.txt", header+
		row("111-0000006-0000006", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped")+
		row("111-0000007-0000007", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"),
		at("2026-11-03T12:00:00Z"))
	now := at("2026-11-10T00:00:00Z")
	// Simulate crashes: both claimed; the first one's file was written before the crash.
	for _, id := range []string{"111-0000006-0000006", "111-0000007-0000007"} {
		if _, err := e.ledger.Claim(ledger.Key{OrderID: id}, "outbox", now); err != nil {
			t.Fatal(err)
		}
	}
	ob := e.engine.Setup().Senders["outbox"]
	if err := ob.Send(context.Background(), channel.Message{OrderID: "111-0000006-0000006", Marketplace: "Amazon.com", Subject: "s", Body: "b", Date: now}); err != nil {
		t.Fatal(err)
	}
	st, err := e.engine.Reconcile(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.Retried != 1 {
		t.Fatalf("reconcile = %+v", st)
	}
	if r := e.state("111-0000006-0000006"); r.State != ledger.Sent {
		t.Fatalf("written before the crash: state %s", r.State)
	}
	if r := e.state("111-0000007-0000007"); r.State != ledger.Scheduled {
		t.Fatalf("not written before the crash: state %s", r.State)
	}
	e.pass(now)
	if got := e.outbox(); len(got) != 2 {
		t.Fatalf("outbox = %v", got)
	}
	if st := e.pass(now.Add(time.Hour)); st.Sent != 0 {
		t.Fatalf("sent twice: %+v", st)
	}
}

func TestRejectedFileLeavesLedgerAlone(t *testing.T) {
	e := newEnv(t)
	rep := e.ingest("notes.txt", "hello\nthis is not a report\n", at("2026-11-03T12:00:00Z"))
	if !rep.Rejected || rep.Reason == "" {
		t.Fatalf("report = %+v, want rejected with a reason", rep)
	}
	c, err := e.ledger.Counts()
	if err != nil || c.Total != 0 {
		t.Fatalf("counts = %+v, %v", c, err)
	}
	files, err := e.ledger.RecentFiles(5)
	if err != nil || len(files) != 1 || files[0].Outcome != "rejected" {
		t.Fatalf("recent files = %+v, %v", files, err)
	}
}

// TestVerdictOfIngestedOrders asks the verdict a pass would get, as
// `campaignd plan` does, at instants around an ingested order's send time
// and deadline; asking sends and changes nothing.
func TestVerdictOfIngestedOrders(t *testing.T) {
	e := newEnv(t)
	e.ingest("a.txt", header+
		row("111-0000008-0000008", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped")+
		row("111-0000009-0000009", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Cancelled", "Amazon.com", "Bottle", "Cancelled"),
		at("2026-11-03T12:00:00Z"))
	rules := e.engine.Setup().Rules
	due, cancelled := e.state("111-0000008-0000008"), e.state("111-0000009-0000009")
	for _, tt := range []struct {
		name   string
		rec    ledger.Record
		at     time.Time
		action scheduler.Action
		state  ledger.State
		reason string
	}{
		{"at the send time", due, at("2026-11-08T10:00:00Z"), scheduler.Send, ledger.Scheduled, ""},
		{"a second before it", due, at("2026-11-08T09:59:59Z"), scheduler.Hold, ledger.Scheduled, "not due until 2026-11-08T10:00:00Z"},
		{"within the send margin of the deadline", due, at("2026-12-01T10:00:00Z").Add(-scheduler.SendMargin), scheduler.Expire, ledger.Expired, "too close to the deadline"},
		{"excluded", cancelled, at("2026-11-08T10:00:00Z"), scheduler.Hold, ledger.Excluded, "cancelled"},
	} {
		v := rules.Verdict(tt.rec, tt.at)
		if v.Action != tt.action || v.State != tt.state || !strings.Contains(v.Reason, tt.reason) {
			t.Errorf("%s: verdict %+v, want action %d, state %s, reason with %q", tt.name, v, tt.action, tt.state, tt.reason)
		}
	}
	if len(e.outbox()) != 0 {
		t.Fatal("a verdict sent something")
	}
	if r := e.state("111-0000008-0000008"); r.State != ledger.Scheduled || !r.SendAt.Equal(due.SendAt) {
		t.Fatalf("a verdict changed the order: %s at %v", r.State, r.SendAt)
	}
}

func TestSwapRedecides(t *testing.T) {
	e := newEnv(t)
	e.ingest("a.txt", header+row("111-0000010-0000010", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"), at("2026-11-03T12:00:00Z"))
	if r := e.state("111-0000010-0000010"); r.State != ledger.Scheduled {
		t.Fatalf("state = %s", r.State)
	}
	// The seller excludes the SKU and reloads: the pending send stops.
	path := filepath.Join(e.dir, "reloaded.toml")
	body := baseConfig + fmt.Sprintf("[exclude]\nskus = [\"SKU-1\"]\n[[campaign]]\nname = \"en\"\nsales_channels = [\"Amazon.com\"]\ntemplate = %q\nchannel = \"outbox\"\n[channel.outbox]\ndir = \"outbox\"\n", enTemplate(t))
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	next := newSetup(t, cfg)
	if _, err := e.engine.Swap(next, at("2026-11-04T00:00:00Z")); err != nil {
		t.Fatal(err)
	}
	if r := e.state("111-0000010-0000010"); r.State != ledger.Excluded || !strings.Contains(r.Reason, "SKU-1") {
		t.Fatalf("after reload: %s (%s)", r.State, r.Reason)
	}
	if st := e.pass(at("2026-11-10T00:00:00Z")); st.Sent != 0 || len(e.outbox()) != 0 {
		t.Fatalf("an excluded SKU was sent: %+v", st)
	}
}

// TestQuietHoursHoldDoesNotBlock: orders that fall due inside their
// marketplace's quiet hours move to the end of them, so they do not fill the
// batch and hold up orders of a marketplace where it is day.
func TestQuietHoursHoldDoesNotBlock(t *testing.T) {
	e := openEnv(t, fmt.Sprintf(`[schedule]
quiet_hours = "21:00-08:00"
batch_size = 2
[[campaign]]
name = "en"
sales_channels = ["Amazon.com", "Amazon.co.uk"]
template = %q
channel = "outbox"
[channel.outbox]
dir = "outbox"
`, enTemplate(t)))
	// 12:00 UTC is 04:00 in Los Angeles (quiet) and 12:00 in London (day).
	now := at("2026-11-10T12:00:00Z")
	var rows strings.Builder
	rows.WriteString(header)
	for _, id := range []string{"111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003"} {
		// Due long ago (the daemon was down): delivered 11-01.
		rows.WriteString(row(id, "2026-10-30T10:00:00Z", "2026-11-01T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"))
	}
	rows.WriteString(row("202-0000004-0000004", "2026-10-30T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.co.uk", "Bottle", "Shipped"))
	e.ingest("a.txt", rows.String(), at("2026-11-03T12:00:00Z"))

	for range 3 {
		e.pass(now)
	}
	if got := e.outbox(); strings.Join(got, ",") != "202-0000004-0000004.eml" {
		t.Fatalf("outbox = %v: the UK order must not wait behind US orders in quiet hours", got)
	}
	us := e.state("111-0000001-0000001")
	// Quiet hours in Los Angeles end at 08:00 PST = 16:00 UTC.
	if us.State != ledger.Scheduled || !us.SendAt.Equal(at("2026-11-10T16:00:00Z")) {
		t.Fatalf("US order: %s at %v, want held until 16:00 UTC", us.State, us.SendAt)
	}
	if st := e.pass(at("2026-11-10T16:00:00Z")); st.Sent != 2 {
		t.Fatalf("pass at the end of quiet hours: %+v", st)
	}
}

// TestClockMovesDuringPass: a pass that started before an order's deadline
// but reaches it late (a slow channel ahead of it) checks the deadline
// against the clock at the claim, not at the start of the pass.
func TestClockMovesDuringPass(t *testing.T) {
	e := newEnv(t)
	e.ingest("a.txt", header+row("111-0000011-0000011", "2026-11-01T00:00:00Z", "2026-11-23T00:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"), at("2026-11-23T01:00:00Z"))
	start := at("2026-11-30T23:00:00Z") // an hour before the deadline
	e.engine.Now = func() time.Time { return at("2026-12-01T00:00:05Z") }
	e.pass(start)
	if got := e.outbox(); len(got) != 0 {
		t.Fatalf("sent past the deadline with a stale clock: %v", got)
	}
	if r := e.state("111-0000011-0000011"); r.State != ledger.Expired {
		t.Fatalf("state = %s (%s)", r.State, r.Reason)
	}
}
