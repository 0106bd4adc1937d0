package channel

import (
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
)

// The Solicitations API action campaignd sends.
const actionReview = "productReviewAndSellerFeedback"

// Defaults of SPAPIConfig.
const (
	DefaultSPAPIRate       = 1.0 // requests per second (Solicitations usage plan)
	DefaultSPAPIBurst      = 5
	DefaultSPAPIMaxRetries = 3
	DefaultSPAPIUserAgent  = "campaignd/dev (Language=Go; Platform=Linux)"
	// tokenEarly is how long before its expiry an access token is refreshed.
	tokenEarly = 60 * time.Second
	// backoffBase is the first retry delay after a 429 or 5xx; it doubles per retry.
	backoffBase = time.Second
	backoffMax  = 60 * time.Second
	maxBody     = 1 << 20
)

// marketplaceIDPattern is what an SP-API marketplace id looks like.
var marketplaceIDPattern = regexp.MustCompile(`^[A-Z0-9]{5,20}$`)

// SPAPIConfig configures the spapi channel. Endpoint, TokenEndpoint,
// ClientID, ClientSecret and RefreshToken are required.
type SPAPIConfig struct {
	// Endpoint is the regional SP-API base URL, e.g. "https://sellingpartnerapi-eu.amazon.com".
	Endpoint string
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
	// Now defaults to time.Now.
	Now func() time.Time
	// Sleep waits d or until ctx is done; it is used by the rate limiter and
	// the retry backoff. Defaults to a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rate is the request rate in requests per second (default 1). An
	// x-amzn-RateLimit-Limit answer lower than Rate lowers it.
	Rate float64
	// Burst is the token bucket's size (default 5).
	Burst int
	// MaxRetries is how often a request answered with 429 or 5xx, or lost
	// to a network error, is retried (default 3; negative: never).
	MaxRetries int
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
	return fmt.Sprintf("{Endpoint:%s TokenEndpoint:%s ClientID:%s ClientSecret:%s RefreshToken:%s UserAgent:%s Rate:%v Burst:%d MaxRetries:%d}",
		c.Endpoint, c.TokenEndpoint, c.ClientID, red(c.ClientSecret), red(c.RefreshToken), c.UserAgent, c.Rate, c.Burst, c.MaxRetries)
}

// GoString is String, so that %#v does not print the secrets either.
func (c SPAPIConfig) GoString() string { return "channel.SPAPIConfig" + c.String() }

// SPAPI sends review requests through Amazon's Solicitations API: for each
// order it asks which solicitation actions are offered and, if
// productReviewAndSellerFeedback is, creates it. Amazon writes the email.
// Requests of one SPAPI share one token bucket; build one per account.
type SPAPI struct {
	endpoint   *url.URL
	tokenURL   string
	clientID   string
	secret     string
	refresh    string
	client     *http.Client
	userAgent  string
	now        func() time.Time
	sleep      func(context.Context, time.Duration) error
	maxRetries int

	tokenMu sync.Mutex
	token   string
	expiry  time.Time

	limitMu sync.Mutex
	rate    float64
	burst   float64
	tokens  float64
	last    time.Time
}

// NewSPAPI returns an spapi channel for one account.
func NewSPAPI(cfg SPAPIConfig) (*SPAPI, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"endpoint", cfg.Endpoint}, {"token_endpoint", cfg.TokenEndpoint}, {"client_id", cfg.ClientID},
		{"client_secret", cfg.ClientSecret}, {"refresh_token", cfg.RefreshToken},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("spapi: missing %s", strings.Join(missing, ", "))
	}
	ep, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil || (ep.Scheme != "https" && ep.Scheme != "http") || ep.Host == "" {
		return nil, fmt.Errorf("spapi: endpoint %q is not an http(s) URL", cfg.Endpoint)
	}
	if tu, err := url.Parse(cfg.TokenEndpoint); err != nil || (tu.Scheme != "https" && tu.Scheme != "http") || tu.Host == "" {
		return nil, fmt.Errorf("spapi: token endpoint %q is not an http(s) URL", cfg.TokenEndpoint)
	}
	if cfg.Rate < 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) || cfg.Burst < 0 {
		return nil, fmt.Errorf("spapi: rate %v and burst %d must not be negative", cfg.Rate, cfg.Burst)
	}
	s := &SPAPI{
		endpoint:   ep,
		tokenURL:   cfg.TokenEndpoint,
		clientID:   cfg.ClientID,
		secret:     cfg.ClientSecret,
		refresh:    cfg.RefreshToken,
		client:     cfg.HTTPClient,
		userAgent:  cfg.UserAgent,
		now:        cfg.Now,
		sleep:      cfg.Sleep,
		maxRetries: cfg.MaxRetries,
		rate:       cfg.Rate,
		burst:      float64(cfg.Burst),
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: 30 * time.Second}
	}
	if s.userAgent == "" {
		s.userAgent = DefaultSPAPIUserAgent
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.sleep == nil {
		s.sleep = sleepCtx
	}
	if s.rate == 0 {
		s.rate = DefaultSPAPIRate
	}
	if s.burst == 0 {
		s.burst = DefaultSPAPIBurst
	}
	if s.maxRetries == 0 {
		s.maxRetries = DefaultSPAPIMaxRetries
	}
	if s.maxRetries < 0 {
		s.maxRetries = 0
	}
	s.tokens = s.burst
	return s, nil
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

// Rate returns the request rate currently applied, after any lowering by an
// x-amzn-RateLimit-Limit answer.
func (s *SPAPI) Rate() float64 {
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
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
	text := strings.Join(parts, "; ")
	if text == "" {
		text = strings.TrimSpace(string(r.body))
		if len(text) > 200 {
			text = text[:200] + "…"
		}
	}
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
		if err := s.wait(ctx); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTransient, err)
		}
		token, err := s.accessToken(ctx)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, method, target, http.NoBody)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		req.Header.Set("x-amz-access-token", token)
		req.Header.Set("user-agent", s.userAgent)
		req.Header.Set("x-amz-date", s.now().UTC().Format("20060102T150405Z"))
		req.Header.Set("accept", "application/hal+json, application/json")

		resp, err := s.client.Do(req)
		var r *response
		var retryErr error
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: %w", ErrTransient, ctx.Err())
			}
			retryErr = fmt.Errorf("%w: %s %s: %w", ErrTransient, method, path, stripURLError(err))
		} else {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
			resp.Body.Close()
			s.observeRateLimit(resp.Header.Get("x-amzn-RateLimit-Limit"))
			r = &response{status: resp.StatusCode, body: body, requestID: resp.Header.Get("x-amzn-RequestId")}
			switch {
			case rerr != nil:
				retryErr = fmt.Errorf("%w: %s %s: read answer: %w", ErrTransient, method, path, rerr)
				r = nil
			case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
				retryErr = r.classify()
			case resp.StatusCode == http.StatusForbidden && isTokenProblem(r):
				// The cached token may have been revoked or expired early: drop it
				// so the next request asks LWA for a new one.
				s.dropToken(token)
				return r, nil
			default:
				return r, nil
			}
		}
		if attempt >= s.maxRetries {
			if r != nil {
				return r, nil
			}
			return nil, retryErr
		}
		if err := s.sleep(ctx, backoff(attempt)); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTransient, err)
		}
	}
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

