package channel

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/lwa"
)

// fakeClock is a clock whose Sleep advances it instead of waiting.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return ctx.Err()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

const (
	orderA = "302-1234567-1234567"
	orderB = "028-7654321-7654321"
	mpDE   = "A1PA6795UKMFR9"
)

type spapiFixture struct {
	api   *fakeSPAPI
	lwa   *fakeLWA
	clock *fakeClock
	s     *SPAPI
}

func newSPAPIFixture(t *testing.T, mutate func(*SPAPIConfig)) *spapiFixture {
	t.Helper()
	f := &spapiFixture{api: newFakeSPAPI(t), clock: newFakeClock()}
	f.lwa = newFakeLWA(t, f.api)
	cfg := SPAPIConfig{
		Endpoint:      f.api.srv.URL,
		TokenEndpoint: f.lwa.srv.URL + "/auth/o2/token",
		ClientID:      f.lwa.clientID,
		ClientSecret:  f.lwa.secret,
		RefreshToken:  f.lwa.refresh,
		UserAgent:     "campaignd/test (Language=Go; Platform=Linux)",
		Now:           f.clock.Now,
		Sleep:         f.clock.Sleep,
		// Tests not about pacing run against a fast usage plan (the fake
		// advertises 100 req/s) so that the real-time limiter stays out of
		// their way.
		Rate: 100,
	}
	if mutate != nil {
		mutate(&cfg)
	}
	if cfg.Tokens == nil {
		// The token cache expires on the fixture's clock.
		tokens, err := lwa.New(lwa.Config{TokenEndpoint: cfg.TokenEndpoint, ClientID: cfg.ClientID,
			ClientSecret: cfg.ClientSecret, RefreshToken: cfg.RefreshToken, Now: f.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Tokens = tokens
	}
	s, err := NewSPAPI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	f.s = s
	return f
}

func spapiMessage(id string) Message {
	return Message{OrderID: id, Marketplace: "Amazon.de", MarketplaceID: mpDE, Date: sendAt}
}

func TestSPAPISend(t *testing.T) {
	f := newSPAPIFixture(t, nil)
	f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
	if err := f.s.Send(context.Background(), spapiMessage(orderA)); err != nil {
		t.Fatal(err)
	}
	if !f.api.order(orderA).sent {
		t.Fatal("the fake SP-API holds no solicitation for the order")
	}
	reqs := f.api.requests()
	if len(reqs) != 2 {
		t.Fatalf("requests = %+v, want GET then POST", reqs)
	}
	want := []struct{ method, path string }{
		{"GET", "/solicitations/v1/orders/" + orderA},
		{"POST", "/solicitations/v1/orders/" + orderA + "/solicitations/productReviewAndSellerFeedback"},
	}
	for i, r := range reqs {
		if r.Method != want[i].method || r.Path != want[i].path {
			t.Errorf("request %d = %s %s, want %s %s", i, r.Method, r.Path, want[i].method, want[i].path)
		}
		if r.RawQuery != "marketplaceIds="+mpDE {
			t.Errorf("request %d query = %q", i, r.RawQuery)
		}
		if r.Token != "Atza|access-1" {
			t.Errorf("request %d token = %q", i, r.Token)
		}
		if r.UserAgent != "campaignd/test (Language=Go; Platform=Linux)" {
			t.Errorf("request %d user-agent = %q", i, r.UserAgent)
		}
		if r.Date != "20261120T100000Z" {
			t.Errorf("request %d x-amz-date = %q", i, r.Date)
		}
		if r.Body != "" || r.ContentType != "" {
			t.Errorf("request %d has a body %q (%s)", i, r.Body, r.ContentType)
		}
	}
	if s := f.clock.Sleeps(); len(s) != 0 {
		t.Errorf("slept %v inside the burst", s)
	}
}

func TestSPAPINotOffered(t *testing.T) {
	f := newSPAPIFixture(t, nil)
	f.api.addOrder(orderA, mpDE, fakeOrder{eligible: false})
	err := f.s.Send(context.Background(), spapiMessage(orderA))
	if !errors.Is(err, ErrNotOffered) {
		t.Fatalf("Send = %v, want ErrNotOffered", err)
	}
	for _, r := range f.api.requests() {
		if r.Method == http.MethodPost {
			t.Errorf("posted although the action was not offered: %+v", r)
		}
	}
	if v, err := f.s.Reconcile(context.Background(), spapiMessage(orderA)); err != nil || v != Unknown {
		t.Errorf("Reconcile = %v, %v; want unknown", v, err)
	}
}

func TestSPAPISecondSend(t *testing.T) {
	tests := []struct {
		name  string
		stale bool
		want  error
	}{
		// Amazon stops offering the action once the request went.
		{"actions withdrawn", false, ErrNotOffered},
		// A GET that still offers it (lag) leads to a POST that Amazon refuses as a duplicate.
		{"stale actions", true, ErrAlreadySent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSPAPIFixture(t, nil)
			f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true, staleActions: tt.stale})
			if err := f.s.Send(context.Background(), spapiMessage(orderA)); err != nil {
				t.Fatal(err)
			}
			err := f.s.Send(context.Background(), spapiMessage(orderA))
			if !errors.Is(err, tt.want) {
				t.Fatalf("second Send = %v, want %v", err, tt.want)
			}
			posts := 0
			for _, r := range f.api.requests() {
				if r.Method == http.MethodPost {
					posts++
				}
			}
			if wantPosts := map[bool]int{false: 1, true: 2}[tt.stale]; posts != wantPosts {
				t.Errorf("posts = %d, want %d", posts, wantPosts)
			}
		})
	}
}

