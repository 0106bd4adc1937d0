package channel

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"campaignd/internal/lwa"
)

// The Solicitations API action campaignd sends.
const actionReview = "productReviewAndSellerFeedback"

// Defaults of SPAPIConfig.
const (
	DefaultSPAPIRate       = 1.0 // requests per second (Solicitations usage plan)
	DefaultSPAPIBurst      = 5
	DefaultSPAPIMaxRetries = 3
	DefaultSPAPIBackoff    = time.Second
	DefaultSPAPIUserAgent  = "campaignd/dev (Language=Go; Platform=Linux)"
	// backoffMax caps the retry delay, which doubles per retry.
	backoffMax = 60 * time.Second
	maxBody    = 1 << 20
)

// paceHeadroom is the share of the allowed rate campaignd uses. Amazon
// counts a request when it arrives, and network delay bunches requests up
// on the way: pacing at 95 % of the rate, with one request less of burst,
// leaves room for up to one interval of jitter, and never a 429 of our own
// making.
const paceHeadroom = 0.95

// marketplaceIDPattern is what an SP-API marketplace id looks like.
var marketplaceIDPattern = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// SPAPIConfig configures the spapi channel. Endpoint is required, and
// either Tokens or all of TokenEndpoint, ClientID, ClientSecret and
// RefreshToken.
type SPAPIConfig struct {
	// Endpoint is the regional SP-API base URL, e.g. "https://sellingpartnerapi-eu.amazon.com".
	Endpoint string
	// Tokens is the account's LWA token source, shared with the other
	// SP-API clients of the account. When nil, NewSPAPI builds one from
	// the four fields below.
	Tokens *lwa.Source
	// TokenEndpoint is the LWA token URL, "https://api.amazon.com/auth/o2/token".
	TokenEndpoint string
	// ClientID, ClientSecret and RefreshToken are the LWA credentials. They
	// never appear in errors.
	ClientID, ClientSecret, RefreshToken string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// UserAgent is sent on every request; Amazon requires
	// "AppName/Version (Language=Go; Platform=Linux)". Defaults to DefaultSPAPIUserAgent.
	UserAgent string
	// Now stamps x-amz-date; it defaults to time.Now. Pacing never reads
	// it: the rate limiter runs on the monotonic clock.
	Now func() time.Time
	// Sleep waits d or until ctx is done between retries. Defaults to a
	// real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rate is the allowed request rate in requests per second (default 1,
	// Amazon's usage plan). An x-amzn-RateLimit-Limit answer lower than Rate
	// lowers it. Requests are paced a little below it (see paceHeadroom).
	Rate float64
	// Burst is the allowed burst (default 5); campaignd bursts one less.
	Burst int
	// MaxRetries is how often a request answered with 429 or 5xx, or lost
	// to a network error, is retried (default 3; negative: never).
	MaxRetries int
	// Backoff is the first retry delay; it doubles per retry up to a
	// minute (default 1 s).
	Backoff time.Duration
}

// String describes the configuration without the client secret and the
// refresh token.
func (c SPAPIConfig) String() string {
	red := func(v string) string {
		if v == "" {
			return ""
		}
		return "[redacted]"
	}
	return fmt.Sprintf("{Endpoint:%s TokenEndpoint:%s ClientID:%s ClientSecret:%s RefreshToken:%s UserAgent:%s Rate:%v Burst:%d MaxRetries:%d Backoff:%s}",
		c.Endpoint, c.TokenEndpoint, c.ClientID, red(c.ClientSecret), red(c.RefreshToken), c.UserAgent, c.Rate, c.Burst, c.MaxRetries, c.Backoff)
}

// GoString is String, so that %#v does not print the secrets either.
func (c SPAPIConfig) GoString() string { return "channel.SPAPIConfig" + c.String() }

// SPAPI sends review requests through Amazon's Solicitations API: for each
// order it asks which solicitation actions are offered and, if
// productReviewAndSellerFeedback is, creates it. Amazon writes the email.
// Requests of one SPAPI share one rate limiter; build one per account.
type SPAPI struct {
	endpoint   *url.URL
	tokens     *lwa.Source
	client     *http.Client
	userAgent  string
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	maxRetries int
	backoff    time.Duration

	// lim paces requests. golang.org/x/time/rate reads time.Now, whose
	// monotonic reading is immune to the pass's clock (run --at) and to
	// the wall clock being set.
	lim    *rate.Limiter
	rateMu sync.Mutex
	rate   float64 // the allowed rate; lim runs at paceHeadroom of it
}

