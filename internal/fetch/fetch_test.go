package fetch_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"campaignd/internal/fetch"
	"campaignd/internal/fetch/fetchtest"
)

var t0 = mustTime("2026-11-20T12:00:00Z")

// The first run asks for the whole 30-day window of every report type in
// every marketplace, polls each report until DONE, writes each document
// into the inbox under a name that says what it is, and hands it to Ingest
// before recording the range.
func TestFirstRunFetchesTheWholeWindow(t *testing.T) {
	h := newHarness(t, t0)
	returnsGz := fetchtest.Gzip(fetchtest.FBAReturns())
	h.amz.SetPlan(func(s fetchtest.CreateSpec) fetchtest.Report {
		if s.ReportType == fetch.FBACustomerReturns {
			return fetchtest.Report{Polls: 2, Final: "DONE", Doc: returnsGz, Gzip: true}
		}
		return fetchtest.Report{Polls: 3, Final: "DONE", Doc: fetchtest.AllOrders(s.MarketplaceIDs[0], 4)}
	})
	h.onIngest = func(ctx context.Context, f fetch.File) {
		st := h.load(f.Key)
		if st.Pending == nil || st.Pending.ReportID != f.ReportID || !st.Fetched.IsZero() {
			t.Errorf("%s: during Ingest the state already says fetched: %+v", f.Key, st)
		}
	}
	f := h.fetcher(h.config(fetch.DefaultReports, []string{us, ca}))
	res := mustRun(t, f, t0)

	want := fetch.Range{Start: mustTime("2026-10-21T12:00:00Z"), End: mustTime("2026-11-20T11:59:00Z")}
	specs := h.amz.Creates()
	if len(specs) != 4 {
		t.Fatalf("createReport called %d times, want 4 (2 report types × 2 marketplaces)", len(specs))
	}
	for _, s := range specs {
		if !s.Start().Equal(want.Start) || !s.End().Equal(want.End) {
			t.Errorf("%s %v asked for %s to %s, want %s", s.ReportType, s.MarketplaceIDs, s.DataStartTime, s.DataEndTime, want)
		}
	}
	if len(res.Reports) != 4 {
		t.Fatalf("%d results, want 4", len(res.Reports))
	}
	for _, rr := range res.Reports {
		if rr.Outcome != fetch.Ingested || rr.Resumed || rr.Range != want || rr.Err != nil {
			t.Errorf("%s: %+v", rr.Key, rr)
		}
		st := h.load(rr.Key)
		if st.Fetched != want || st.Pending != nil || st.LastSuccess != t0 || st.LastError != "" || len(st.Ingested) != 1 || st.Ingested[0].ReportID != rr.ReportID {
			t.Errorf("%s: state after the run: %+v", rr.Key, st)
		}
	}
	checkFiles(t, h, res, returnsGz)
	if n := h.amz.Count("getReport"); n != 2*4+2*3 {
		t.Errorf("getReport called %d times, want 14 (4 polls for each All Orders report, 3 for each returns report)", n)
	}
	sleeps := h.clock.Sleeps()
	slices.Sort(sleeps)
	s := 10 * time.Second
	if !slices.Equal(sleeps, []time.Duration{s, s, s, s, 2 * s, 2 * s, 2 * s, 2 * s, 4 * s, 4 * s}) {
		t.Errorf("waits %v: want only the poll backoff (10s, 20s, 40s), nothing for the usage plans within their bursts", sleeps)
	}
	if names := h.inboxNames(); len(names) != 0 {
		t.Errorf("inbox not empty after ingest: %v", names)
	}
}