func TestSPAPIReconcile(t *testing.T) {
	f := newSPAPIFixture(t, nil)
	f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
	f.api.addOrder(orderB, mpDE, fakeOrder{eligible: true, sent: true})
	if v, err := f.s.Reconcile(context.Background(), spapiMessage(orderA)); err != nil || v != NotSent {
		t.Errorf("offered: Reconcile = %v, %v; want not_sent", v, err)
	}
	if v, err := f.s.Reconcile(context.Background(), spapiMessage(orderB)); err != nil || v != Unknown {
		t.Errorf("sent: Reconcile = %v, %v; want unknown", v, err)
	}
	for _, r := range f.api.requests() {
		if r.Method != http.MethodGet {
			t.Errorf("Reconcile sent %s %s", r.Method, r.Path)
		}
	}
	f.api.force(http.MethodGet, canned{status: 403, body: `{"errors":[{"code":"Unauthorized","message":"` + msgDuplicate + `","details":""}]}`})
	if v, err := f.s.Reconcile(context.Background(), spapiMessage(orderA)); err != nil || v != WasSent {
		t.Errorf("403 not available: Reconcile = %v, %v; want was_sent", v, err)
	}
	f.api.force(http.MethodGet, canned{status: 403, body: `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied.","details":""}]}`})
	if v, err := f.s.Reconcile(context.Background(), spapiMessage(orderA)); !errors.Is(err, ErrAuth) || v != Unknown {
		t.Errorf("denied: Reconcile = %v, %v; want unknown, ErrAuth", v, err)
	}
}

func TestSPAPITokenCaching(t *testing.T) {
	f := newSPAPIFixture(t, nil)
	f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
	f.api.addOrder(orderB, mpDE, fakeOrder{eligible: true})
	ctx := context.Background()
	if err := f.s.Send(ctx, spapiMessage(orderA)); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Send(ctx, spapiMessage(orderB)); err != nil {
		t.Fatal(err)
	}
	if n := f.lwa.tokenCalls(); n != 1 {
		t.Errorf("token calls after 2 sends = %d, want 1", n)
	}
	// 3600 s token, refreshed 60 s early: still cached at 3539 s, renewed at 3540 s.
	f.clock.Advance(3539*time.Second - f.clock.Now().Sub(newFakeClock().now))
	if _, err := f.s.Reconcile(ctx, spapiMessage(orderA)); err != nil {
		t.Fatal(err)
	}
	if n := f.lwa.tokenCalls(); n != 1 {
		t.Errorf("token calls at 3539 s = %d, want 1", n)
	}
	f.clock.Advance(time.Second)
	if _, err := f.s.Reconcile(ctx, spapiMessage(orderA)); err != nil {
		t.Fatal(err)
	}
	if n := f.lwa.tokenCalls(); n != 2 {
		t.Errorf("token calls at 3540 s = %d, want 2", n)
	}
	reqs := f.api.requests()
	if got := reqs[len(reqs)-1].Token; got != "Atza|access-2" {
		t.Errorf("last request used token %q, want the new one", got)
	}
}

