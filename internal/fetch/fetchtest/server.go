// Package fetchtest is a local Amazon for tests of the report fetcher: a
// Reports API that follows reports_2021-06-30.json (its paths, its JSON
// shapes CreateReportSpecification, CreateReportResponse, Report,
// ReportDocument and ErrorList, its processing statuses and the
// x-amzn-RateLimit-Limit header), a document host serving presigned URLs
// as S3 does, and an LWA token endpoint. Tests of internal/fetch and
// end-to-end tests of the campaignd binary use it; nothing else should.
package fetchtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// CreateSpec is a createReport body (CreateReportSpecification), decoded
// strictly: an unknown field is refused with 400.
type CreateSpec struct {
	ReportType     string            `json:"reportType"`
	MarketplaceIDs []string          `json:"marketplaceIds"`
	DataStartTime  string            `json:"dataStartTime"`
	DataEndTime    string            `json:"dataEndTime"`
	ReportOptions  map[string]string `json:"reportOptions,omitempty"`
}

// Start and End parse the requested range.
func (s CreateSpec) Start() time.Time { t, _ := time.Parse(time.RFC3339, s.DataStartTime); return t }

// End is the parsed dataEndTime.
func (s CreateSpec) End() time.Time { t, _ := time.Parse(time.RFC3339, s.DataEndTime); return t }

// Report is how one requested report behaves.
type Report struct {
	// Polls: getReport answers IN_QUEUE, then IN_PROGRESS, this many times
	// before the final status.
	Polls int
	// Final is DONE, CANCELLED or FATAL.
	Final string
	// Doc is the document as stored (gzip-compressed when Gzip is set).
	Doc  []byte
	Gzip bool
	// ErrorDoc is a FATAL report's error document; nil for none.
	ErrorDoc []byte

	spec CreateSpec
	id   string
	seen int
}

// Server is the local Amazon. Build it with New; it closes with the test.
type Server struct {
	// API serves the Reports API and the LWA token endpoint; Docs the documents.
	API, Docs *httptest.Server

	mu         sync.Mutex
	now        time.Time
	plan       func(CreateSpec) Report
	reports    map[string]*Report
	nextID     int
	creates    []CreateSpec
	calls      map[string]int
	tokens     []string
	refuse     map[string]bool
	downloads  []http.Header
	throttle   map[string]int
	failDown   int
	cutDown    int
	rateLimit  map[string]string
	issued     int
	badRefresh bool
}

// Cleaner is the part of testing.TB that New needs.
type Cleaner interface{ Cleanup(func()) }

// New starts a local Amazon whose clock reads now: a createReport whose
// dataEndTime is after now is refused, as Amazon refuses one in the future.
// By default every report takes two polls and is DONE with an All Orders
// document of three orders.
func New(t Cleaner, now time.Time) *Server {
	s := &Server{
		now: now, reports: map[string]*Report{}, nextID: 50013019000,
		calls: map[string]int{}, throttle: map[string]int{}, rateLimit: map[string]string{}, refuse: map[string]bool{},
		plan: func(c CreateSpec) Report {
			return Report{Polls: 2, Final: "DONE", Doc: AllOrders(c.MarketplaceIDs[0], 3)}
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /reports/2021-06-30/reports", s.createReport)
	mux.HandleFunc("GET /reports/2021-06-30/reports/{reportId}", s.getReport)
	mux.HandleFunc("GET /reports/2021-06-30/documents/{reportDocumentId}", s.getReportDocument)
	mux.HandleFunc("POST /auth/o2/token", s.token)
	s.API = httptest.NewServer(mux)
	s.Docs = httptest.NewServer(http.HandlerFunc(s.download))
	t.Cleanup(s.API.Close)
	t.Cleanup(s.Docs.Close)
	return s
}

// TokenURL is the LWA token endpoint.
func (s *Server) TokenURL() string { return s.API.URL + "/auth/o2/token" }

// SetNow moves Amazon's clock.
func (s *Server) SetNow(now time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// SetPlan decides how each new report behaves.
func (s *Server) SetPlan(plan func(CreateSpec) Report) { s.mu.Lock(); s.plan = plan; s.mu.Unlock() }

// Throttle makes op (createReport, getReport, getReportDocument) answer
// 429 the next n times.
func (s *Server) Throttle(op string, n int) { s.mu.Lock(); s.throttle[op] = n; s.mu.Unlock() }

// SetRateLimit makes op answer with x-amzn-RateLimit-Limit: v ("" for none).
func (s *Server) SetRateLimit(op, v string) { s.mu.Lock(); s.rateLimit[op] = v; s.mu.Unlock() }

// FailDownloads refuses the next n downloads with 403, as S3 refuses an
// expired presigned URL.
func (s *Server) FailDownloads(n int) { s.mu.Lock(); s.failDown = n; s.mu.Unlock() }

// CutDownloads serves only the first half of the next n documents.
func (s *Server) CutDownloads(n int) { s.mu.Lock(); s.cutDown = n; s.mu.Unlock() }

// RefuseToken answers 403 Unauthorized to calls carrying tok.
func (s *Server) RefuseToken(tok string) { s.mu.Lock(); s.refuse[tok] = true; s.mu.Unlock() }

// RefuseRefreshToken makes the token endpoint answer invalid_grant.
func (s *Server) RefuseRefreshToken() { s.mu.Lock(); s.badRefresh = true; s.mu.Unlock() }

// Creates returns every accepted createReport body, in order.
func (s *Server) Creates() []CreateSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CreateSpec(nil), s.creates...)
}

// Count returns how many calls op got (429s and refusals included); op is
// an operation name or "token".
func (s *Server) Count(op string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[op] }

// Downloads returns the headers of every document download.
func (s *Server) Downloads() []http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]http.Header(nil), s.downloads...)
}

