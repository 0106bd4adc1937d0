package fetch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

// Paths of the Reports API 2021-06-30.
const (
	pathReports   = "/reports/2021-06-30/reports"
	pathDocuments = "/reports/2021-06-30/documents/"
)

// Processing statuses of a report (the model's Report.processingStatus).
const (
	statusInQueue    = "IN_QUEUE"
	statusInProgress = "IN_PROGRESS"
	statusDone       = "DONE"
	statusCancelled  = "CANCELLED"
	statusFatal      = "FATAL"
)

const (
	// apiTimeout bounds one SP-API request, answer included.
	apiTimeout = 60 * time.Second
	// maxAnswer bounds an SP-API answer body read into memory.
	maxAnswer = 1 << 20
	// backoffFirst is the wait before the first retry after a 429, a 5xx
	// or a network error; it doubles per retry, up to backoffMax.
	backoffFirst = time.Second
	backoffMax   = 2 * time.Minute
	// headerToken carries the LWA access token (no SigV4 since 2023).
	headerToken = "x-amz-access-token"
)

// api calls the Reports API for one account. Each operation has its pacer.
type api struct {
	base       string // endpoint without a trailing slash
	client     *http.Client
	tokens     Tokens
	userAgent  string
	pacers     map[Operation]*pacer
	clock      func() time.Time
	sleep      func(context.Context, time.Duration) error
	maxRetries int
	log        *slog.Logger
}

// answer is an SP-API response, read whole.
type answer struct {
	status    int
	body      []byte
	requestID string
	rateLimit string // x-amzn-RateLimit-Limit, requests per second
}

// apiError is one entry of the model's ErrorList.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details string `json:"details"`
}

// fail describes a non-success answer as an error wrapping sentinel.
func (a *answer) fail(op Operation, sentinel error) error {
	var list struct {
		Errors []apiError `json:"errors"`
	}
	_ = json.Unmarshal(a.body, &list)
	var parts []string
	for _, e := range list.Errors {
		p := e.Code + ": " + e.Message
		if e.Details != "" {
			p += " (" + e.Details + ")"
		}
		parts = append(parts, p)
	}
	text := strings.Join(parts, "; ")
	if text == "" {
		text = shorten(string(a.body), 200)
	}
	desc := fmt.Sprintf("http %d", a.status)
	if text != "" {
		desc += ": " + text
	}
	if a.requestID != "" {
		desc += " [request id " + a.requestID + "]"
	}
	return fmt.Errorf("%s: %w: %s", op, sentinel, desc)
}

// call sends one request through op's pacer with an access token. It
// retries 429, 5xx and network errors with backoff (up to maxRetries), and
// a 401 or 403 once with a fresh token. It returns the body of a 2xx answer.
func (c *api) call(ctx context.Context, op Operation, method, path string, body []byte) ([]byte, error) {
	p := c.pacers[op]
	refreshed := false
	for attempt := 0; ; {
		if err := p.wait(ctx); err != nil {
			return nil, err
		}
		token, err := c.tokens.Token(ctx)
		if err != nil {
			// The token source says whether it is the credentials or the network.
			return nil, fmt.Errorf("%s: access token: %w", op, err)
		}
		a, err := c.send(ctx, method, path, body, token)
		if err != nil && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		v, verr := c.judge(op, a, err, refreshed)
		switch v {
		case verdictDone:
			return a.body, nil
		case verdictRefresh:
			// The cached token may have expired early or been revoked.
			c.tokens.Invalidate(token)
			refreshed = true
			continue
		case verdictFail:
			return nil, verr
		}
		if attempt >= c.maxRetries {
			return nil, verr
		}
		c.log.Warn("reports api: retrying", "operation", string(op), "attempt", attempt+1, keyError, verr)
		if err := c.sleep(ctx, backoff(attempt)); err != nil {
			return nil, err
		}
		attempt++
	}
}

// verdict is what call does after one attempt.
type verdict int

const (
	verdictDone    verdict = iota // a 2xx answer
	verdictRetry                  // 429, 5xx, no answer: back off and retry
	verdictRefresh                // 401/403 with a token that may be stale: retry with a new one
	verdictFail                   // give up
)

// judge decides what an attempt's answer (or the lack of one, err) means,
// and applies what it says about the usage plan.
func (c *api) judge(op Operation, a *answer, err error, refreshed bool) (verdict, error) {
	if err != nil {
		return verdictRetry, fmt.Errorf("%s: %w: %w", op, ErrTransient, err)
	}
	p := c.pacers[op]
	p.observe(a.rateLimit)
	switch {
	case a.status/100 == 2:
		return verdictDone, nil
	case (a.status == http.StatusUnauthorized || a.status == http.StatusForbidden) && !refreshed:
		return verdictRefresh, nil
	case a.status == http.StatusTooManyRequests:
		p.throttled()
		return verdictRetry, a.fail(op, ErrTransient)
	case a.status >= 500:
		return verdictRetry, a.fail(op, ErrTransient)
	default:
		return verdictFail, a.fail(op, classify(a.status))
	}
}

