package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/fetch"
	"campaignd/internal/fetch/fetchtest"
)

// The report fetcher end to end: `campaignd fetch` and the daemon against
// fetchtest, a local Amazon that follows the Reports API model, with the
// real ledger and inbox.

const usMarket = "ATVPDKIKX0DER"

// fetchConfig writes a config that fetches the two default reports of
// Amazon.com from amz every tick; extra is appended (TOML).
func fetchConfig(t *testing.T, dir string, amz *fetchtest.Server, tick, extra string) string {
	t.Helper()
	return testConfig(t, dir, fmt.Sprintf(`%s
[fetch]
marketplace_ids = [%q]
tick = %q
[channel.spapi]
endpoint = %q
token_endpoint = %q
client_id = "amzn1.application-oa2-client.test"
client_secret = "test-secret"
refresh_token = "Atzr|test-refresh"
`, extra, usMarket, tick, amz.API.URL, amz.TokenURL()))
}

// newAmazon is a local Amazon whose clock is an hour ahead of the test
// clock, so that every range the tests ask for has ended there.
func newAmazon(t *testing.T) *fetchtest.Server {
	return fetchtest.New(t, testEpoch.Add(time.Hour))
}

// monthOfOrders is an All Orders report with one order a day over the
// range, each delivered: "a month of orders" for a first fetch.
func monthOfOrders(c fetchtest.CreateSpec) []byte {
	var b strings.Builder
	b.WriteString(allOrdersHeader)
	for i, at := 0, c.Start().Add(time.Hour); at.Before(c.End()); i, at = i+1, at.Add(24*time.Hour) {
		b.WriteString(line(monthOrder(i), at.Format(time.RFC3339), at.Add(48*time.Hour).Format(time.RFC3339),
			"Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped"))
	}
	return []byte(b.String())
}

func monthOrder(i int) string { return fmt.Sprintf("113-%07d-%07d", i+1, i+1) }

// returnOf is an FBA customer returns report returning order id.
func returnOf(id string) []byte {
	return []byte("return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\tdetailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments\n" +
		"2026-11-12T08:00:00+00:00\t" + id + "\tSKU-1\tB0TEST0001\tX001\tWater Bottle\t1\tCMH1\tSELLABLE\tUNWANTED_ITEM\tUnit returned to inventory\tLPN1\t\n")
}

// plans hands out a Report per createReport call, by report type, counting
// the calls of each.
type plans struct {
	mu    sync.Mutex
	calls map[string]int
	by    map[string]func(n int, c fetchtest.CreateSpec) fetchtest.Report
}

func (p *plans) plan(c fetchtest.CreateSpec) fetchtest.Report {
	p.mu.Lock()
	p.calls[c.ReportType]++
	n, f := p.calls[c.ReportType], p.by[c.ReportType]
	p.mu.Unlock()
	return f(n, c)
}

func setPlans(amz *fetchtest.Server, by map[string]func(n int, c fetchtest.CreateSpec) fetchtest.Report) {
	p := &plans{calls: map[string]int{}, by: by}
	amz.SetPlan(p.plan)
}

// creates returns the createReport bodies amz accepted for reportType.
func creates(amz *fetchtest.Server, reportType string) []fetchtest.CreateSpec {
	var out []fetchtest.CreateSpec
	for _, c := range amz.Creates() {
		if c.ReportType == reportType {
			out = append(out, c)
		}
	}
	return out
}

type fetchStatusJSON struct {
	Fetch struct {
		Enabled      bool      `json:"enabled"`
		Tick         string    `json:"tick"`
		Next         time.Time `json:"next"`
		RunningSince time.Time `json:"running_since"`
		Reports      []struct {
			ReportType    string       `json:"report_type"`
			MarketplaceID string       `json:"marketplace_id"`
			Fetched       *fetch.Range `json:"fetched"`
			LastAttempt   time.Time    `json:"last_attempt"`
			LastSuccess   time.Time    `json:"last_success"`
			LastReport    *fetch.Done  `json:"last_report"`
			Pending       *struct {
				ReportID string `json:"report_id"`
			} `json:"pending"`
			LastError string `json:"last_error"`
			Failures  int    `json:"failures"`
		} `json:"reports"`
	} `json:"fetch"`
	Orders map[string]int `json:"orders"`
}

