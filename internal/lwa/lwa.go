// Package lwa gets Login with Amazon access tokens for the Selling Partner
// API with the refresh-token grant, and caches each one until shortly
// before it expires.
//
// One Source serves one seller account: the spapi channel and the Reports
// API fetcher share it, so they hold one token between them and ask LWA for
// a new one once, even when both need it at the same moment. The client
// secret, the refresh token and the access tokens never appear in an error,
// a log line or the String form of a Config or Source.
package lwa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// ErrAuth is returned when LWA refuses the credentials or the request:
// invalid_grant (the refresh token is invalid, expired or revoked: the
// application must be authorised again in Seller Central), invalid_client
// (a wrong client id or secret), or any other 4xx answer but 429. Retrying
// does not help.
var ErrAuth = errors.New("lwa: authentication failed")

// ErrTransient is returned when no token could be had for a reason that may
// go away: a network error, a timeout, HTTP 429 or 5xx, an answer without an
// access token, or a cancelled context. Retry later.
var ErrTransient = errors.New("lwa: token endpoint unavailable")

// DefaultTimeout bounds one token request when Config.HTTPClient is nil.
const DefaultTimeout = 30 * time.Second

// early is how long before its expiry a token is refreshed, so that a token
// never expires between Token and the request that carries it.
const early = 60 * time.Second

// maxBody caps how much of LWA's answer is read.
const maxBody = 1 << 20

// Config configures a Source. TokenEndpoint, ClientID, ClientSecret and
// RefreshToken are required.
type Config struct {
	// TokenEndpoint is the LWA token URL, "https://api.amazon.com/auth/o2/token".
	TokenEndpoint string
	// ClientID, ClientSecret and RefreshToken are the application's LWA
	// credentials for one seller account.
	ClientID, ClientSecret, RefreshToken string
	// HTTPClient defaults to a client with a DefaultTimeout timeout.
	HTTPClient *http.Client
	// Now tells when a token expires; it defaults to time.Now. Token expiry
	// is Amazon's real time, never a simulated clock.
	Now func() time.Time
	// UserAgent is sent with token requests; it defaults to "campaignd".
	UserAgent string
}

// String describes the configuration without the client secret and the
// refresh token.
func (c Config) String() string {
	return fmt.Sprintf("{TokenEndpoint:%s ClientID:%s ClientSecret:%s RefreshToken:%s}",
		c.TokenEndpoint, c.ClientID, redacted(c.ClientSecret), redacted(c.RefreshToken))
}

// GoString is String, so that %#v does not print the secrets either.
func (c Config) GoString() string { return "lwa.Config" + c.String() }

func redacted(v string) string {
	if v == "" {
		return ""
	}
	return "[redacted]"
}

// Source hands out access tokens for one seller account. It is safe for
// concurrent use; build it with New.
type Source struct {
	endpoint  string
	clientID  string
	secret    string
	refresh   string
	client    *http.Client
	now       func() time.Time
	userAgent string

	mu     sync.Mutex
	token  string
	expiry time.Time
	flight *flight // the refresh in progress, if any
}

// flight is one token request that concurrent callers wait for.
type flight struct {
	done  chan struct{}
	token string
	err   error
}

// New checks cfg and returns a Source. It does not contact LWA: the first
// Token does.
func New(cfg Config) (*Source, error) {
	var missing []string
	for _, f := range []struct{ name, v string }{
		{"token_endpoint", cfg.TokenEndpoint}, {"client_id", cfg.ClientID},
		{"client_secret", cfg.ClientSecret}, {"refresh_token", cfg.RefreshToken},
	} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("lwa: missing %s", strings.Join(missing, ", "))
	}
	if u, err := url.Parse(cfg.TokenEndpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("lwa: token endpoint %q is not an http(s) URL", cfg.TokenEndpoint)
	}
	s := &Source{
		endpoint: cfg.TokenEndpoint, clientID: cfg.ClientID, secret: cfg.ClientSecret, refresh: cfg.RefreshToken,
		client: cfg.HTTPClient, now: cfg.Now, userAgent: cfg.UserAgent,
	}
	if s.client == nil {
		s.client = &http.Client{Timeout: DefaultTimeout}
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.userAgent == "" {
		s.userAgent = "campaignd"
	}
	return s, nil
}

// String describes the source without its secrets or tokens.
func (s *Source) String() string {
	return fmt.Sprintf("lwa.Source{TokenEndpoint:%s ClientID:%s}", s.endpoint, s.clientID)
}

// GoString is String.
func (s *Source) GoString() string { return s.String() }