func checkFiles(t *testing.T, h *harness, res fetch.Result, returnsGz []byte) {
	t.Helper()
	files := h.files()
	if len(files) != 4 {
		t.Fatalf("%d files ingested, want 4", len(files))
	}
	for _, rr := range res.Reports {
		name := rr.ReportType + "." + rr.MarketplaceID + "." + rr.ReportID + ".txt"
		wantRaw, wantText := fetchtest.AllOrders(rr.MarketplaceID, 4), fetchtest.AllOrders(rr.MarketplaceID, 4)
		if rr.ReportType == fetch.FBACustomerReturns {
			name += ".gz"
			wantRaw, wantText = returnsGz, fetchtest.FBAReturns()
		}
		i := slices.IndexFunc(files, func(f ingestedFile) bool { return f.Name == name })
		if i < 0 {
			t.Errorf("no file %s ingested", name)
			continue
		}
		got := files[i]
		if !bytes.Equal(got.raw, wantRaw) || !bytes.Equal(got.text, wantText) || got.Gzip != (rr.ReportType == fetch.FBACustomerReturns) {
			t.Errorf("%s: the file is not the document as served", name)
		}
		if got.ReportID != rr.ReportID || got.Range != rr.Range || got.Key != rr.Key || got.Size != int64(len(wantRaw)) {
			t.Errorf("%s: File = %+v", name, got.File)
		}
	}
}

// A later run asks only for what changed since the last one, with the
// report type's overlap; nothing older.
func TestSecondRunAsksOnlyForWhatChanged(t *testing.T) {
	h := newHarness(t, t0)
	f := h.fetcher(h.config(fetch.DefaultReports, []string{us}))
	mustRun(t, f, t0)
	t1 := t0.Add(4 * time.Hour)
	h.amz.SetNow(t1)
	res := mustRun(t, f, t1)

	specs := h.amz.Creates()[2:]
	if len(specs) != 2 {
		t.Fatalf("second run created %d reports, want 2", len(specs))
	}
	end0 := t0.Add(-time.Minute)
	want := map[string]fetch.Range{
		fetch.AllOrdersByLastUpdate: {Start: end0.Add(-2 * time.Hour), End: t1.Add(-time.Minute)},
		fetch.FBACustomerReturns:    {Start: end0.Add(-48 * time.Hour), End: t1.Add(-time.Minute)},
	}
	for _, s := range specs {
		w := want[s.ReportType]
		if !s.Start().Equal(w.Start) || !s.End().Equal(w.End) {
			t.Errorf("%s: second run asked for %s to %s, want %s", s.ReportType, s.DataStartTime, s.DataEndTime, w)
		}
	}
	for _, rr := range res.Reports {
		st := h.load(rr.Key)
		wantFetched := fetch.Range{Start: t0.Add(-30 * 24 * time.Hour), End: t1.Add(-time.Minute)}
		if st.Fetched != wantFetched || len(st.Ingested) != 2 {
			t.Errorf("%s: fetched %s with %d reports, want %s with 2", rr.Key, st.Fetched, len(st.Ingested), wantFetched)
		}
	}
}

// A report filtered by order date cannot show an old order's changes
// unless it covers the order date again: it always covers the window.
func TestOrderDateReportAlwaysCoversTheWindow(t *testing.T) {
	h := newHarness(t, t0)
	f := h.fetcher(h.config([]string{fetch.AllOrdersByOrderDate}, []string{us}))
	mustRun(t, f, t0)
	t1 := t0.Add(4 * time.Hour)
	h.amz.SetNow(t1)
	mustRun(t, f, t1)
	specs := h.amz.Creates()
	if len(specs) != 2 || !specs[1].Start().Equal(t1.Add(-30*24*time.Hour)) {
		t.Errorf("second report starts %s, want the window's start %s", specs[len(specs)-1].DataStartTime, t1.Add(-30*24*time.Hour))
	}
}

// CANCELLED means no data for the range: fine, the range counts as
// fetched and nothing is written.
func TestCancelledReportCountsAsFetched(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report { return fetchtest.Report{Polls: 1, Final: "CANCELLED"} })
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	res := mustRun(t, f, t0)
	rr := res.Reports[0]
	if rr.Outcome != fetch.NoData || rr.File != "" || rr.Err != nil {
		t.Errorf("result %+v, want no_data", rr)
	}
	st := h.load(rr.Key)
	if st.Fetched != rr.Range || st.Pending != nil || len(st.Ingested) != 1 || st.Ingested[0].File != "" {
		t.Errorf("state %+v: the range should count as fetched", st)
	}
	if len(h.files()) != 0 || len(h.inboxNames()) != 0 || h.amz.Count("getReportDocument") != 0 {
		t.Error("a cancelled report wrote or fetched a document")
	}
}

