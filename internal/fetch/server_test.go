package fetch_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// amazon is a local Reports API that follows reports_2021-06-30.json: its
// paths, its JSON shapes (CreateReportSpecification, CreateReportResponse,
// Report, ReportDocument, ErrorList), its processing statuses and the
// x-amzn-RateLimit-Limit header. Documents are served by a second server,
// as Amazon serves them from another host through presigned URLs.
type amazon struct {
	t    *testing.T
	api  *httptest.Server
	docs *httptest.Server

	mu  sync.Mutex
	now time.Time // requests whose dataEndTime is after now are refused
	// plan decides how each new report behaves.
	plan    func(spec createSpec) fakeReport
	reports map[string]*fakeReport
	nextID  int

	creates     []createSpec   // every accepted createReport body
	calls       map[string]int // answered calls per operation, 429s included
	tokens      []string       // access tokens seen on API calls
	refuseToken map[string]bool
	downloads   []http.Header // headers of every document download
	// throttle: how many 429s each operation still answers.
	throttle map[string]int
	// failDownloads: how many downloads are still refused with 403.
	failDownloads int
	// rateLimit: the x-amzn-RateLimit-Limit value per operation.
	rateLimit map[string]string
	// cutDownload: serve only the first half of the next n documents.
	cutDownloads int
}

// createSpec is the model's CreateReportSpecification, decoded strictly.
type createSpec struct {
	ReportType     string            `json:"reportType"`
	MarketplaceIDs []string          `json:"marketplaceIds"`
	DataStartTime  string            `json:"dataStartTime"`
	DataEndTime    string            `json:"dataEndTime"`
	ReportOptions  map[string]string `json:"reportOptions,omitempty"`
}

func (s createSpec) start() time.Time { t, _ := time.Parse(time.RFC3339, s.DataStartTime); return t }
func (s createSpec) end() time.Time   { t, _ := time.Parse(time.RFC3339, s.DataEndTime); return t }

// fakeReport is one report and how it behaves.
type fakeReport struct {
	spec     createSpec
	id       string
	polls    int    // getReport answers IN_QUEUE/IN_PROGRESS this many times first
	final    string // DONE, CANCELLED or FATAL
	doc      []byte // the document as stored (compressed when gzip)
	gzip     bool
	errorDoc []byte // FATAL's error document, if any
	seen     int
}

func newAmazon(t *testing.T, now time.Time) *amazon {
	a := &amazon{
		t: t, now: now, reports: map[string]*fakeReport{}, nextID: 50013019000,
		calls: map[string]int{}, throttle: map[string]int{}, rateLimit: map[string]string{},
		refuseToken: map[string]bool{},
		plan: func(s createSpec) fakeReport {
			return fakeReport{polls: 2, final: "DONE", doc: allOrders(s.MarketplaceIDs[0], 3)}
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reports/2021-06-30/reports", a.createReport)
	mux.HandleFunc("GET /reports/2021-06-30/reports/{reportId}", a.getReport)
	mux.HandleFunc("GET /reports/2021-06-30/documents/{reportDocumentId}", a.getReportDocument)
	a.api = httptest.NewServer(mux)
	a.docs = httptest.NewServer(http.HandlerFunc(a.download))
	t.Cleanup(a.api.Close)
	t.Cleanup(a.docs.Close)
	return a
}

func (a *amazon) setNow(now time.Time) { a.mu.Lock(); a.now = now; a.mu.Unlock() }

func (a *amazon) count(op string) int { a.mu.Lock(); defer a.mu.Unlock(); return a.calls[op] }

func (a *amazon) createdSpecs() []createSpec {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]createSpec(nil), a.creates...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("content-type", "application/json")
	w.Header().Set("x-amzn-RequestId", "req-1")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func errorList(code, msg string) any {
	return map[string]any{"errors": []map[string]string{{"code": code, "message": msg}}}
}

// gate checks what every API call must carry and applies throttling. It
// returns false when it has answered.
func (a *amazon) gate(w http.ResponseWriter, r *http.Request, op string) bool {
	a.calls[op]++
	tok := r.Header.Get("x-amz-access-token")
	if tok == "" || a.refuseToken[tok] {
		writeJSON(w, http.StatusForbidden, errorList("Unauthorized", "Access to requested resource is denied."))
		return false
	}
	a.tokens = append(a.tokens, tok)
	if ua := r.Header.Get("user-agent"); !strings.Contains(ua, "Language=Go") {
		writeJSON(w, http.StatusBadRequest, errorList("InvalidInput", "user-agent "+ua))
		return false
	}
	if a.throttle[op] > 0 {
		a.throttle[op]--
		writeJSON(w, http.StatusTooManyRequests, errorList("QuotaExceeded", "You exceeded your quota for the requested resource."))
		return false
	}
	if v := a.rateLimit[op]; v != "" {
		w.Header().Set("x-amzn-RateLimit-Limit", v)
	}
	return true
}

func (a *amazon) createReport(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.gate(w, r, "createReport") {
		return
	}
	var spec createSpec
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		writeJSON(w, http.StatusBadRequest, errorList("InvalidInput", err.Error()))
		return
	}
	if msg := a.checkSpec(spec); msg != "" {
		writeJSON(w, http.StatusBadRequest, errorList("InvalidInput", msg))
		return
	}
	a.creates = append(a.creates, spec)
	rep := a.plan(spec)
	rep.spec = spec
	rep.id = fmt.Sprint(a.nextID)
	a.nextID++
	a.reports[rep.id] = &rep
	writeJSON(w, http.StatusAccepted, map[string]string{"reportId": rep.id})
}

func (a *amazon) checkSpec(s createSpec) string {
	if s.ReportType == "" || len(s.MarketplaceIDs) != 1 {
		return "reportType and exactly one marketplaceId are required here"
	}
	start, err1 := time.Parse(time.RFC3339, s.DataStartTime)
	end, err2 := time.Parse(time.RFC3339, s.DataEndTime)
	switch {
	case err1 != nil || err2 != nil:
		return "dataStartTime and dataEndTime must be ISO 8601"
	case !start.Before(end):
		return "dataStartTime must be before dataEndTime"
	case end.After(a.now):
		return "dataEndTime must be prior to or equal to the current date and time"
	case end.Sub(start) > 31*24*time.Hour:
		return "the date range is longer than a month"
	}
	return ""
}

func (a *amazon) getReport(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.gate(w, r, "getReport") {
		return
	}
	rep, ok := a.reports[r.PathValue("reportId")]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorList("NotFound", "The report does not exist."))
		return
	}
	rep.seen++
	status := rep.final
	switch {
	case rep.seen == 1 && rep.polls > 0:
		status = "IN_QUEUE"
	case rep.seen <= rep.polls:
		status = "IN_PROGRESS"
	}
	body := map[string]any{
		"reportId": rep.id, "reportType": rep.spec.ReportType, "marketplaceIds": rep.spec.MarketplaceIDs,
		"dataStartTime": rep.spec.DataStartTime, "dataEndTime": rep.spec.DataEndTime,
		"createdTime": a.now.Format(time.RFC3339), "processingStatus": status,
	}
	if status == "DONE" || (status == "FATAL" && rep.errorDoc != nil) {
		body["reportDocumentId"] = "amzn1.spdoc.1.4.na." + rep.id
	}
	writeJSON(w, http.StatusOK, body)
}