func TestSPAPIRevokedTokenIsDropped(t *testing.T) {
	f := newSPAPIFixture(t, nil)
	f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
	ctx := context.Background()
	if _, err := f.s.Reconcile(ctx, spapiMessage(orderA)); err != nil {
		t.Fatal(err)
	}
	f.api.mu.Lock()
	f.api.tokens = map[string]bool{} // Amazon no longer accepts the cached token
	f.api.mu.Unlock()
	if err := f.s.Send(ctx, spapiMessage(orderA)); !errors.Is(err, ErrAuth) {
		t.Fatalf("Send with revoked token = %v, want ErrAuth", err)
	}
	if err := f.s.Send(ctx, spapiMessage(orderA)); err != nil {
		t.Fatalf("Send after the token was dropped = %v", err)
	}
	if n := f.lwa.tokenCalls(); n != 2 {
		t.Errorf("token calls = %d, want 2", n)
	}
}

func TestSPAPILWAErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*SPAPIConfig)
		status int
		want   error
		text   string
	}{
		{"invalid_grant", func(c *SPAPIConfig) { c.RefreshToken = "Atzr|expired-s3cr3t" }, 0, ErrAuth, "invalid_grant"},
		{"invalid_client", func(c *SPAPIConfig) { c.ClientSecret = "wrong-s3cr3t" }, 0, ErrAuth, "invalid_client"},
		{"server error", nil, 503, ErrTransient, "http 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSPAPIFixture(t, tt.mutate)
			f.lwa.forcedStatus = tt.status
			f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
			err := f.s.Send(context.Background(), spapiMessage(orderA))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.text) {
				t.Errorf("error %q does not say %q", msg, tt.text)
			}
			if strings.Contains(msg, "s3cr3t") {
				t.Errorf("error leaks a secret: %q", msg)
			}
			if n := len(f.api.requests()); n != 0 {
				t.Errorf("%d SP-API requests without a token", n)
			}
		})
	}
}

func TestSPAPIRetry(t *testing.T) {
	tooMany := canned{status: 429, body: `{"errors":[{"code":"QuotaExceeded","message":"You exceeded your quota for the requested resource.","details":""}]}`}
	unavailable := canned{status: 503, headers: map[string]string{"x-amzn-RateLimit-Limit": "1.0"}, body: `{"errors":[{"code":"ServiceUnavailable","message":"Service temporarily unavailable.","details":""}]}`}
	tests := []struct {
		name       string
		forced     []canned
		maxRetries int
		want       error
		wantSleeps []time.Duration
		wantGets   int
	}{
		{"429 then success", []canned{tooMany}, 0, nil, []time.Duration{time.Second}, 2},
		{"503 twice then success", []canned{unavailable, unavailable}, 0, nil, []time.Duration{time.Second, 2 * time.Second}, 3},
		{"429 until retries run out", []canned{tooMany, tooMany, tooMany, tooMany}, 0, ErrTransient,
			[]time.Duration{time.Second, 2 * time.Second, 4 * time.Second}, 4},
		{"no retries", []canned{tooMany}, -1, ErrTransient, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSPAPIFixture(t, func(c *SPAPIConfig) { c.MaxRetries = tt.maxRetries })
			f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
			for _, c := range tt.forced {
				f.api.force(http.MethodGet, c)
			}
			err := f.s.Send(context.Background(), spapiMessage(orderA))
			if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			// The burst of 5 absorbs the retries: every wait is backoff.
			if got := f.clock.Sleeps(); !reflect.DeepEqual(got, tt.wantSleeps) {
				t.Errorf("sleeps = %v, want %v", got, tt.wantSleeps)
			}
			gets := 0
			for _, r := range f.api.requests() {
				if r.Method == http.MethodGet {
					gets++
				}
			}
			if gets != tt.wantGets {
				t.Errorf("GETs = %d, want %d", gets, tt.wantGets)
			}
			if sent := f.api.order(orderA).sent; sent != (tt.want == nil) {
				t.Errorf("sent = %v", sent)
			}
		})
	}
}