// Token returns a valid access token: the cached one until a minute before
// it expires, otherwise a new one from LWA. Concurrent callers that find no
// valid token share one request. Errors wrap ErrAuth or ErrTransient.
func (s *Source) Token(ctx context.Context) (string, error) {
	for {
		s.mu.Lock()
		if s.token != "" && s.now().Before(s.expiry) {
			t := s.token
			s.mu.Unlock()
			return t, nil
		}
		f := s.flight
		if f == nil {
			f = &flight{done: make(chan struct{})}
			s.flight = f
			s.mu.Unlock()
			s.run(ctx, f)
			return f.token, f.err
		}
		s.mu.Unlock()
		select {
		case <-f.done:
			if f.err != nil && ctx.Err() == nil && isContextError(f.err) {
				continue // the caller that asked was cancelled, this one was not: ask again
			}
			return f.token, f.err
		case <-ctx.Done():
			return "", fmt.Errorf("%w: %w", ErrTransient, ctx.Err())
		}
	}
}

// run performs the token request of f and publishes its result.
func (s *Source) run(ctx context.Context, f *flight) {
	asked := s.now()
	token, ttl, err := s.fetch(ctx)
	s.mu.Lock()
	s.flight = nil
	if err == nil && ttl > 0 {
		s.token, s.expiry = token, asked.Add(ttl-min(early, ttl/2))
	}
	s.mu.Unlock()
	f.token, f.err = token, err
	close(f.done)
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// Invalidate drops token if it is the cached one, so that the next Token
// asks LWA for a new one. Call it when the API refused the token (revoked or
// expired early).
func (s *Source) Invalidate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token != "" && s.token == token {
		s.token, s.expiry = "", time.Time{}
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

// fetch asks LWA for a new access token and returns it with its lifetime.
func (s *Source) fetch(ctx context.Context) (string, time.Duration, error) {
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {s.refresh},
		"client_id":     {s.clientID},
		"client_secret": {s.secret},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("lwa token: %w: %s", ErrAuth, s.redact(err.Error()))
	}
	req.Header.Set("content-type", "application/x-www-form-urlencoded;charset=UTF-8")
	req.Header.Set("user-agent", s.userAgent)
	req.Header.Set("accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", 0, fmt.Errorf("lwa token: %w: %w", ErrTransient, ctx.Err())
		}
		return "", 0, fmt.Errorf("lwa token: %w: %s", ErrTransient, s.redact(stripURL(err).Error()))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", 0, fmt.Errorf("lwa token: read answer: %w: %s", ErrTransient, s.redact(err.Error()))
	}
	var tr tokenResponse
	jerr := json.Unmarshal(body, &tr)
	if resp.StatusCode != http.StatusOK {
		return "", 0, s.refusal(resp.StatusCode, tr)
	}
	if jerr != nil || tr.AccessToken == "" {
		return "", 0, fmt.Errorf("lwa token: http 200 without an access token: %w", ErrTransient)
	}
	return tr.AccessToken, time.Duration(tr.ExpiresIn) * time.Second, nil
}

// refusal turns an LWA error answer into an error wrapping ErrAuth or
// ErrTransient, with LWA's error code and description (secrets removed).
func (s *Source) refusal(status int, tr tokenResponse) error {
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
		return fmt.Errorf("lwa token: http %d: %s: the refresh token is invalid, expired or revoked; authorize the application again in Seller Central: %w",
			status, desc, ErrAuth)
	case tr.Error == "invalid_client" || tr.Error == "unauthorized_client" || status == http.StatusUnauthorized:
		return fmt.Errorf("lwa token: http %d: %s: the client id or client secret is wrong: %w", status, desc, ErrAuth)
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("lwa token: http %d: %s: %w", status, desc, ErrTransient)
	case status >= 400:
		return fmt.Errorf("lwa token: http %d: %s: %w", status, desc, ErrAuth)
	default:
		return fmt.Errorf("lwa token: http %d: %s: %w", status, desc, ErrTransient)
	}
}

// stripURL drops the URL from a *url.Error: the endpoint is configuration,
// and keeping errors to the operation keeps them short.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// redact removes the credentials from text that may quote them, and keeps
// it short.
func (s *Source) redact(text string) string {
	for _, secret := range []string{s.secret, s.refresh} {
		if secret != "" {
			text = strings.ReplaceAll(text, secret, "[redacted]")
		}
	}
	if r := []rune(text); len(r) > 300 {
		text = string(r[:300]) + "…"
	}
	return text
}
