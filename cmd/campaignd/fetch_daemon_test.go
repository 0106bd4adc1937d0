package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/fetch"
	"campaignd/internal/fetch/fetchtest"
)

// quickPlans answer every report at once: a month of orders, no returns.
func quickPlans(amz *fetchtest.Server) {
	setPlans(amz, map[string]func(int, fetchtest.CreateSpec) fetchtest.Report{
		fetch.AllOrdersByLastUpdate: func(_ int, c fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Final: "DONE", Doc: monthOfOrders(c)}
		},
		fetch.FBACustomerReturns: func(int, fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Final: "CANCELLED"}
		},
	})
}

// yearly never ticks during a test.
const yearly = "0 0 1 1 *"

// `fetch --once` while the daemon runs: the daemon fetches (the CLI does
// not touch the ledger) and the CLI prints its outcome.
func TestFetchThroughDaemon(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amz := newAmazon(t)
	quickPlans(amz)
	cfg := fetchConfig(t, dir, amz, yearly, "")
	d := startDaemon(t, cfg)
	d.waitLog(t, `"fetch done" component=fetch trigger=start-up reports=2 fetched=2`)

	r := cli(t, "fetch", "--once", "--config", cfg)
	if r.code != 0 || strings.Count(r.stdout, "\n") != 2 || !strings.Contains(r.stdout, fetch.AllOrdersByLastUpdate+" "+usMarket+": report ") ||
		!strings.Contains(r.stdout, "no data for the range") {
		t.Fatalf("fetch --once through the daemon: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	d.waitLog(t, `"fetch done" component=fetch trigger=request reports=2 fetched=2`)
	if n := len(creates(amz, fetch.AllOrdersByLastUpdate)); n != 2 {
		t.Errorf("%d All Orders reports requested, want 2 (start-up, request)", n)
	}
	st := fetchStatus(t, cfg)
	checkFetchedStreams(t, st, 2)
	if next := st.Fetch.Next; next.Month() != time.January || next.Day() != 1 || next.Hour() != 0 || next.Before(testStart) {
		t.Errorf("status: next fetch %s, want the next 1 January, 00:00 UTC", next)
	}
}

// Stopping the daemon while it polls a report cancels the fetch, which
// saves the pending report before the ledger closes; the next start polls
// the same report instead of requesting another.
func TestFetchResumesAfterStop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amz := newAmazon(t)
	setPlans(amz, map[string]func(int, fetchtest.CreateSpec) fetchtest.Report{
		// seven polls with waits from 10 ms doubling: 1.3 s before DONE
		fetch.AllOrdersByLastUpdate: func(_ int, c fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Polls: 7, Final: "DONE", Doc: monthOfOrders(c)}
		},
		fetch.FBACustomerReturns: func(int, fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Final: "CANCELLED"}
		},
	})
	cfg := fetchConfig(t, dir, amz, yearly, "")
	d := startDaemon(t, cfg)
	requested := d.waitLog(t, `msg="report requested" component=fetch report=`+fetch.AllOrdersByLastUpdate)
	_, id, _ := strings.Cut(requested, "report_id=")
	id, _, _ = strings.Cut(id, " ")
	d.stop()
	if code := d.wait(t); code != 0 {
		t.Fatalf("daemon exit %d:\n%s", code, d.logs)
	}
	log := d.logs.String()
	done, stopped := strings.Index(log, `"fetch done" component=fetch trigger=start-up reports=2 fetched=`), strings.Index(log, `msg=stopped`)
	if done < 0 || stopped < done || !strings.Contains(log, "stopped before report "+id+" was done") {
		t.Fatalf("the daemon did not end the fetch, with its report pending, before it stopped:\n%s", log)
	}
	st := fetchStatus(t, cfg)
	if p := st.Fetch.Reports[0].Pending; p == nil || p.ReportID != id {
		t.Fatalf("pending report after the stop: %+v", st.Fetch.Reports[0])
	}

	d = startDaemon(t, cfg)
	d.waitLog(t, `"fetch done" component=fetch trigger=start-up reports=2 fetched=2`)
	d.waitLogCount(t, "has report "+id+" pending", 1)
	if cs := creates(amz, fetch.AllOrdersByLastUpdate); len(cs) != 1 {
		t.Fatalf("%d All Orders reports requested, want the one picked up again", len(cs))
	}
	st = fetchStatus(t, cfg)
	checkFetchedStreams(t, st, 2)
	if lr := st.Fetch.Reports[0].LastReport; lr.ReportID != id || st.Orders["total"] != 30 {
		t.Fatalf("after the restart: last report %+v, orders %v", lr, st.Orders)
	}
}