// A DONE document holding only its header has no data: it is not put into
// the inbox (which would reject it as empty), and the range counts.
func TestHeaderOnlyDocumentIsNoData(t *testing.T) {
	for _, gz := range []bool{false, true} {
		h := newHarness(t, t0)
		doc := fetchtest.AllOrders(us, 0)
		if gz {
			doc = fetchtest.Gzip(doc)
		}
		h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Final: "DONE", Doc: doc, Gzip: gz}
		})
		f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
		rr := mustRun(t, f, t0).Reports[0]
		if rr.Outcome != fetch.NoData || len(h.files()) != 0 || len(h.inboxNames()) != 0 {
			t.Errorf("gzip %v: %+v, inbox %v", gz, rr, h.inboxNames())
		}
		if st := h.load(rr.Key); st.Fetched != rr.Range {
			t.Errorf("gzip %v: fetched %s, want %s", gz, st.Fetched, rr.Range)
		}
	}
}

// FATAL: the error document is fetched and its text reported; the range
// is not fetched, and the next run asks again for it with a new report.
func TestFatalReportReportsItsErrorDocument(t *testing.T) {
	h := newHarness(t, t0)
	errDoc := fetchtest.Gzip([]byte(`{"errorDetails":"Report generation failed: the requested range has too much data"}`))
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
		return fetchtest.Report{Polls: 1, Final: "FATAL", ErrorDoc: errDoc}
	})
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	res, err := f.Run(context.Background(), t0)
	rr := res.Reports[0]
	if !errors.Is(err, fetch.ErrReportFatal) || rr.Outcome != fetch.Failed {
		t.Fatalf("Run = %v, %+v; want ErrReportFatal", err, rr)
	}
	if !strings.Contains(err.Error(), "too much data") || !strings.Contains(err.Error(), rr.ReportID) {
		t.Errorf("error %q does not carry Amazon's reason and the report id", err)
	}
	st := h.load(rr.Key)
	if !strings.Contains(st.LastError, "too much data") || st.Failures != 1 || st.Pending != nil || !st.Fetched.IsZero() {
		t.Errorf("state after FATAL: %+v", st)
	}
	if len(h.inboxNames()) != 0 {
		t.Errorf("the error document reached the inbox: %v", h.inboxNames())
	}

	h.amz.SetPlan(func(s fetchtest.CreateSpec) fetchtest.Report {
		return fetchtest.Report{Final: "DONE", Doc: fetchtest.AllOrders(us, 1)}
	})
	h.amz.SetNow(t0.Add(time.Hour))
	rr = mustRun(t, f, t0.Add(time.Hour)).Reports[0]
	specs := h.amz.Creates()
	if len(specs) != 2 || !specs[1].Start().Equal(t0.Add(time.Hour-30*24*time.Hour)) {
		t.Errorf("after FATAL the next run asked for %+v, want a new report over the whole window", specs)
	}
	if st := h.load(rr.Key); st.LastError != "" || st.Failures != 0 || rr.Outcome != fetch.Ingested {
		t.Errorf("after a good run: %+v / %+v", rr, st)
	}
}

func TestFatalReportWithoutErrorDocument(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report { return fetchtest.Report{Final: "FATAL"} })
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	_, err := f.Run(context.Background(), t0)
	if !errors.Is(err, fetch.ErrReportFatal) || !strings.Contains(err.Error(), "no error document") {
		t.Errorf("Run = %v", err)
	}
	if h.amz.Count("getReportDocument") != 0 {
		t.Error("asked for a document FATAL did not name")
	}
}