// Tokens returns the access token of every API call that had one.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
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
// returns false when it has answered. s.mu is held.
func (s *Server) gate(w http.ResponseWriter, r *http.Request, op string) bool {
	s.calls[op]++
	tok := r.Header.Get("x-amz-access-token")
	if tok == "" || s.refuse[tok] {
		writeJSON(w, http.StatusForbidden, errorList("Unauthorized", "Access to requested resource is denied."))
		return false
	}
	s.tokens = append(s.tokens, tok)
	if ua := r.Header.Get("user-agent"); !strings.Contains(ua, "Language=Go") {
		writeJSON(w, http.StatusBadRequest, errorList("InvalidInput", "user-agent "+ua))
		return false
	}
	if s.throttle[op] > 0 {
		s.throttle[op]--
		writeJSON(w, http.StatusTooManyRequests, errorList("QuotaExceeded", "You exceeded your quota for the requested resource."))
		return false
	}
	if v := s.rateLimit[op]; v != "" {
		w.Header().Set("x-amzn-RateLimit-Limit", v)
	}
	return true
}

func (s *Server) createReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gate(w, r, "createReport") {
		return
	}
	var spec CreateSpec
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		writeJSON(w, http.StatusBadRequest, errorList("InvalidInput", err.Error()))
		return
	}
	if msg := s.checkSpec(spec); msg != "" {
		writeJSON(w, http.StatusBadRequest, errorList("InvalidInput", msg))
		return
	}
	s.creates = append(s.creates, spec)
	rep := s.plan(spec)
	rep.spec = spec
	rep.id = fmt.Sprint(s.nextID)
	s.nextID++
	s.reports[rep.id] = &rep
	writeJSON(w, http.StatusAccepted, map[string]string{"reportId": rep.id})
}

func (s *Server) checkSpec(c CreateSpec) string {
	if c.ReportType == "" || len(c.MarketplaceIDs) != 1 {
		return "reportType and exactly one marketplaceId are required here"
	}
	start, err1 := time.Parse(time.RFC3339, c.DataStartTime)
	end, err2 := time.Parse(time.RFC3339, c.DataEndTime)
	switch {
	case err1 != nil || err2 != nil:
		return "dataStartTime and dataEndTime must be ISO 8601"
	case !start.Before(end):
		return "dataStartTime must be before dataEndTime"
	case end.After(s.now):
		return "dataEndTime must be prior to or equal to the current date and time"
	case end.Sub(start) > 31*24*time.Hour:
		return "the date range is longer than a month"
	}
	return ""
}