func (a *amazon) getReportDocument(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.gate(w, r, "getReportDocument") {
		return
	}
	docID := r.PathValue("reportDocumentId")
	rep, ok := a.reports[strings.TrimPrefix(docID, "amzn1.spdoc.1.4.na.")]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorList("NotFound", "The document does not exist."))
		return
	}
	body := map[string]string{
		"reportDocumentId": docID,
		"url":              fmt.Sprintf("%s/%s?X-Amz-Expires=300&X-Amz-Signature=sig%d", a.docs.URL, docID, a.calls["getReportDocument"]),
	}
	if rep.gzip && rep.final == "DONE" {
		body["compressionAlgorithm"] = "GZIP"
	}
	writeJSON(w, http.StatusOK, body)
}

// download is the document host (S3 behind presigned URLs).
func (a *amazon) download(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.downloads = append(a.downloads, r.Header.Clone())
	if r.URL.Query().Get("X-Amz-Signature") == "" {
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
		return
	}
	if a.failDownloads > 0 {
		a.failDownloads--
		w.Header().Set("content-type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		return
	}
	rep, ok := a.reports[strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"), "amzn1.spdoc.1.4.na.")]
	if !ok {
		http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
		return
	}
	body := rep.doc
	if rep.final == "FATAL" {
		body = rep.errorDoc
	}
	if a.cutDownloads > 0 {
		a.cutDownloads--
		body = body[:len(body)/2]
	}
	w.Header().Set("content-length", fmt.Sprint(len(body)))
	w.Write(body)
}

// allOrders returns an All Orders report for marketplace with n orders.
func allOrders(marketplace string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\tproduct-name\tsku\tasin\titem-status\tquantity\n")
	for i := range n {
		fmt.Fprintf(&b, "111-%07d-%07d\t\t2026-11-0%dT10:00:00+00:00\t2026-11-10T10:00:00+00:00\tShipped\tAmazon\tAmazon.com\tMug %s\tSKU-%d\tB0000000%02d\tShipped\t1\n",
			i+1, i+1, i%9+1, marketplace, i, i)
	}
	return b.Bytes()
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// fakeClock is the pacing clock: Sleep advances it at once and records
// the wait, so no test waits on the real clock.
type fakeClock struct {
	mu      sync.Mutex
	t       time.Time
	sleeps  []time.Duration
	onSleep func(n int) // called with the number of sleeps so far, outside the lock
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.sleeps = append(c.sleeps, d)
	n, hook := len(c.sleeps), c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook(n)
	}
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// tokenSource hands out numbered access tokens and records invalidations,
// as *lwa.Source does at this seam.
type tokenSource struct {
	mu          sync.Mutex
	n           int
	current     string
	invalidated []string
}

func (s *tokenSource) Token(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.current == "" {
		s.n++
		s.current = fmt.Sprintf("Atza|token-%d", s.n)
	}
	return s.current, nil
}

func (s *tokenSource) Invalidate(tok string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.invalidated = append(s.invalidated, tok)
	if tok == s.current {
		s.current = ""
	}
}
