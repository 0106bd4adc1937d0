package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	smtpd "github.com/emersion/go-smtp"
)

// TestSMTPKills kills at each step of an SMTP transaction in turn; by hand,
// kills at random moments measure how many land after the point of no
// return:
//
//	go test ./cmd/campaignd -run TestSMTPRandomKills -smtp-random-kills 40
var (
	smtpKillRounds  = flag.Int("smtp-kill-rounds", 2, "rounds of kills at each SMTP step in TestSMTPKills")
	smtpRandomKills = flag.Int("smtp-random-kills", 0, "SIGKILLs at random moments in TestSMTPRandomKills (0: skip)")
)

// relay is a real SMTP server (emersion/go-smtp) that counts the messages
// it accepted per order (X-Campaignd-Order) and tells each one on got. It
// can kill the sending process at a chosen step of a transaction.
type relay struct {
	mu     sync.Mutex
	count  map[string]int
	got    chan string
	orders map[string]string // relay address -> order id

	armed     bool          // a kill is planned for the next run
	victim    *os.Process   // that run, killed once at step killAt of its transaction killTx
	victimSet chan struct{} // closed once victim is known
	killAt    string        // "connect", "mail", "rcpt" or "end" (the whole message is in, not yet answered)
	killTx    int
	tx        int         // transactions (MAIL FROM) the victim started
	killed    chan string // the order being sent at the kill ("" when the server cannot tell yet)

	// stallAt, when set, is the step ("rcpt" or "end") at which every
	// session stops answering until the test ends; stalled is told the order.
	stallAt string
	stalled chan string
	release chan struct{}
}

// stall blocks a session that reached the planned stall step.
func (r *relay) stall(step, order string) {
	if r.stallAt != step {
		return
	}
	r.stalled <- order
	<-r.release
}

// plan arms a kill of the next run at step of its transaction tx, before
// that run starts; setVictim names its process once started.
func (r *relay) plan(step string, tx int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.armed, r.victim, r.victimSet = true, nil, make(chan struct{})
	r.killAt, r.killTx, r.tx = step, tx, 0
}

func (r *relay) setVictim(p *os.Process) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.victim = p
	close(r.victimSet)
}

// maybeKill kills the victim if the session just reached its planned step
// (waiting, if need be, to know the victim's process).
func (r *relay) maybeKill(step, order string) bool {
	r.mu.Lock()
	if !r.armed || r.killAt != step || (step != "connect" && r.tx != r.killTx) {
		r.mu.Unlock()
		return false
	}
	r.armed = false
	set := r.victimSet
	r.mu.Unlock()
	<-set
	r.mu.Lock()
	p := r.victim
	r.mu.Unlock()
	r.killed <- order // before the kill: the run's exit must find it
	p.Kill()
	return true
}

var errKilled = errors.New("the sender was killed")

func (r *relay) NewSession(*smtpd.Conn) (smtpd.Session, error) {
	if r.maybeKill("connect", "") {
		return nil, errKilled
	}
	return &relaySession{r: r}, nil
}

type relaySession struct {
	r     *relay
	order string
}

func (s *relaySession) Reset()        {}
func (s *relaySession) Logout() error { return nil }
func (s *relaySession) Mail(string, *smtpd.MailOptions) error {
	s.r.mu.Lock()
	s.r.tx++
	s.r.mu.Unlock()
	if s.r.maybeKill("mail", "") {
		return errKilled
	}
	return nil
}

func (s *relaySession) Rcpt(to string, _ *smtpd.RcptOptions) error {
	s.r.mu.Lock()
	s.order = s.r.orders[to]
	s.r.mu.Unlock()
	if s.r.maybeKill("rcpt", s.order) {
		return errKilled
	}
	s.r.stall("rcpt", s.order)
	return nil
}

func (s *relaySession) Data(rd io.Reader) error {
	// An incomplete message (the sender died before the final ".") fails
	// here and is not counted, as a real server discards it.
	b, err := io.ReadAll(rd)
	if err != nil {
		return err
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		return err
	}
	id := m.Header.Get("X-Campaignd-Order")
	s.r.mu.Lock()
	s.r.count[id]++ // accepted: the answer may never reach the sender
	s.r.mu.Unlock()
	s.r.maybeKill("end", id)
	s.r.stall("end", id)
	select {
	case s.r.got <- id:
	default:
	}
	return nil
}

func (r *relay) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.count))
	for k, v := range r.count {
		out[k] = v
	}
	return out
}