// backoff is the delay before retry attempt+1: 1 s, 2 s, 4 s … capped.
func backoff(attempt int) time.Duration {
	d := backoffBase << attempt
	if d > backoffMax || d <= 0 {
		return backoffMax
	}
	return d
}

// wait takes one token from the bucket, sleeping (through s.sleep) until it
// is there. A token is reserved before sleeping, so concurrent callers queue
// up behind each other.
func (s *SPAPI) wait(ctx context.Context) error {
	s.limitMu.Lock()
	now := s.now()
	if !s.last.IsZero() && now.After(s.last) {
		s.tokens = math.Min(s.burst, s.tokens+now.Sub(s.last).Seconds()*s.rate)
	}
	if s.last.IsZero() || now.After(s.last) {
		s.last = now
	}
	s.tokens--
	var d time.Duration
	if s.tokens < 0 {
		d = time.Duration(math.Ceil(-s.tokens / s.rate * float64(time.Second)))
	}
	s.limitMu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	return s.sleep(ctx, d)
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
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	if r < s.rate {
		s.rate = r
	}
}

// tokenResponse is LWA's answer to a refresh_token grant, or its error.
type tokenResponse struct {
	AccessToken      string `json:"access_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// accessToken returns a cached LWA access token or fetches a new one with
// the refresh token. A token is used until 60 s before it expires.
func (s *SPAPI) accessToken(ctx context.Context) (string, error) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	now := s.now()
	if s.token != "" && now.Before(s.expiry) {
		return s.token, nil
	}
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {s.refresh},
		"client_id":     {s.clientID},
		"client_secret": {s.secret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("lwa token: %w: %w", ErrPermanent, err)
	}
	req.Header.Set("content-type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("user-agent", s.userAgent)
	req.Header.Set("accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("lwa token: %w: %w", ErrTransient, stripURLError(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", fmt.Errorf("lwa token: read answer: %w: %w", ErrTransient, err)
	}
	var tr tokenResponse
	jerr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		desc := tr.Error
		if tr.ErrorDescription != "" {
			desc += ": " + tr.ErrorDescription
		}
		desc = s.redact(desc)
		if desc == "" {
			desc = "no error code"
		}
		switch {
		case tr.Error == "invalid_grant":
			return "", fmt.Errorf("lwa token: http %d: %s: the refresh token is invalid, expired or revoked; authorize the application again in Seller Central: %w",
				resp.StatusCode, desc, ErrAuth)
		case tr.Error == "invalid_client" || tr.Error == "unauthorized_client" || resp.StatusCode == http.StatusUnauthorized:
			return "", fmt.Errorf("lwa token: http %d: %s: the client id or client secret is wrong: %w", resp.StatusCode, desc, ErrAuth)
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			return "", fmt.Errorf("lwa token: http %d: %s: %w", resp.StatusCode, desc, ErrTransient)
		default:
			return "", fmt.Errorf("lwa token: http %d: %s: %w", resp.StatusCode, desc, ErrAuth)
		}
	}
	if jerr != nil || tr.AccessToken == "" {
		return "", fmt.Errorf("lwa token: answer has no access token: %w", ErrTransient)
	}
	s.token = tr.AccessToken
	s.expiry = now.Add(time.Duration(tr.ExpiresIn)*time.Second - tokenEarly)
	return s.token, nil
}

// dropToken forgets token if it is still the cached one.
func (s *SPAPI) dropToken(token string) {
	s.tokenMu.Lock()
	defer s.tokenMu.Unlock()
	if s.token == token {
		s.token = ""
	}
}

// redact removes the credentials from text that came back from LWA.
func (s *SPAPI) redact(text string) string {
	for _, secret := range []string{s.secret, s.refresh} {
		if secret != "" {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	return text
}