// A storm of 429s: each one empties the bucket, so the fetcher goes on at
// the operation's steady rate, backs off, and gets through.
func TestTooManyRequestsStorm(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.Throttle("createReport", 3)
	h.amz.Throttle("getReport", 4)
	h.amz.Throttle("getReportDocument", 2)
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	before := h.clock.Now()
	rr := mustRun(t, f, t0).Reports[0]
	if rr.Outcome != fetch.Ingested {
		t.Fatalf("%+v", rr)
	}
	if c, g, d := h.amz.Count("createReport"), h.amz.Count("getReport"), h.amz.Count("getReportDocument"); c != 4 || g != 3+4 || d != 3 {
		t.Errorf("calls: createReport %d getReport %d getReportDocument %d; want 4, 7, 3", c, g, d)
	}
	// After a 429 the bucket is empty: the next call waits for a token at
	// the operation's steady rate. Amazon sees no burst.
	gaps := func(ts []time.Time) []time.Duration {
		var out []time.Duration
		for i := 1; i < len(ts); i++ {
			out = append(out, ts[i].Sub(ts[i-1]))
		}
		return out
	}
	slow := time.Duration(float64(time.Second) / fetch.PublishedPlan(fetch.OpCreateReport).Rate)
	for _, g := range gaps(h.times("POST", "/reports/2021-06-30/reports")) {
		if g < slow {
			t.Errorf("createReport retried after %s, sooner than its rate (0.0167/s) allows", g)
		}
	}
	for _, g := range gaps(h.times("GET", "/reports/2021-06-30/documents/")) {
		if g < slow {
			t.Errorf("getReportDocument called again after %s, sooner than its rate allows", g)
		}
	}
	polls := h.times("GET", "/reports/2021-06-30/reports/")
	for _, g := range gaps(polls[:5]) { // the four 429s and the retry after the last
		if g < 500*time.Millisecond {
			t.Errorf("getReport retried after %s, sooner than its rate (2/s) allows", g)
		}
	}
	if spent := h.clock.Now().Sub(before); spent < 5*time.Minute {
		t.Errorf("the storm took %s of paced time, want at least 5 minutes (5 retries at one a minute)", spent)
	}
}

// A storm that outlasts the retries fails the run with the reason kept for
// status; the next run tries again and gets through.
func TestTooManyRequestsStormOutlastsTheRetries(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.Throttle("createReport", 100)
	cfg := h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us})
	cfg.MaxRetries = 2
	f := h.fetcher(cfg)
	res, err := f.Run(context.Background(), t0)
	if !errors.Is(err, fetch.ErrTransient) || res.Reports[0].Outcome != fetch.Failed {
		t.Fatalf("Run = %v, %+v", err, res.Reports[0])
	}
	if n := h.amz.Count("createReport"); n != 3 {
		t.Errorf("createReport called %d times, want 3 (1 + 2 retries)", n)
	}
	st := h.load(key(fetch.AllOrdersByLastUpdate, us))
	if !strings.Contains(st.LastError, "QuotaExceeded") || st.Failures != 1 || st.Pending != nil {
		t.Errorf("state: %+v", st)
	}
	h.amz.Throttle("createReport", 0)
	h.amz.SetNow(t0.Add(4 * time.Hour))
	if rr := mustRun(t, f, t0.Add(4*time.Hour)).Reports[0]; rr.Outcome != fetch.Ingested {
		t.Errorf("next run: %+v", rr)
	}
}

// The presigned URL expired (403 from the document host): a fresh URL is
// asked for and the download done again.
func TestExpiredPresignedURLIsFetchedAgain(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.FailDownloads(1)
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	rr := mustRun(t, f, t0).Reports[0]
	if rr.Outcome != fetch.Ingested || len(h.files()) != 1 {
		t.Fatalf("%+v", rr)
	}
	if d, n := h.amz.Count("getReportDocument"), len(h.amz.Downloads()); d != 2 || n != 2 {
		t.Errorf("getReportDocument %d, downloads %d; want 2 and 2", d, n)
	}
}

// A URL refused every time: the run fails without leaving anything in the
// inbox, the report stays pending, and the next run downloads it without
// requesting a new one.
func TestExpiredPresignedURLEveryTime(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.FailDownloads(100)
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	res, err := f.Run(context.Background(), t0)
	if !errors.Is(err, fetch.ErrDocument) || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Run = %v", err)
	}
	if names := h.inboxNames(); len(names) != 0 {
		t.Errorf("inbox holds %v after failed downloads", names)
	}
	st := h.load(res.Reports[0].Key)
	if st.Pending == nil || st.Pending.Attempts != 1 || st.Pending.Status != "DONE" {
		t.Fatalf("state: %+v", st)
	}
	h.amz.FailDownloads(0)
	rr := mustRun(t, f, t0.Add(4*time.Hour)).Reports[0]
	if rr.Outcome != fetch.Ingested || !rr.Resumed || rr.ReportID != res.Reports[0].ReportID || h.amz.Count("createReport") != 1 {
		t.Errorf("next run: %+v, %d reports created", rr, h.amz.Count("createReport"))
	}
}