// startRelay serves r on a loopback port and returns the port.
func startRelay(t *testing.T, r *relay) int {
	t.Helper()
	r.count, r.orders = map[string]int{}, map[string]string{}
	r.got, r.killed = make(chan string, 1), make(chan string, 1)
	r.stalled, r.release = make(chan string, 10), make(chan struct{})
	srv := smtpd.NewServer(r)
	srv.Domain = "localhost"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		close(r.release)
		srv.Close()
	})
	return ln.Addr().(*net.TCPAddr).Port
}

// smtpConfig writes a config whose Amazon.com orders go through the smtp
// channel to 127.0.0.1:port; extra is appended (TOML).
func smtpConfig(t *testing.T, dir string, port int, extra string) string {
	t.Helper()
	tmpl, err := filepath.Abs("../../templates/review-request.en.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, filepath.Join(dir, "campaignd.toml"), fmt.Sprintf(`seller_name = "Example Brand"
[ledger]
path = "var/campaignd.db"
[inbox]
dir = "var/inbox"
processed_dir = "var/processed"
rejected_dir = "var/rejected"
settle = "10ms"
[control]
socket = "var/campaignd.sock"
[log]
format = "text"
level = "debug"
[schedule]
batch_size = 100000
%s
[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = %q
channel = "smtp"
[channel.smtp]
host = "127.0.0.1"
port = %d
from = "orders@example.com"
tls = "none"
`, extra, tmpl, port))
}

// ingestShipments ingests an FBA shipments report with n orders, each with
// a buyer relay address that r knows, and returns their ids.
func ingestShipments(t *testing.T, dir, cfg string, r *relay, n int) []string {
	t.Helper()
	var b strings.Builder
	b.WriteString("amazon-order-id\tshipment-id\tpurchase-date\tshipment-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\testimated-arrival-date\tsales-channel\n")
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("111-%07d-%07d", i, i)
		addr := fmt.Sprintf("buyer%d@marketplace.amazon.com", i)
		r.mu.Lock()
		r.orders[addr] = ids[i]
		r.mu.Unlock()
		fmt.Fprintf(&b, "%s\tS%d\t2026-11-01T10:00:00Z\t2026-11-02T10:00:00Z\t%s\tJane Buyer\tSKU-1\tWater Bottle\t2026-11-05T10:00:00Z\tAmazon.com\n", ids[i], i, addr)
	}
	file := writeFile(t, filepath.Join(dir, "drop", "shipments.txt"), b.String())
	if r := cli(t, "ingest", "--config", cfg, file); r.code != 0 {
		t.Fatalf("ingest: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	return ids
}

// ledgerStates returns every order's state from `ledger export`.
func ledgerStates(t *testing.T, cfg string) map[string]string {
	t.Helper()
	r := cli(t, "ledger", "export", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("ledger export: exit %d: %s", r.code, r.stderr)
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var rec struct {
			Key struct {
				OrderID string `json:"order_id"`
			} `json:"key"`
			State string `json:"state"`
		}
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("export line: %v\n%s", err, l)
		}
		out[rec.Key.OrderID] = rec.State
	}
	return out
}

const killAt = "2026-11-20T00:00:00Z" // the pass's clock in every run

// TestSMTPKills kills `run --once` (the binary) with SIGKILL while it mails
// through a real SMTP server, at each step of a transaction in turn (the connection,
// MAIL, RCPT, and the whole message in but not yet answered), restarts it
// each time, and lets a last run finish. No order may get two messages or
// be lost: each ends sent with exactly one message, or in doubt. The point
// of no return comes just before the final ".", so an order killed at any
// step before it must be sent again, exactly once, and only an order killed
// after it may be in doubt: a quarter of the kills here.
func TestSMTPKills(t *testing.T) {
	t.Parallel()
	steps := []string{"connect", "mail", "rcpt", "end"}
	kills := *smtpKillRounds * len(steps)
	dir := t.TempDir()
	r := &relay{}
	cfg := smtpConfig(t, dir, startRelay(t, r), "")
	ids := ingestShipments(t, dir, cfg, r, 3*kills+10)

	retried, doubted := map[string]bool{}, map[string]bool{}
	for i := range kills {
		step := steps[i%len(steps)]
		order := killAtStep(t, cfg, r, step)
		switch step {
		case "rcpt":
			retried[order] = true
		case "end":
			doubted[order] = true
		}
	}
	if res := cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", killAt); res.code != 0 {
		t.Fatalf("last run: exit %d: %s", res.code, res.stderr)
	}
	inDoubt := checkOutcomes(t, cfg, r, ids)
	for id := range retried {
		if inDoubt[id] {
			t.Errorf("order %s, killed before its point of no return (at RCPT), is in doubt; want it sent again", id)
		}
	}
	for id := range doubted {
		if !inDoubt[id] {
			t.Errorf("order %s, killed after its whole message went, is not in doubt", id)
		}
	}
	t.Logf("%d kills during sends of %d orders: %d in doubt", kills, len(ids), len(inDoubt))
	if len(inDoubt)*4 > kills {
		t.Errorf("%d orders in doubt after %d kills, want at most a quarter", len(inDoubt), kills)
	}
}

// killAtStep starts `run --once` and has the server kill it at step of its
// second transaction (of its first connection for "connect"). It returns
// the order the server was handling at the kill, when it can tell.
func killAtStep(t *testing.T, cfg string, r *relay, step string) string {
	t.Helper()
	cmd := exec.Command(campaigndBinary(t), "run", "--once", "--config", cfg, "--force-clock", "--at", killAt)
	cmd.Stderr = io.Discard
	r.plan(step, 2)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.setVictim(cmd.Process)
	exit := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exit)
	}()
	select {
	case order := <-r.killed:
		<-exit
		return order
	case <-exit:
		select {
		case order := <-r.killed:
			return order
		default:
			t.Fatalf("the run ended before the server killed it at %s: add orders", step)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no kill at %s within 60 s", step)
	}
	return ""
}

// checkOutcomes checks every order after the last run: at most one message
// each, and each sent with exactly one message or in doubt. It returns the
// orders in doubt.
func checkOutcomes(t *testing.T, cfg string, r *relay, ids []string) map[string]bool {
	t.Helper()
	got, states := r.counts(), ledgerStates(t, cfg)
	inDoubt := map[string]bool{}
	for _, id := range ids {
		switch n, st := got[id], states[id]; {
		case n > 1:
			t.Errorf("order %s got %d messages", id, n)
		case st == "in_doubt":
			inDoubt[id] = true
		case st != "sent":
			t.Errorf("order %s ended %s, want sent or in_doubt", id, st)
		case n != 1:
			t.Errorf("order %s is recorded sent but the server got %d messages", id, n)
		}
	}
	return inDoubt
}

// TestSMTPRandomKills kills `run --once` at random moments during its
// sends, by hand (-smtp-random-kills N). It checks that no order got two
// messages or was lost, and reports how many kills left an order in doubt:
// the share of a send's time between the point of no return and the
// recorded outcome, which holds one fsynced ledger commit.
func TestSMTPRandomKills(t *testing.T) {
	kills := *smtpRandomKills
	if kills == 0 {
		t.Skip("by hand: -smtp-random-kills N")
	}
	dir := t.TempDir()
	r := &relay{}
	cfg := smtpConfig(t, dir, startRelay(t, r), "")
	ids := ingestShipments(t, dir, cfg, r, 8*kills+20)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	var gaps time.Duration
	for i := range kills {
		exited, gap := killDuringSends(t, cfg, r, rng)
		if exited {
			t.Fatalf("the pass finished after %d kills, before all %d: add orders", i, kills)
		}
		gaps += gap
	}
	if res := cli(t, "run", "--once", "--config", cfg, "--force-clock", "--at", killAt); res.code != 0 {
		t.Fatalf("last run: exit %d: %s", res.code, res.stderr)
	}
	inDoubt := checkOutcomes(t, cfg, r, ids)
	t.Logf("seed %d: %d kills during sends of %d orders (a send took %s on average): %d in doubt (%.0f %%)",
		seed, kills, len(ids), gaps/time.Duration(kills), len(inDoubt), 100*float64(len(inDoubt))/float64(kills))
}

// killDuringSends starts `run --once`, waits until it has sent two
// messages, then kills it with SIGKILL at a random moment within the time
// two more sends take. It reports whether the run exited on its own first,
// and how long the send between the two messages took.
func killDuringSends(t *testing.T, cfg string, r *relay, rng *rand.Rand) (exited bool, gap time.Duration) {
	t.Helper()
	select {
	case <-r.got: // a message of the previous run nobody waited for
	default:
	}
	cmd := exec.Command(campaigndBinary(t), "run", "--once", "--config", cfg, "--force-clock", "--at", killAt)
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exit := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exit)
	}()
	var first time.Time
	for i := range 2 {
		select {
		case <-r.got:
			if i == 0 {
				first = time.Now()
			}
		case <-exit:
			return true, 0
		case <-time.After(60 * time.Second):
			cmd.Process.Kill()
			t.Fatal("no message reached the server within 60 s")
		}
	}
	gap = time.Since(first)
	select {
	case <-exit:
		return true, gap
	case <-time.After(time.Duration(rng.Int64N(int64(2 * gap)))):
	}
	cmd.Process.Kill()
	<-exit
	return false, gap
}