// NewSPAPI returns an spapi channel for one account.
func NewSPAPI(cfg SPAPIConfig) (*SPAPI, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("spapi: missing endpoint")
	}
	ep, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (ep.Scheme != "https" && ep.Scheme != "http") || ep.Host == "" {
		return nil, fmt.Errorf("spapi: endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) || cfg.Burst < 0 || cfg.Backoff < 0 {
		return nil, fmt.Errorf("spapi: rate %v, burst %d and backoff %s must not be negative", cfg.Rate, cfg.Burst, cfg.Backoff)
	}
	s := &SPAPI{endpoint: ep, tokens: cfg.Tokens, client: cfg.HTTPClient, userAgent: cfg.UserAgent, now: cfg.Now,
		sleep: cfg.Sleep, maxRetries: cfg.MaxRetries, backoff: cfg.Backoff, rate: cfg.Rate}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.tokens == nil {
		s.tokens, err = lwa.New(lwa.Config{TokenEndpoint: cfg.TokenEndpoint, ClientID: cfg.ClientID,
			ClientSecret: cfg.ClientSecret, RefreshToken: cfg.RefreshToken, HTTPClient: s.client, UserAgent: cfg.UserAgent})
		if err != nil {
			return nil, fmt.Errorf("spapi: %w", err)
		}
	}
	s.defaults()
	burst := cmp.Or(cfg.Burst, DefaultSPAPIBurst)
	s.lim = rate.NewLimiter(rate.Limit(s.rate*paceHeadroom), max(burst-1, 1))
	return s, nil
}

// defaults fills in what the configuration left unset.
func (s *SPAPI) defaults() {
	s.userAgent = cmp.Or(s.userAgent, DefaultSPAPIUserAgent)
	s.rate = cmp.Or(s.rate, DefaultSPAPIRate)
	s.maxRetries = max(cmp.Or(s.maxRetries, DefaultSPAPIMaxRetries), 0)
	s.backoff = cmp.Or(s.backoff, DefaultSPAPIBackoff)
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Name returns "spapi".
func (s *SPAPI) Name() string { return "spapi" }

// NeedsTemplate returns false: Amazon writes the email.
func (s *SPAPI) NeedsTemplate() bool { return false }

// NeedsBuyerEmail returns false.
func (s *SPAPI) NeedsBuyerEmail() bool { return false }

// Close releases idle connections.
func (s *SPAPI) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// Rate returns the allowed request rate, after any lowering by an
// x-amzn-RateLimit-Limit answer. Requests go at paceHeadroom of it.
func (s *SPAPI) Rate() float64 {
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	return s.rate
}

// Send asks Amazon which solicitations it offers for the order and, if
// productReviewAndSellerFeedback is among them, creates it. A 201 means the
// request went. When the action is not offered Send returns ErrNotOffered
// without posting (look again later, within the deadline).
//
// A 403 "not available for this amazonOrderId" to the POST returns
// ErrAlreadySent: Amazon already holds a solicitation for the order, which
// includes a POST of ours that went through before a lost answer was retried.
func (s *SPAPI) Send(ctx context.Context, m Message) error {
	if err := checkSPAPIMessage(m); err != nil {
		return err
	}
	offered, err := s.offered(ctx, m)
	if err != nil {
		return err
	}
	if !offered {
		return fmt.Errorf("spapi: order %s: %s: %w", m.OrderID, actionReview, ErrNotOffered)
	}
	path := "/solicitations/v1/orders/" + url.PathEscape(m.OrderID) + "/solicitations/" + actionReview
	resp, err := s.do(ctx, http.MethodPost, path, m.MarketplaceID)
	if err != nil {
		return fmt.Errorf("spapi: order %s: create solicitation: %w", m.OrderID, err)
	}
	if resp.status/100 != 2 {
		return fmt.Errorf("spapi: order %s: create solicitation: %w", m.OrderID, resp.classify())
	}
	return nil
}

// Reconcile asks Amazon which solicitations it offers for the order. If
// productReviewAndSellerFeedback is still offered, no solicitation exists for
// the order, so the verdict is NotSent and sending is safe (and even a
// stale answer is harmless: Amazon refuses a second solicitation with the
// 403 that Send reports as ErrAlreadySent). If it is not offered, the order
// may have been solicited or may just not be eligible yet; a GET cannot tell
// those apart, so the verdict is Unknown. A 403 "not available for this
// amazonOrderId" to the GET means the solicitation exists: WasSent.
func (s *SPAPI) Reconcile(ctx context.Context, m Message) (Verdict, error) {
	if err := checkSPAPIMessage(m); err != nil {
		return Unknown, err
	}
	offered, err := s.offered(ctx, m)
	switch {
	case errors.Is(err, ErrAlreadySent):
		return WasSent, nil
	case err != nil:
		return Unknown, err
	case offered:
		return NotSent, nil
	default:
		return Unknown, nil
	}
}

func checkSPAPIMessage(m Message) error {
	if !safeName.MatchString(m.OrderID) {
		return fmt.Errorf("spapi: order id %q is not usable: %w", m.OrderID, ErrPermanent)
	}
	if !marketplaceIDPattern.MatchString(m.MarketplaceID) {
		return fmt.Errorf("spapi: order %s: marketplace id %q is not usable: %w", m.OrderID, m.MarketplaceID, ErrPermanent)
	}
	return nil
}

// actionsResponse is the part of GetSolicitationActionsForOrderResponse
// campaignd reads.
type actionsResponse struct {
	Links struct {
		Actions []struct {
			Href string `json:"href"`
			Name string `json:"name"`
		} `json:"actions"`
	} `json:"_links"`
	Embedded struct {
		Actions []struct {
			Links struct {
				Self   struct{ Name string } `json:"self"`
				Schema struct{ Name string } `json:"schema"`
			} `json:"_links"`
			Payload struct {
				Name string `json:"name"`
			} `json:"payload"`
		} `json:"actions"`
	} `json:"_embedded"`
}

func (r actionsResponse) offers(name string) bool {
	for _, a := range r.Links.Actions {
		if a.Name == name {
			return true
		}
	}
	for _, a := range r.Embedded.Actions {
		if a.Payload.Name == name || a.Links.Schema.Name == name || a.Links.Self.Name == name {
			return true
		}
	}
	return false
}

// offered reports whether Amazon offers productReviewAndSellerFeedback for m.
func (s *SPAPI) offered(ctx context.Context, m Message) (bool, error) {
	path := "/solicitations/v1/orders/" + url.PathEscape(m.OrderID)
	resp, err := s.do(ctx, http.MethodGet, path, m.MarketplaceID)
	if err != nil {
		return false, fmt.Errorf("spapi: order %s: get solicitation actions: %w", m.OrderID, err)
	}
	if resp.status != http.StatusOK {
		return false, fmt.Errorf("spapi: order %s: get solicitation actions: %w", m.OrderID, resp.classify())
	}
	var ar actionsResponse
	if err := json.Unmarshal(resp.body, &ar); err != nil {
		return false, fmt.Errorf("spapi: order %s: get solicitation actions: decode answer: %w: %w", m.OrderID, ErrTransient, err)
	}
	return ar.offers(actionReview), nil
}

// response is an SP-API answer, read whole.
type response struct {
	status    int
	body      []byte
	requestID string
}

// apiError is one entry of the model's ErrorList.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Details string `json:"details"`
}