// A reload that turns [fetch] on starts fetching (a tick was missed: never
// fetched); one that adds a report type builds a new fetcher; one that
// turns it off stops it.
func TestReloadFetch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amz := newAmazon(t)
	quickPlans(amz)
	plain := mustRead(t, testConfig(t, dir, ""))
	cfg := fetchConfig(t, dir, amz, yearly, "") // the same file, with [fetch]
	on := mustRead(t, cfg)
	writeFile(t, cfg, plain)
	d := startDaemon(t, cfg)
	if st := fetchStatus(t, cfg); st.Fetch.Enabled {
		t.Fatalf("status with [fetch] off: %+v", st.Fetch)
	}

	writeFile(t, cfg, on)
	reload := func() {
		t.Helper()
		if r := cli(t, "reload", "--config", cfg); r.code != 0 {
			t.Fatalf("reload: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	}
	reload()
	d.waitLog(t, `"fetch done" component=fetch trigger=reload reports=2 fetched=2`)
	checkFetchedStreams(t, fetchStatus(t, cfg), 2)

	more := strings.Replace(mustRead(t, cfg), "[fetch]\n", fmt.Sprintf("[fetch]\nreports = [%q, %q, %q]\n",
		fetch.AllOrdersByLastUpdate, fetch.FBACustomerReturns, fetch.FBAShipments), 1)
	setPlans(amz, map[string]func(int, fetchtest.CreateSpec) fetchtest.Report{
		fetch.AllOrdersByLastUpdate: func(int, fetchtest.CreateSpec) fetchtest.Report { return fetchtest.Report{Final: "CANCELLED"} },
		fetch.FBACustomerReturns:    func(int, fetchtest.CreateSpec) fetchtest.Report { return fetchtest.Report{Final: "CANCELLED"} },
		fetch.FBAShipments:          func(int, fetchtest.CreateSpec) fetchtest.Report { return fetchtest.Report{Final: "CANCELLED"} },
	})
	writeFile(t, cfg, more)
	reload()
	d.waitLog(t, "fetch configuration changed")
	d.waitLog(t, `"fetch done" component=fetch trigger=reload reports=3 fetched=3`)
	if n := len(creates(amz, fetch.FBAShipments)); n != 1 {
		t.Errorf("%d FBA shipment reports requested after the reload, want 1", n)
	}

	writeFile(t, cfg, plain)
	reload()
	d.waitLog(t, "fetching turned off")
	if st := fetchStatus(t, cfg); st.Fetch.Enabled || !st.Fetch.RunningSince.IsZero() || st.Fetch.Next.Sub(time.Time{}) != 0 {
		t.Fatalf("status once the daemon turned fetching off: %+v", st.Fetch)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// solicitations is a Solicitations API that offers the review request for
// every order and records the access token of each call.
type solicitations struct {
	mu     sync.Mutex
	tokens []string
	posts  int
}

func (s *solicitations) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.tokens = append(s.tokens, r.Header.Get("x-amz-access-token"))
	if r.Method == http.MethodPost {
		s.posts++
	}
	s.mu.Unlock()
	w.Header().Set("content-type", "application/hal+json")
	if r.Method == http.MethodPost {
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{}`)
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"_links": map[string]any{
		"self":    map[string]string{"href": r.URL.Path},
		"actions": []map[string]string{{"href": r.URL.Path + "/solicitations/productReviewAndSellerFeedback", "name": "productReviewAndSellerFeedback"}},
	}})
}

// The spapi channel and the fetcher share the account's token source: the
// daemon fetches two orders and sends both their review requests through
// the Solicitations API with one token from one LWA request.
func TestOneTokenForFetchAndSend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amz := newAmazon(t)
	sol := &solicitations{}
	mux := http.NewServeMux()
	mux.Handle("/solicitations/", sol)
	mux.Handle("/", amz.API.Config.Handler)
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)
	delivered := testEpoch.Add(-10 * 24 * time.Hour)
	setPlans(amz, map[string]func(int, fetchtest.CreateSpec) fetchtest.Report{
		fetch.AllOrdersByLastUpdate: func(int, fetchtest.CreateSpec) fetchtest.Report {
			doc := allOrdersHeader
			for _, id := range []string{"114-0000001-0000001", "114-0000002-0000002"} {
				doc += line(id, delivered.Add(-72*time.Hour).Format(time.RFC3339), delivered.Format(time.RFC3339),
					"Shipped - Delivered to Buyer", "Amazon.com", "Water Bottle", "Shipped")
			}
			return fetchtest.Report{Final: "DONE", Doc: []byte(doc)}
		},
		fetch.FBACustomerReturns: func(int, fetchtest.CreateSpec) fetchtest.Report { return fetchtest.Report{Final: "CANCELLED"} },
	})
	cfg := fetchConfig(t, dir, amz, yearly, "[schedule]\ntick = \"@every 1s\"\n")
	text := strings.Replace(mustRead(t, cfg), `channel = "outbox"`, `channel = "spapi"`, 1) // the en campaign: Amazon.com
	text = strings.ReplaceAll(text, amz.API.URL, api.URL)
	writeFile(t, cfg, text)

	d := startDaemon(t, cfg)
	d.waitLogCount(t, "review request sent", 2)
	sol.mu.Lock()
	posts, used := sol.posts, append([]string(nil), sol.tokens...)
	sol.mu.Unlock()
	if posts != 2 {
		t.Fatalf("%d solicitations created, want 2", posts)
	}
	used = append(used, amz.Tokens()...)
	for _, tok := range used {
		if tok != "Atza|fetchtest-1" {
			t.Fatalf("a call carried %q, want the one token Atza|fetchtest-1 (calls: %q)", tok, used)
		}
	}
	if n := amz.Count("token"); n != 1 {
		t.Fatalf("LWA was asked for %d tokens, want 1 for the fetcher and the channel together", n)
	}
}

// The token cache keeps one source for the same credentials, read afresh
// from their files, and builds a new one when they change.
func TestTokenCache(t *testing.T) {
	dir := t.TempDir()
	refresh := writeFile(t, filepath.Join(dir, "refresh"), "Atzr|one\n")
	sp := config.SPAPIConfig{Endpoint: "https://sellingpartnerapi-na.amazon.com", TokenEndpoint: "https://api.amazon.com/auth/o2/token",
		ClientID: "amzn1.application-oa2-client.x", ClientSecret: "secret", RefreshTokenFile: refresh}
	var c tokenCache
	a, err := c.source(sp)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := c.source(sp); err != nil || b != a {
		t.Fatalf("the same credentials gave another source (%v)", err)
	}
	other := sp
	other.Endpoint = "https://sellingpartnerapi-eu.amazon.com" // the API endpoint is not the token's
	if b, _ := c.source(other); b != a {
		t.Fatal("another SP-API endpoint with the same credentials gave another source")
	}
	writeFile(t, refresh, "Atzr|two\n")
	b, err := c.source(sp)
	if err != nil || b == a {
		t.Fatalf("a new refresh token kept the old source (%v)", err)
	}
	os.Remove(refresh)
	if _, err := c.source(sp); err == nil || !strings.Contains(err.Error(), "channel.spapi.refresh_token_file") || strings.Contains(err.Error(), "Atzr") {
		t.Fatalf("missing secret file: %v", err)
	}
}

// `fetch` without --once fetches now and on every tick until interrupted;
// each fetch is its own, with the ledger released in between.
func TestFetchEvery(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	amz := newAmazon(t)
	quickPlans(amz)
	cfg := fetchConfig(t, dir, amz, "@every 1s", "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := newLogLines()
	code := make(chan int, 1)
	go func() {
		var errb strings.Builder
		code <- runCampaignd(ctx, []string{"fetch", "--config", cfg}, out, &errb)
		out.close()
	}()
	timeout := time.After(60 * time.Second)
	for i, ticks := 0, 0; ticks < 2; i++ {
		l, ok := out.line(t, i, timeout)
		if !ok {
			t.Fatalf("fetch ended early:\n%s", out)
		}
		if strings.HasPrefix(l, "next fetch ") {
			ticks++
		}
	}
	cancel()
	if c := <-code; c != 0 || !strings.HasSuffix(out.String(), "stopped") {
		t.Fatalf("fetch loop: exit %d\n%s", c, out)
	}
	if n := len(creates(amz, fetch.AllOrdersByLastUpdate)); n < 2 {
		t.Fatalf("%d All Orders reports requested by two fetches", n)
	}
	if !strings.Contains(out.String(), "no data for the range") {
		t.Errorf("fetch loop output:\n%s", out)
	}
}