// The document download carries no access token and no Authorization
// header; every API call carries the token.
func TestDocumentDownloadCarriesNoToken(t *testing.T) {
	h := newHarness(t, t0)
	f := h.fetcher(h.config(fetch.DefaultReports, []string{us}))
	mustRun(t, f, t0)
	if len(h.amz.Downloads()) != 2 {
		t.Fatalf("%d downloads, want 2", len(h.amz.Downloads()))
	}
	for _, hd := range h.amz.Downloads() {
		if hd.Get("Authorization") != "" || hd.Get("x-amz-access-token") != "" {
			t.Errorf("document download carried credentials: %v", hd)
		}
		if hd.Get("Accept-Encoding") != "identity" {
			t.Errorf("Accept-Encoding %q: the bytes must come as stored", hd.Get("Accept-Encoding"))
		}
	}
	if n := len(h.amz.Tokens()); n != h.amz.Count("createReport")+h.amz.Count("getReport")+h.amz.Count("getReportDocument") {
		t.Errorf("%d API calls carried a token, want all", n)
	}
}

// A gzip document cut short never reaches the inbox: the stream is read to
// its end (CRC and length) before the rename; after the retries the run
// fails and the report stays pending.
func TestDamagedGzipNeverReachesTheInbox(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
		return fetchtest.Report{Final: "DONE", Doc: fetchtest.Gzip(fetchtest.AllOrders(us, 500)), Gzip: true}
	})
	h.amz.CutDownloads(3)
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	_, err := f.Run(context.Background(), t0)
	if !errors.Is(err, fetch.ErrDocument) || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("Run = %v", err)
	}
	if names := h.inboxNames(); len(names) != 0 || len(h.files()) != 0 {
		t.Errorf("a damaged document reached the inbox: %v", names)
	}
	if n := len(h.amz.Downloads()); n != 3 {
		t.Errorf("%d downloads, want 3 (each with a fresh URL)", n)
	}
}

// A plain (uncompressed) document is written as .txt, a gzip one as
// .txt.gz, each with exactly the bytes served.
func TestPlainAndGzipDocuments(t *testing.T) {
	plain := fetchtest.AllOrders(us, 2)
	for _, gz := range []bool{false, true} {
		h := newHarness(t, t0)
		doc := plain
		if gz {
			doc = fetchtest.Gzip(plain)
		}
		h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
			return fetchtest.Report{Final: "DONE", Doc: doc, Gzip: gz}
		})
		f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
		rr := mustRun(t, f, t0).Reports[0]
		files := h.files()
		if len(files) != 1 {
			t.Fatalf("gzip %v: %d files", gz, len(files))
		}
		wantName := fetch.AllOrdersByLastUpdate + "." + us + "." + rr.ReportID + ".txt"
		if gz {
			wantName += ".gz"
		}
		if files[0].Name != wantName || files[0].Gzip != gz || !bytes.Equal(files[0].raw, doc) || !bytes.Equal(files[0].text, plain) {
			t.Errorf("gzip %v: got %s (gzip %v), want %s with the bytes as served", gz, files[0].Name, files[0].Gzip, wantName)
		}
	}
}

