package lwa_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/lwa"
)

const (
	clientID = "amzn1.application-oa2-client.test"
	secret   = "s3cr3t-client"
	refresh  = "Atzr|refresh-s3cr3t"
)

// tokenServer is a Login with Amazon token endpoint: it checks the
// refresh-token grant as LWA does and hands out numbered access tokens.
type tokenServer struct {
	mu        sync.Mutex
	calls     int
	forms     []map[string][]string
	expiresIn int
	status    int    // forced status (with body) when not 0
	body      string // forced body
	gate      chan struct{}
	arrived   chan struct{}
	srv       *httptest.Server
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{expiresIn: 3600}
	ts.srv = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.srv.Close)
	return ts
}

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	ts.mu.Lock()
	ts.calls++
	n := ts.calls
	gate, arrived := ts.gate, ts.arrived
	ts.mu.Unlock()
	if arrived != nil {
		arrived <- struct{}{}
	}
	if gate != nil {
		select {
		case <-gate:
		case <-r.Context().Done():
			return
		}
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if ts.status != 0 {
		w.WriteHeader(ts.status)
		io.WriteString(w, ts.body)
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request","error_description":"bad request"}`)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unsupported_grant_type","error_description":"grant_type"}`)
		return
	}
	ts.forms = append(ts.forms, r.PostForm)
	if r.PostForm.Get("client_id") != clientID || r.PostForm.Get("client_secret") != secret {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
		return
	}
	if r.PostForm.Get("refresh_token") != refresh {
		w.WriteHeader(http.StatusBadRequest)
		// LWA quotes the parameter; a careless server might quote its value.
		fmt.Fprintf(w, `{"error_description":"The request has an invalid grant parameter : refresh_token %s","error":"invalid_grant"}`, r.PostForm.Get("refresh_token"))
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("Atza|access-%d", n), "refresh_token": refresh,
		"token_type": "bearer", "expires_in": ts.expiresIn})
}

func (ts *tokenServer) count() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.calls
}

// clock is a settable clock for token expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newSource(t *testing.T, ts *tokenServer, mutate func(*lwa.Config)) (*lwa.Source, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	cfg := lwa.Config{TokenEndpoint: ts.srv.URL + "/auth/o2/token", ClientID: clientID, ClientSecret: secret,
		RefreshToken: refresh, Now: clk.Now}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := lwa.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func mustToken(t *testing.T, s *lwa.Source) string {
	t.Helper()
	tok, err := s.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestTokenIsCachedUntilShortlyBeforeExpiry(t *testing.T) {
	ts := newTokenServer(t)
	s, clk := newSource(t, ts, nil)
	if tok := mustToken(t, s); tok != "Atza|access-1" {
		t.Fatalf("token = %q", tok)
	}
	f := ts.forms[0]
	for k, want := range map[string]string{"grant_type": "refresh_token", "refresh_token": refresh, "client_id": clientID, "client_secret": secret} {
		if got := strings.Join(f[k], ","); got != want {
			t.Errorf("form %s = %q, want %q", k, got, want)
		}
	}
	// A 3600 s token is used until 60 s before it expires.
	clk.Advance(3539 * time.Second)
	if tok := mustToken(t, s); tok != "Atza|access-1" || ts.count() != 1 {
		t.Fatalf("at 3539 s: token %q after %d requests, want the cached one", tok, ts.count())
	}
	clk.Advance(time.Second)
	if tok := mustToken(t, s); tok != "Atza|access-2" || ts.count() != 2 {
		t.Fatalf("at 3540 s: token %q after %d requests, want a new one", tok, ts.count())
	}
}

func TestShortLivedTokenIsRefreshedAtHalfLife(t *testing.T) {
	ts := newTokenServer(t)
	ts.expiresIn = 60
	s, clk := newSource(t, ts, nil)
	mustToken(t, s)
	clk.Advance(29 * time.Second)
	if mustToken(t, s); ts.count() != 1 {
		t.Fatalf("requests at 29 s = %d, want 1", ts.count())
	}
	clk.Advance(time.Second)
	if mustToken(t, s); ts.count() != 2 {
		t.Fatalf("requests at 30 s = %d, want 2", ts.count())
	}
}

func TestInvalidate(t *testing.T) {
	ts := newTokenServer(t)
	s, _ := newSource(t, ts, nil)
	first := mustToken(t, s)
	s.Invalidate("Atza|some-other-token") // not the cached one: nothing happens
	if tok := mustToken(t, s); tok != first || ts.count() != 1 {
		t.Fatalf("a foreign token dropped the cache: %q after %d requests", tok, ts.count())
	}
	s.Invalidate(first)
	if tok := mustToken(t, s); tok == first || ts.count() != 2 {
		t.Fatalf("after Invalidate: token %q after %d requests, want a new one", tok, ts.count())
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*lwa.Config)
		status int
		body   string
		want   error
		text   string
	}{
		{"invalid_grant", func(c *lwa.Config) { c.RefreshToken = "Atzr|expired-s3cr3t" }, 0, "", lwa.ErrAuth, "authorize the application again"},
		{"invalid_client", func(c *lwa.Config) { c.ClientSecret = "wrong-s3cr3t" }, 0, "", lwa.ErrAuth, "client id or client secret"},
		{"other 4xx", nil, 400, `{"error":"invalid_request","error_description":"missing parameter"}`, lwa.ErrAuth, "invalid_request"},
		{"503", nil, 503, `{"error":"server_error","error_description":"try later"}`, lwa.ErrTransient, "http 503"},
		{"429", nil, 429, `{"error":"slow_down"}`, lwa.ErrTransient, "http 429"},
		{"200 without a token", nil, 200, `{"token_type":"bearer"}`, lwa.ErrTransient, "without an access token"},
		{"html error page", nil, 502, `<html>Bad Gateway</html>`, lwa.ErrTransient, "no error code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t)
			ts.status, ts.body = tt.status, tt.body
			s, _ := newSource(t, ts, tt.mutate)
			_, err := s.Token(context.Background())
			if !errors.Is(err, tt.want) {
				t.Fatalf("Token = %v, want %v", err, tt.want)
			}
			if errors.Is(err, lwa.ErrAuth) == errors.Is(err, lwa.ErrTransient) {
				t.Errorf("error %q wraps both sentinels or neither", err)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not say %q", err, tt.text)
			}
			if strings.Contains(err.Error(), "s3cr3t") {
				t.Errorf("error leaks a secret: %q", err)
			}
		})
	}
}

func TestNetworkErrorIsTransient(t *testing.T) {
	ts := newTokenServer(t)
	s, _ := newSource(t, ts, nil)
	ts.srv.Close()
	_, err := s.Token(context.Background())
	if !errors.Is(err, lwa.ErrTransient) || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("Token against a closed server = %v, want ErrTransient", err)
	}
}

// TestConcurrentCallersShareOneRequest: callers that find no valid token
// while one request is under way wait for it instead of asking LWA again.
func TestConcurrentCallersShareOneRequest(t *testing.T) {
	ts := newTokenServer(t)
	ts.gate, ts.arrived = make(chan struct{}), make(chan struct{}, 100)
	s, _ := newSource(t, ts, nil)
	const n = 20
	tokens := make(chan string, n)
	errs := make(chan error, n)
	get := func() {
		tok, err := s.Token(context.Background())
		tokens <- tok
		errs <- err
	}
	go get()
	<-ts.arrived // the first request is at the server and held there
	for range n - 1 {
		go get()
	}
	close(ts.gate)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
		if tok := <-tokens; tok != "Atza|access-1" {
			t.Errorf("token = %q, want the one shared token", tok)
		}
	}
	if c := ts.count(); c != 1 {
		t.Fatalf("%d concurrent callers made %d token requests, want 1", n, c)
	}
}

// TestCancelledCallerDoesNotFailOthers: the caller whose request is in
// flight gives up; a caller waiting for it asks again with its own context.
func TestCancelledCallerDoesNotFailOthers(t *testing.T) {
	ts := newTokenServer(t)
	ts.gate, ts.arrived = make(chan struct{}), make(chan struct{}, 100)
	s, _ := newSource(t, ts, nil)
	ctx, cancel := context.WithCancel(context.Background())
	firstErr := make(chan error, 1)
	go func() {
		_, err := s.Token(ctx)
		firstErr <- err
	}()
	<-ts.arrived
	second := make(chan string, 1)
	secondErr := make(chan error, 1)
	go func() {
		tok, err := s.Token(context.Background())
		second <- tok
		secondErr <- err
	}()
	cancel()
	if err := <-firstErr; !errors.Is(err, lwa.ErrTransient) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v, want ErrTransient wrapping context.Canceled", err)
	}
	// The waiting caller either joined the cancelled request and asks
	// again, or came after it: either way it makes the second request.
	<-ts.arrived
	close(ts.gate)
	if err := <-secondErr; err != nil {
		t.Fatalf("waiting caller: %v", err)
	}
	if tok := <-second; tok != "Atza|access-2" {
		t.Fatalf("waiting caller got %q", tok)
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	ts := newTokenServer(t)
	s, _ := newSource(t, ts, nil)
	mustToken(t, s)
	cfg := lwa.Config{TokenEndpoint: "https://api.amazon.com/auth/o2/token", ClientID: clientID, ClientSecret: secret, RefreshToken: refresh}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{cfg, &cfg, s} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, "s3cr3t") || strings.Contains(out, "Atza|") {
				t.Errorf("%s of %T prints a secret: %s", format, v, out)
			}
		}
	}
	if out := fmt.Sprintf("%v", cfg); !strings.Contains(out, clientID) || !strings.Contains(out, "[redacted]") {
		t.Errorf("Config.String = %s, want the client id and redacted secrets", out)
	}
}

func TestNewChecksConfig(t *testing.T) {
	ok := lwa.Config{TokenEndpoint: "https://api.amazon.com/auth/o2/token", ClientID: "a", ClientSecret: "b", RefreshToken: "c"}
	if _, err := lwa.New(ok); err != nil {
		t.Fatalf("New(%v) = %v", ok, err)
	}
	tests := []struct {
		name   string
		mutate func(*lwa.Config)
		text   string
	}{
		{"no endpoint", func(c *lwa.Config) { c.TokenEndpoint = "" }, "token_endpoint"},
		{"no secret", func(c *lwa.Config) { c.ClientSecret = "" }, "client_secret"},
		{"no refresh token", func(c *lwa.Config) { c.RefreshToken = "" }, "refresh_token"},
		{"ftp", func(c *lwa.Config) { c.TokenEndpoint = "ftp://api.amazon.com/token" }, "not an http(s) URL"},
		{"no host", func(c *lwa.Config) { c.TokenEndpoint = "https:///token" }, "not an http(s) URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mutate(&cfg)
			if _, err := lwa.New(cfg); err == nil || !strings.Contains(err.Error(), tt.text) {
				t.Fatalf("New = %v, want an error naming %q", err, tt.text)
			}
		})
	}
}