// classify picks the sentinel of a final 4xx answer.
func classify(status int) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return ErrAuth
	case http.StatusNotFound:
		return ErrNotFound
	default:
		return ErrRequest
	}
}

// backoff is the wait before retry attempt+1: 1 s, 2 s, 4 s ... capped.
func backoff(attempt int) time.Duration {
	d := backoffFirst << attempt
	if d > backoffMax || d <= 0 {
		return backoffMax
	}
	return d
}

// send makes one HTTP request and reads the answer. The error is set only
// when no answer came.
func (c *api) send(ctx context.Context, method, path string, body []byte, token string) (*answer, error) {
	ctx, cancel := context.WithTimeout(ctx, apiTimeout)
	defer cancel()
	var rd io.Reader = http.NoBody
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set(headerToken, token)
	req.Header.Set("user-agent", c.userAgent)
	req.Header.Set("x-amz-date", c.clock().UTC().Format("20060102T150405Z"))
	req.Header.Set("accept", "application/json")
	if body != nil {
		req.Header.Set("content-type", "application/json")
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, stripURL(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return &answer{
		status:    resp.StatusCode,
		body:      data,
		requestID: resp.Header.Get("x-amzn-RequestId"),
		rateLimit: resp.Header.Get("x-amzn-RateLimit-Limit"),
	}, nil
}

// stripURL drops the URL from a *url.Error: a presigned URL is a secret
// for its five minutes, and the rest only makes errors long.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// shorten collapses white space in s and trims it to at most n bytes, on
// a rune boundary.
func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// createReportSpecification is the model's CreateReportSpecification.
type createReportSpecification struct {
	ReportType     string   `json:"reportType"`
	MarketplaceIDs []string `json:"marketplaceIds"`
	DataStartTime  string   `json:"dataStartTime"`
	DataEndTime    string   `json:"dataEndTime"`
}

// createReport asks Amazon for a report and returns its id.
func (c *api) createReport(ctx context.Context, k Key, r Range) (string, error) {
	body, err := json.Marshal(createReportSpecification{
		ReportType:     k.ReportType,
		MarketplaceIDs: []string{k.MarketplaceID},
		DataStartTime:  r.Start.UTC().Format(time.RFC3339),
		DataEndTime:    r.End.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return "", err
	}
	out, err := c.call(ctx, OpCreateReport, http.MethodPost, pathReports, body)
	if err != nil {
		return "", err
	}
	var resp struct {
		ReportID string `json:"reportId"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.ReportID == "" {
		return "", fmt.Errorf("%s: %w: answer has no reportId", OpCreateReport, ErrRequest)
	}
	return resp.ReportID, nil
}

// report is the part of the model's Report the fetcher reads.
type report struct {
	ReportID         string `json:"reportId"`
	ReportType       string `json:"reportType"`
	ProcessingStatus string `json:"processingStatus"`
	ReportDocumentID string `json:"reportDocumentId"`
}

// getReport returns a report's details.
func (c *api) getReport(ctx context.Context, id string) (report, error) {
	out, err := c.call(ctx, OpGetReport, http.MethodGet, pathReports+"/"+url.PathEscape(id), nil)
	if err != nil {
		return report{}, err
	}
	var r report
	if err := json.Unmarshal(out, &r); err != nil {
		return report{}, fmt.Errorf("%s: %w: answer is not a Report: %v", OpGetReport, ErrRequest, err)
	}
	switch r.ProcessingStatus {
	case statusInQueue, statusInProgress, statusDone, statusCancelled, statusFatal:
	default:
		return report{}, fmt.Errorf("%s: %w: unknown processingStatus %q", OpGetReport, ErrRequest, r.ProcessingStatus)
	}
	if r.ReportID != "" && r.ReportID != id {
		return report{}, fmt.Errorf("%s: %w: asked for report %s, got %s", OpGetReport, ErrRequest, id, r.ReportID)
	}
	return r, nil
}

// reportDocument is the model's ReportDocument.
type reportDocument struct {
	ReportDocumentID     string `json:"reportDocumentId"`
	URL                  string `json:"url"`
	CompressionAlgorithm string `json:"compressionAlgorithm"`
}

// getReportDocument returns where to download a document; the URL is good
// for five minutes.
func (c *api) getReportDocument(ctx context.Context, id string) (reportDocument, error) {
	out, err := c.call(ctx, OpGetReportDocument, http.MethodGet, pathDocuments+url.PathEscape(id), nil)
	if err != nil {
		return reportDocument{}, err
	}
	var d reportDocument
	if err := json.Unmarshal(out, &d); err != nil {
		return reportDocument{}, fmt.Errorf("%s: %w: answer is not a ReportDocument: %v", OpGetReportDocument, ErrRequest, err)
	}
	u, err := url.Parse(d.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return reportDocument{}, fmt.Errorf("%s: %w: document %s has no usable url", OpGetReportDocument, ErrRequest, id)
	}
	if d.CompressionAlgorithm != "" && d.CompressionAlgorithm != "GZIP" {
		return reportDocument{}, fmt.Errorf("%s: %w: unknown compressionAlgorithm %q", OpGetReportDocument, ErrRequest, d.CompressionAlgorithm)
	}
	return d, nil
}