// classify turns a non-success answer into an error wrapping one sentinel.
// 403s are told apart by their message, because Amazon answers a duplicate,
// an order outside the window and a credential problem all with 403.
func (r *response) classify() error {
	text := r.errorText()
	desc := fmt.Sprintf("http %d", r.status)
	if text != "" {
		desc += ": " + text
	}
	if r.requestID != "" {
		desc += " [request id " + r.requestID + "]"
	}
	lower := strings.ToLower(text)
	var sentinel error
	switch {
	case r.status == http.StatusForbidden && strings.Contains(lower, "not available for this amazonorderid"):
		sentinel = ErrAlreadySent
	case r.status == http.StatusForbidden && (strings.Contains(lower, "5-30 day") || strings.Contains(lower, "outside")):
		sentinel = ErrOutsideWindow
	case r.status == http.StatusForbidden || r.status == http.StatusUnauthorized:
		sentinel = ErrAuth
	case r.status == http.StatusTooManyRequests || r.status >= 500:
		sentinel = ErrTransient
	case r.status >= 400 && r.status < 500:
		sentinel = ErrPermanent
	default:
		sentinel = ErrTransient
	}
	return fmt.Errorf("%w: %s", sentinel, desc)
}

// errorText is what Amazon said in an error answer: its errors
// ("code: message (details); ..."), or else the start of the body.
func (r *response) errorText() string {
	var body struct {
		Errors []apiError `json:"errors"`
	}
	_ = json.Unmarshal(r.body, &body)
	var parts []string
	for _, e := range body.Errors {
		p := e.Code + ": " + e.Message
		if e.Details != "" {
			p += " (" + e.Details + ")"
		}
		parts = append(parts, p)
	}
	if len(parts) > 0 {
		return strings.Join(parts, "; ")
	}
	text := strings.TrimSpace(string(r.body))
	if len(text) > 200 {
		text = text[:200] + "…"
	}
	return text
}