// A restart in the middle of a poll picks the same report up again instead
// of creating another.
func TestRestartMidPollPicksUpTheSameReport(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
		return fetchtest.Report{Polls: 5, Final: "DONE", Doc: fetchtest.AllOrders(us, 2)}
	})
	ctx, stop := context.WithCancel(context.Background())
	h.clock.onSleep = func(n int) {
		if n == 2 {
			stop() // the daemon is told to stop while it waits between polls
		}
	}
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	res, err := f.Run(ctx, t0)
	first := res.Reports[0]
	if !errors.Is(err, context.Canceled) || first.Outcome != fetch.Waiting {
		t.Fatalf("interrupted run = %v, %+v", err, first)
	}
	st := h.load(first.Key)
	if st.Pending == nil || st.Pending.ReportID != first.ReportID || st.Pending.Status != "IN_PROGRESS" || !strings.Contains(st.LastError, "picks it up") {
		t.Fatalf("state after the interruption: %+v", st)
	}

	h.clock.onSleep = nil
	restarted := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	rr := mustRun(t, restarted, t0.Add(10*time.Minute)).Reports[0]
	if h.amz.Count("createReport") != 1 {
		t.Errorf("createReport called %d times, want 1: the restart must poll the same report", h.amz.Count("createReport"))
	}
	if rr.Outcome != fetch.Ingested || !rr.Resumed || rr.ReportID != first.ReportID || rr.Range != first.Range {
		t.Errorf("after restart: %+v, want report %s ingested", rr, first.ReportID)
	}
	if st := h.load(rr.Key); st.Fetched != first.Range || st.LastError != "" {
		t.Errorf("state after restart: %+v", st)
	}
}

// A report still processing when the run's patience ends stays pending;
// the next run polls it again.
func TestPollTimeoutLeavesTheReportPending(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.SetPlan(func(fetchtest.CreateSpec) fetchtest.Report {
		return fetchtest.Report{Polls: 6, Final: "DONE", Doc: fetchtest.AllOrders(us, 1)}
	})
	cfg := h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us})
	cfg.PollTimeout = 2 * time.Minute
	f := h.fetcher(cfg)
	res, err := f.Run(context.Background(), t0)
	if !errors.Is(err, fetch.ErrNotReady) || res.Reports[0].Outcome != fetch.Waiting {
		t.Fatalf("Run = %v, %+v", err, res.Reports[0])
	}
	if rr := mustRun(t, f, t0.Add(4*time.Hour)).Reports[0]; !rr.Resumed || rr.Outcome != fetch.Ingested || h.amz.Count("createReport") != 1 {
		t.Errorf("next run: %+v", rr)
	}
}

// A pending report Amazon no longer knows (404), or one older than
// PendingMaxAge, is replaced by a new report.
func TestUnknownOrStalePendingReportIsReplaced(t *testing.T) {
	for _, age := range []time.Duration{time.Hour, 25 * time.Hour} {
		h := newHarness(t, t0)
		k := key(fetch.AllOrdersByLastUpdate, us)
		old := fetch.Range{Start: t0.Add(-31 * 24 * time.Hour), End: t0.Add(-age)}
		h.state.Save(context.Background(), fetch.ReportState{Key: k, Pending: &fetch.Pending{ReportID: "1", Range: old, RequestedAt: t0.Add(-age)}})
		f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
		rr := mustRun(t, f, t0).Reports[0]
		if rr.Outcome != fetch.Ingested || rr.ReportID == "1" || h.amz.Count("createReport") != 1 {
			t.Errorf("pending %s old: %+v", age, rr)
		}
		polledOld := h.amz.Count("getReport") == 4 // 3 for the new report, 1 (404) for the old
		if polledOld != (age == time.Hour) {
			t.Errorf("pending %s old: polled the old report: %v", age, polledOld)
		}
	}
}

// Ingest refusing the file leaves the report pending: the range is not
// fetched, and the next run downloads and ingests the same report again.
// After three refusals the report is given up and a new one requested.
func TestIngestFailureKeepsTheReportPending(t *testing.T) {
	h := newHarness(t, t0)
	h.ingestErr = errors.New("ledger locked by another process")
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	res, err := f.Run(context.Background(), t0)
	if !errors.Is(err, fetch.ErrIngest) || !strings.Contains(err.Error(), "ledger locked") {
		t.Fatalf("Run = %v", err)
	}
	k := res.Reports[0].Key
	if st := h.load(k); st.Pending == nil || st.Pending.Attempts != 1 || !st.Fetched.IsZero() {
		t.Fatalf("state: %+v", st)
	}
	h.mu.Lock()
	h.ingestErr = nil
	h.mu.Unlock()
	rr := mustRun(t, f, t0.Add(time.Hour)).Reports[0]
	if !rr.Resumed || rr.Outcome != fetch.Ingested || h.amz.Count("createReport") != 1 || len(h.files()) != 1 {
		t.Errorf("next run: %+v", rr)
	}

	h.mu.Lock()
	h.ingestErr = errors.New("file rejected whole")
	h.mu.Unlock()
	for i := range 3 {
		at := t0.Add(time.Duration(2+i) * time.Hour)
		h.amz.SetNow(at)
		f.Run(context.Background(), at)
	}
	st := h.load(k)
	if st.Pending != nil || !strings.Contains(st.LastError, "given up") || st.Failures != 3 {
		t.Errorf("after three refusals: %+v", st)
	}
	if n := h.amz.Count("createReport"); n != 2 {
		t.Errorf("createReport called %d times, want 2", n)
	}
}