func fetchStatus(t *testing.T, cfg string) fetchStatusJSON {
	t.Helper()
	r := cli(t, "status", "--json", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	var st fetchStatusJSON
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	return st
}

// `fetch --once` brings a month of orders and a return into the ledger;
// a second run asks only for what changed since, with each report type's
// overlap, and brings the change in.
func TestFetchOnce(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amz := newAmazon(t)
	var firstStart time.Time
	setPlans(amz, map[string]func(int, fetchtest.CreateSpec) fetchtest.Report{
		fetch.AllOrdersByLastUpdate: func(n int, c fetchtest.CreateSpec) fetchtest.Report {
			if n == 1 {
				firstStart = c.Start()
				return fetchtest.Report{Polls: 2, Final: "DONE", Doc: fetchtest.Gzip(monthOfOrders(c)), Gzip: true}
			}
			// since then: one new order, and the first one cancelled
			at := c.End().Add(-30 * time.Minute).Format(time.RFC3339)
			return fetchtest.Report{Polls: 1, Final: "DONE", Doc: []byte(allOrdersHeader +
				line("113-0000100-0000100", at, at, "Shipped - Delivered to Buyer", "Amazon.com", "Lunch Box", "Shipped") +
				line(monthOrder(0), firstStart.Add(time.Hour).Format(time.RFC3339), at, "Cancelled", "Amazon.com", "Water Bottle", "Cancelled"))}
		},
		fetch.FBACustomerReturns: func(n int, _ fetchtest.CreateSpec) fetchtest.Report {
			if n == 1 {
				return fetchtest.Report{Polls: 1, Final: "DONE", Doc: returnOf(monthOrder(5))}
			}
			return fetchtest.Report{Polls: 1, Final: "CANCELLED"}
		},
	})
	cfg := fetchConfig(t, dir, amz, "0 */4 * * *", "")

	r := cli(t, "fetch", "--once", "--config", cfg)
	if r.code != 0 {
		t.Fatalf("fetch --once: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{
		// the two reports are fetched at the same time: either may come first
		fetch.AllOrdersByLastUpdate + " " + usMarket + ": report ", ".txt.gz: 30 orders (",
		fetch.FBACustomerReturns + " " + usMarket + ": report ", ".txt: 1 order (", ", 0 rows rejected -> ",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("fetch --once output lacks %q:\n%s", want, r.stdout)
		}
	}
	st := fetchStatus(t, cfg)
	if st.Orders["total"] != 30 || st.Orders["excluded"] != 1 {
		t.Fatalf("after the first fetch the ledger holds %v, want 30 orders, 1 excluded (returned)", st.Orders)
	}
	if r := cli(t, "ledger", "show", monthOrder(5), "--config", cfg); !strings.Contains(r.stdout, "state excluded") || !strings.Contains(r.stdout, "return") {
		t.Errorf("the returned order:\n%s%s", r.stdout, r.stderr)
	}
	assertFiled(t, dir)

	first := map[string]fetchtest.CreateSpec{}
	for _, rt := range []string{fetch.AllOrdersByLastUpdate, fetch.FBACustomerReturns} {
		cs := creates(amz, rt)
		if len(cs) != 1 {
			t.Fatalf("%s: %d reports requested, want 1", rt, len(cs))
		}
		first[rt] = cs[0]
		// the whole window, to a minute behind the clock (Amazon refuses a range that ends in its future)
		if got := cs[0].End().Sub(cs[0].Start()); got != fetch.DefaultWindow-time.Minute {
			t.Errorf("%s: the first report covers %s, want the whole window %s less a minute", rt, got, fetch.DefaultWindow)
		}
	}

	r = cli(t, "fetch", "--once", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "no data for the range") || !strings.Contains(r.stdout, "2 orders (1 new, 1 updated") {
		t.Fatalf("second fetch --once: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for rt, overlap := range map[string]time.Duration{fetch.AllOrdersByLastUpdate: 2 * time.Hour, fetch.FBACustomerReturns: 48 * time.Hour} {
		cs := creates(amz, rt)
		if len(cs) != 2 {
			t.Fatalf("%s: %d reports requested after two fetches, want 2", rt, len(cs))
		}
		if want := first[rt].End().Add(-overlap); !cs[1].Start().Equal(want) || cs[1].End().Before(first[rt].End()) {
			t.Errorf("%s: the second report covers %s to %s, want from %s (the first's end less the overlap) to now",
				rt, cs[1].DataStartTime, cs[1].DataEndTime, want.Format(time.RFC3339))
		}
	}
	st = fetchStatus(t, cfg)
	if st.Orders["total"] != 31 || st.Orders["excluded"] != 2 {
		t.Fatalf("after the second fetch the ledger holds %v, want 31 orders, 2 excluded", st.Orders)
	}
	checkFetchedStreams(t, st, 2)
}

// assertFiled checks that the inbox holds nothing (no part files either)
// and that the fetched documents are in processed/.
func assertFiled(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, "var", "inbox"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if !e.IsDir() {
			t.Errorf("left in the inbox: %s", e.Name())
		}
	}
	done, _ := filepath.Glob(filepath.Join(dir, "var", "processed", fetch.AllOrdersByLastUpdate+"."+usMarket+".*.txt.gz"))
	if len(done) != 1 {
		t.Errorf("processed/ holds %v, want the fetched All Orders report", done)
	}
}

// checkFetchedStreams checks status's fetch member after successful
// fetches: every stream fetched, without an error.
func checkFetchedStreams(t *testing.T, st fetchStatusJSON, streams int) {
	t.Helper()
	f := st.Fetch
	if !f.Enabled || f.Tick == "" || len(f.Reports) != streams {
		t.Fatalf("status fetch = %+v, want %d streams", f, streams)
	}
	for _, s := range f.Reports {
		if s.Fetched == nil || s.LastSuccess.IsZero() || s.LastError != "" || s.Failures != 0 || s.Pending != nil || s.LastReport == nil {
			t.Errorf("status of %s: %+v", s.ReportType, s)
		}
	}
}

func TestFetchRefusedWhenOff(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := testConfig(t, dir, "")
	r := cli(t, "fetch", "--once", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "[fetch] is off") || !strings.Contains(r.stderr, "fetch.marketplace_ids") {
		t.Fatalf("fetch --once with [fetch] off: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := cli(t, "fetch", "--once", "extra", "--config", cfg); r.code != 2 {
		t.Fatalf("fetch with an argument: exit %d", r.code)
	}
	r = cli(t, "status", "--config", cfg)
	if r.code != 0 || !strings.Contains(r.stdout, "report fetches:\n  off") {
		t.Fatalf("status with [fetch] off: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// The daemon fetches on its tick, in its own goroutine: a failed fetch is
// shown in status and tried again on the next tick; a tick that comes
// while a fetch runs is skipped.
func TestDaemonFetches(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amz := newAmazon(t)
	blocked, release := make(chan struct{}), make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	setPlans(amz, map[string]func(int, fetchtest.CreateSpec) fetchtest.Report{
		fetch.AllOrdersByLastUpdate: func(n int, c fetchtest.CreateSpec) fetchtest.Report {
			switch n {
			case 1:
				return fetchtest.Report{Polls: 1, Final: "FATAL", ErrorDoc: []byte("Report generation failed: internal error")}
			case 2:
				close(blocked) // Amazon takes its time answering the tick's request
				<-release
				return fetchtest.Report{Polls: 1, Final: "DONE", Doc: monthOfOrders(c)}
			}
			return fetchtest.Report{Final: "DONE", Doc: []byte(allOrdersHeader)} // nothing changed since
		},
		fetch.FBACustomerReturns: func(int, fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Polls: 1, Final: "CANCELLED"}
		},
	})
	cfg := fetchConfig(t, dir, amz, "@every 1s", "")
	d := startDaemon(t, cfg)
	d.waitLog(t, `"fetch done" component=fetch trigger=start-up`)
	<-blocked // the tick's fetch asks again and waits for Amazon

	st := fetchStatus(t, cfg)
	s := st.Fetch.Reports[0]
	if s.ReportType != fetch.AllOrdersByLastUpdate || s.Failures != 1 || !strings.Contains(s.LastError, "FATAL") ||
		!strings.Contains(s.LastError, "Report generation failed") || s.Fetched != nil || st.Fetch.RunningSince.IsZero() || st.Fetch.Next.IsZero() {
		t.Fatalf("status while the retry runs: %+v", st.Fetch)
	}
	r := cli(t, "status", "--config", cfg)
	if !strings.Contains(r.stdout, "FAILED") || !strings.Contains(r.stdout, "1 failure in a row: report ended FATAL at Amazon") ||
		!strings.Contains(r.stdout, "fetching since") {
		t.Errorf("status text while the retry runs:\n%s", r.stdout)
	}
	d.waitLog(t, "fetch tick skipped")
	releaseOnce.Do(func() { close(release) })
	d.waitLog(t, `"fetch done" component=fetch trigger=tick reports=2 fetched=2`)

	st = fetchStatus(t, cfg)
	checkFetchedStreams(t, st, 2)
	if st.Orders["total"] != 30 {
		t.Fatalf("the daemon's fetch brought %v, want 30 orders", st.Orders)
	}
	orders := creates(amz, fetch.AllOrdersByLastUpdate)
	if got := orders[1].End().Sub(orders[1].Start()); got < fetch.DefaultWindow-time.Minute {
		t.Errorf("the retry after a FATAL report covers %s, want the whole window again", got)
	}
	r = cli(t, "status", "--config", cfg)
	if !strings.Contains(r.stdout, fetch.AllOrdersByLastUpdate) || !strings.Contains(r.stdout, " ok") || strings.Contains(r.stdout, "FAILED") {
		t.Errorf("status text after the retry:\n%s", r.stdout)
	}
}