// do sends one SP-API request through the rate limiter, with the access
// token, retrying 429, 5xx and network errors with exponential backoff. It
// returns the final answer whatever its status; the error is set only when
// no answer could be had (wrapping ErrTransient or ErrAuth).
func (s *SPAPI) do(ctx context.Context, method, path, marketplaceID string) (*response, error) {
	u := *s.endpoint
	u.Path = s.endpoint.Path + path
	u.RawPath = ""
	u.RawQuery = url.Values{"marketplaceIds": {marketplaceID}}.Encode()
	target := u.String()
	for attempt := 0; ; attempt++ {
		r, retryErr, err := s.attempt(ctx, method, path, target)
		switch {
		case err != nil:
			return nil, err
		case retryErr == nil:
			return r, nil
		case attempt >= s.maxRetries && r != nil:
			return r, nil
		case attempt >= s.maxRetries:
			return nil, retryErr
		}
		if err := s.sleep(ctx, backoff(s.backoff, attempt)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTransient, err)
		}
	}
}

// request builds an SP-API request with the access token and the headers
// Amazon asks for.
func (s *SPAPI) request(ctx context.Context, method, target, token string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, http.NoBody)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPermanent, err)
	}
	req.Header.Set("x-amz-access-token", token)
	req.Header.Set("user-agent", s.userAgent)
	req.Header.Set("x-amz-date", s.now().UTC().Format("20060102T150405Z"))
	req.Header.Set("accept", "application/hal+json, application/json")
	return req, nil
}

// attempt sends one request and reads the answer. retryErr is set when the
// request may be retried (a 429, a 5xx, a network error; r keeps the answer
// if there was one), err when it must not be (no token, a cancelled
// context).
func (s *SPAPI) attempt(ctx context.Context, method, path, target string) (r *response, retryErr, err error) {
	if err := s.lim.Wait(ctx); err != nil {
		return nil, nil, fmt.Errorf("%w: wait for the rate limit: %w", ErrTransient, err)
	}
	token, err := s.tokens.Token(ctx)
	if err != nil {
		return nil, nil, tokenError(err)
	}
	req, err := s.request(ctx, method, target, token)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrTransient, ctx.Err())
		}
		return nil, fmt.Errorf("%w: %s %s: %w", ErrTransient, method, path, stripURLError(err)), nil
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	s.observeRateLimit(resp.Header.Get("x-amzn-RateLimit-Limit"))
	if rerr != nil {
		return nil, fmt.Errorf("%w: %s %s: read answer: %w", ErrTransient, method, path, rerr), nil
	}
	r = &response{status: resp.StatusCode, body: body, requestID: resp.Header.Get("x-amzn-RequestId")}
	switch {
	case r.status == http.StatusTooManyRequests:
		s.drain()
		return r, r.classify(), nil
	case r.status >= 500:
		return r, r.classify(), nil
	case r.status == http.StatusForbidden && isTokenProblem(r):
		// The cached token may have been revoked or expired early: drop it
		// so the next request asks LWA for a new one.
		s.tokens.Invalidate(token)
	}
	return r, nil, nil
}

// tokenError maps an LWA failure to the channel's sentinels.
func tokenError(err error) error {
	if errors.Is(err, lwa.ErrAuth) {
		return fmt.Errorf("%w: %w", ErrAuth, err)
	}
	return fmt.Errorf("%w: %w", ErrTransient, err)
}

// stripURLError drops the URL from a *url.Error (the query is harmless, but
// keep errors short and free of anything but the operation).
func stripURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func isTokenProblem(r *response) bool {
	err := r.classify()
	return errors.Is(err, ErrAuth)
}

// backoff is the delay before retry attempt+1: base, then doubled per
// retry, capped at a minute.
func backoff(base time.Duration, attempt int) time.Duration {
	d := base << attempt
	if d > backoffMax || d <= 0 {
		return backoffMax
	}
	return d
}

// drain empties the bucket after a 429. Amazon's bucket for the account is
// empty (another application of the seller's may share the quota), so the
// next requests must wait for it to refill instead of spending a burst.
func (s *SPAPI) drain() {
	now := time.Now()
	// Rounded up: a fraction of a token left behind would let the next
	// request go almost at once.
	if n := int(math.Ceil(s.lim.TokensAt(now))); n > 0 {
		s.lim.ReserveN(now, n)
	}
}

// observeRateLimit lowers the rate to what Amazon says applies. It never
// raises it above the configured rate.
func (s *SPAPI) observeRateLimit(v string) {
	if v == "" {
		return
	}
	r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
		return
	}
	s.rateMu.Lock()
	defer s.rateMu.Unlock()
	if r < s.rate {
		s.rate = r
		s.lim.SetLimit(rate.Limit(r * paceHeadroom))
	}
}