// A token Amazon refuses is invalidated and the call made once more with
// a fresh one; a refusal of the fresh one is an authorisation error.
func TestRefusedTokenIsReplacedOnce(t *testing.T) {
	h := newHarness(t, t0)
	h.amz.RefuseToken("Atza|token-1")
	f := h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	if rr := mustRun(t, f, t0).Reports[0]; rr.Outcome != fetch.Ingested {
		t.Fatalf("%+v", rr)
	}
	if !slices.Equal(h.tokens.invalidated, []string{"Atza|token-1"}) {
		t.Errorf("invalidated %v, want token-1 only", h.tokens.invalidated)
	}

	h2 := newHarness(t, t0)
	for i := range 10 {
		h2.amz.RefuseToken("Atza|token-" + string(rune('1'+i)))
	}
	f2 := h2.fetcher(h2.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	_, err := f2.Run(context.Background(), t0)
	if !errors.Is(err, fetch.ErrAuth) || !strings.Contains(err.Error(), "Access to requested resource is denied") {
		t.Errorf("Run = %v, want ErrAuth with Amazon's message", err)
	}
	if n := h2.amz.Count("createReport"); n != 2 {
		t.Errorf("createReport called %d times with refused tokens, want 2", n)
	}
}

// Run does not run twice at once.
func TestRunIsNotReentrant(t *testing.T) {
	h := newHarness(t, t0)
	var f *fetch.Fetcher
	var inner error
	h.onIngest = func(ctx context.Context, _ fetch.File) { _, inner = f.Run(ctx, t0) }
	f = h.fetcher(h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us}))
	mustRun(t, f, t0)
	if !errors.Is(inner, fetch.ErrBusy) {
		t.Errorf("a Run inside a Run returned %v, want ErrBusy", inner)
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	h := newHarness(t, t0)
	tests := []struct {
		name string
		edit func(*fetch.Config)
		want string
	}{
		{"unknown report", func(c *fetch.Config) { c.Reports = []string{"GET_MERCHANT_LISTINGS_ALL_DATA"} }, "unknown report type"},
		{"bad marketplace", func(c *fetch.Config) { c.MarketplaceIDs = []string{"Amazon.de"} }, "not an SP-API marketplace id"},
		{"no endpoint", func(c *fetch.Config) { c.Endpoint = "" }, "endpoint"},
		{"no state", func(c *fetch.Config) { c.State = nil }, "State"},
		{"no inbox", func(c *fetch.Config) { c.InboxDir = "" }, "inbox"},
		{"bad plan", func(c *fetch.Config) { c.Plans = map[fetch.Operation]fetch.Plan{fetch.OpGetReport: {}} }, "usage plan"},
	}
	for _, tt := range tests {
		cfg := h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us})
		tt.edit(&cfg)
		if _, err := fetch.New(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: New = %v, want an error about %q", tt.name, err, tt.want)
		}
	}
}

// A missing inbox fails every stream before anything is requested.
func TestMissingInbox(t *testing.T) {
	h := newHarness(t, t0)
	cfg := h.config([]string{fetch.AllOrdersByLastUpdate}, []string{us})
	cfg.InboxDir = h.inbox + "-missing"
	f := h.fetcher(cfg)
	if _, err := f.Run(context.Background(), t0); err == nil || !strings.Contains(err.Error(), "inbox") || h.amz.Count("createReport") != 0 {
		t.Errorf("Run = %v after %d requests", err, h.amz.Count("createReport"))
	}
}