func TestSPAPIErrorClassification(t *testing.T) {
	errBody := func(code, msg string) string {
		return `{"errors":[{"code":"` + code + `","message":"` + msg + `","details":""}]}`
	}
	tests := []struct {
		name   string
		method string
		c      canned
		want   error
	}{
		{"post duplicate", "POST", canned{status: 403, body: errBody("Unauthorized", msgDuplicate)}, ErrAlreadySent},
		{"post window", "POST", canned{status: 403, body: errBody("Unauthorized", msgWindow)}, ErrOutsideWindow},
		{"post access denied", "POST", canned{status: 403, body: errBody("Unauthorized", msgDenied)}, ErrAuth},
		{"get expired token", "GET", canned{status: 403, body: errBody("Unauthorized", "The security token included in the request is expired")}, ErrAuth},
		{"get invalid signature", "GET", canned{status: 403, body: errBody("InvalidSignature", "Invalid Signature")}, ErrAuth},
		{"get 403 without body", "GET", canned{status: 403}, ErrAuth},
		{"get bad request", "GET", canned{status: 400, body: errBody("InvalidInput", "Missing or invalid request parameters: [marketplaceIds]")}, ErrPermanent},
		{"get not found", "GET", canned{status: 404, body: errBody("NotFound", "Resource not found")}, ErrPermanent},
		{"post not found", "POST", canned{status: 404, body: errBody("NotFound", "Resource not found")}, ErrPermanent},
		{"post unsupported media", "POST", canned{status: 415, body: errBody("Unsupported", "unsupported")}, ErrPermanent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSPAPIFixture(t, nil)
			f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
			f.api.force(tt.method, tt.c)
			err := f.s.Send(context.Background(), spapiMessage(orderA))
			if !errors.Is(err, tt.want) {
				t.Fatalf("Send = %v, want %v", err, tt.want)
			}
			n := 0
			for _, s := range []error{ErrTransient, ErrPermanent, ErrAlreadySent, ErrOutsideWindow, ErrNotOffered, ErrAuth} {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Errorf("error %q wraps %d sentinels, want 1", err, n)
			}
			if !strings.Contains(err.Error(), "request id req-") || !strings.Contains(err.Error(), orderA) {
				t.Errorf("error %q lacks the order or the request id", err)
			}
			if f.api.order(orderA).sent {
				t.Error("the fake counts the order as sent")
			}
		})
	}
}

func TestSPAPIRejectsBadInput(t *testing.T) {
	f := newSPAPIFixture(t, nil)
	for _, m := range []Message{
		{OrderID: "302-1234567-1234567/../x", MarketplaceID: mpDE},
		{OrderID: orderA, MarketplaceID: ""},
		{OrderID: orderA, MarketplaceID: "A1PA6795UKMFR9&marketplaceIds=X"},
	} {
		if err := f.s.Send(context.Background(), m); !errors.Is(err, ErrPermanent) {
			t.Errorf("Send(%+v) = %v, want ErrPermanent", m, err)
		}
	}
	if n := len(f.api.requests()); n != 0 {
		t.Errorf("%d requests for invalid messages", n)
	}
	secretCfg := SPAPIConfig{ClientID: "id", ClientSecret: "s3cr3t-client", RefreshToken: "Atzr|s3cr3t"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		if out := fmt.Sprintf(format, secretCfg); strings.Contains(out, "s3cr3t") {
			t.Errorf("%s prints a secret: %s", format, out)
		}
	}
	for _, cfg := range []SPAPIConfig{
		{},
		{Endpoint: "ftp://x", TokenEndpoint: "https://api.amazon.com/auth/o2/token", ClientID: "a", ClientSecret: "b", RefreshToken: "c"},
		{Endpoint: "https://x", TokenEndpoint: "https://api.amazon.com/auth/o2/token", ClientID: "a", ClientSecret: "b", RefreshToken: "c", Rate: -1},
	} {
		if _, err := NewSPAPI(cfg); err == nil {
			t.Errorf("NewSPAPI(%+v) succeeded", cfg)
		}
	}
}

func TestSPAPIContextCancelled(t *testing.T) {
	f := newSPAPIFixture(t, func(c *SPAPIConfig) { c.Burst = 1 })
	f.api.addOrder(orderA, mpDE, fakeOrder{eligible: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.s.Send(ctx, spapiMessage(orderA)); !errors.Is(err, ErrTransient) || !errors.Is(err, context.Canceled) {
		t.Errorf("Send with cancelled context = %v, want ErrTransient wrapping context.Canceled", err)
	}
	if f.api.order(orderA).sent {
		t.Error("sent with a cancelled context")
	}
}