func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gate(w, r, "getReport") {
		return
	}
	rep, ok := s.reports[r.PathValue("reportId")]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorList("NotFound", "The report does not exist."))
		return
	}
	rep.seen++
	status := rep.Final
	switch {
	case rep.seen == 1 && rep.Polls > 0:
		status = "IN_QUEUE"
	case rep.seen <= rep.Polls:
		status = "IN_PROGRESS"
	}
	body := map[string]any{
		"reportId": rep.id, "reportType": rep.spec.ReportType, "marketplaceIds": rep.spec.MarketplaceIDs,
		"dataStartTime": rep.spec.DataStartTime, "dataEndTime": rep.spec.DataEndTime,
		"createdTime": s.now.Format(time.RFC3339), "processingStatus": status,
	}
	if status == "DONE" || (status == "FATAL" && rep.ErrorDoc != nil) {
		body["reportDocumentId"] = docPrefix + rep.id
	}
	writeJSON(w, http.StatusOK, body)
}

const docPrefix = "amzn1.spdoc.1.4.na."

func (s *Server) getReportDocument(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gate(w, r, "getReportDocument") {
		return
	}
	docID := r.PathValue("reportDocumentId")
	rep, ok := s.reports[strings.TrimPrefix(docID, docPrefix)]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorList("NotFound", "The document does not exist."))
		return
	}
	body := map[string]string{
		"reportDocumentId": docID,
		"url":              fmt.Sprintf("%s/%s?X-Amz-Expires=300&X-Amz-Signature=sig%d", s.Docs.URL, docID, s.calls["getReportDocument"]),
	}
	if rep.Gzip && rep.Final == "DONE" {
		body["compressionAlgorithm"] = "GZIP"
	}
	writeJSON(w, http.StatusOK, body)
}

// download is the document host (S3 behind presigned URLs).
func (s *Server) download(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.downloads = append(s.downloads, r.Header.Clone())
	if r.URL.Query().Get("X-Amz-Signature") == "" || s.failDown > 0 {
		if s.failDown > 0 {
			s.failDown--
		}
		w.Header().Set("content-type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>`)
		return
	}
	rep, ok := s.reports[strings.TrimPrefix(strings.TrimPrefix(r.URL.Path, "/"), docPrefix)]
	if !ok {
		http.Error(w, "<Error><Code>NoSuchKey</Code></Error>", http.StatusNotFound)
		return
	}
	body := rep.Doc
	if rep.Final == "FATAL" {
		body = rep.ErrorDoc
	}
	if s.cutDown > 0 {
		s.cutDown--
		body = body[:len(body)/2]
	}
	w.Header().Set("content-length", fmt.Sprint(len(body)))
	w.Write(body)
}

// token is LWA's refresh-token grant.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls["token"]++
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" ||
		r.PostForm.Get("refresh_token") == "" || r.PostForm.Get("client_id") == "" || r.PostForm.Get("client_secret") == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "missing parameter"})
		return
	}
	if s.badRefresh {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"})
		return
	}
	s.issued++
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": fmt.Sprintf("Atza|fetchtest-%d", s.issued), "token_type": "bearer", "expires_in": 3600,
		"refresh_token": r.PostForm.Get("refresh_token"),
	})
}

// AllOrders returns an All Orders report (by last update) for marketplace
// with n orders, all sold on Amazon.com.
func AllOrders(marketplace string, n int) []byte {
	var b bytes.Buffer
	b.WriteString("amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\tproduct-name\tsku\tasin\titem-status\tquantity\n")
	for i := range n {
		fmt.Fprintf(&b, "111-%07d-%07d\t\t2026-11-0%dT10:00:00+00:00\t2026-11-10T10:00:00+00:00\tShipped\tAmazon\tAmazon.com\tMug %s\tSKU-%d\tB0000000%02d\tShipped\t1\n",
			i+1, i+1, i%9+1, marketplace, i, i%100)
	}
	return b.Bytes()
}

// FBAReturns returns an FBA customer returns report with one return.
func FBAReturns() []byte {
	return []byte("return-date\torder-id\tsku\tasin\tfnsku\tproduct-name\tquantity\tfulfillment-center-id\tdetailed-disposition\treason\tstatus\tlicense-plate-number\tcustomer-comments\n" +
		"2026-11-12T08:00:00+00:00\t111-0000002-0000002\tSKU-1\tB000000001\tX001\tMug\t1\tCMH1\tSELLABLE\tUNWANTED_ITEM\tUnit returned to inventory\tLPN1\t\n")
}

// Gzip compresses b as Amazon compresses a GZIP document.
func Gzip(b []byte) []byte {
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}
