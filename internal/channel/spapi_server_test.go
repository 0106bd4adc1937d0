package channel

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// The 403 messages Amazon answers with (amazon-api-and-policy.md §1).
const (
	msgDuplicate = "The requested solicitation is not available for this amazonOrderId."
	msgWindow    = "You can't use this feature to request a review outside the 5-30 day range after the order delivery date."
	msgDenied    = "Access to requested resource is denied."
)

// fakeOrder is the state of one order on the fake SP-API.
type fakeOrder struct {
	marketplaceID string
	eligible      bool // delivered and inside the window
	outside       bool // outside the 5-30 day range
	sent          bool
	staleActions  bool // GET keeps offering the action after a send (replication lag)
}

// canned is a forced answer for the next request of a method.
type canned struct {
	status  int
	headers map[string]string
	body    string
	drain   bool // empty the quota bucket (another application used it up)
}

// loggedRequest is what the fake SP-API saw.
type loggedRequest struct {
	Method, Path, RawQuery string
	Token, UserAgent, Date string
	Body                   string
	ContentType            string
	At                     time.Time // arrival, on the monotonic clock
	Status                 int
}

// fakeSPAPI follows solicitations.json: the two paths, the single
// marketplaceIds query parameter, HAL answers like the model's examples,
// the ErrorList body, x-amzn-RateLimit-Limit and x-amzn-RequestId headers.
type fakeSPAPI struct {
	t         *testing.T
	mu        sync.Mutex
	orders    map[string]*fakeOrder
	tokens    map[string]bool // access tokens LWA handed out and not revoked
	log       []loggedRequest
	forced    map[string][]canned // by method
	rateLimit string              // x-amzn-RateLimit-Limit on normal answers
	quota     *rate.Limiter       // when set, Amazon's token bucket: 429 QuotaExceeded when empty
	reqID     int
	srv       *httptest.Server
}

var (
	getPath  = regexp.MustCompile(`^/solicitations/v1/orders/([0-9A-Z]{3}-[0-9]{7}-[0-9]{7})$`)
	postPath = regexp.MustCompile(`^/solicitations/v1/orders/([0-9A-Z]{3}-[0-9]{7}-[0-9]{7})/solicitations/productReviewAndSellerFeedback$`)
)

func newFakeSPAPI(t *testing.T) *fakeSPAPI {
	f := &fakeSPAPI{t: t, orders: map[string]*fakeOrder{}, tokens: map[string]bool{}, forced: map[string][]canned{}, rateLimit: "100"}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSPAPI) addOrder(id, marketplaceID string, o fakeOrder) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o.marketplaceID = marketplaceID
	f.orders[id] = &o
}

func (f *fakeSPAPI) force(method string, c canned) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.forced[method] = append(f.forced[method], c)
}

// setQuota makes the fake enforce a usage plan of r requests per second
// with burst b, answering 429 QuotaExceeded to a request that finds the
// bucket empty, as Amazon does. It also advertises r in x-amzn-RateLimit-Limit.
func (f *fakeSPAPI) setQuota(r float64, b int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.quota = rate.NewLimiter(rate.Limit(r), b)
	f.rateLimit = fmt.Sprint(r)
}

// statuses counts the answers by status.
func (f *fakeSPAPI) statuses() map[int]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[int]int{}
	for _, r := range f.log {
		out[r.Status]++
	}
	return out
}

func (f *fakeSPAPI) requests() []loggedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]loggedRequest(nil), f.log...)
}

func (f *fakeSPAPI) order(id string) fakeOrder {
	f.mu.Lock()
	defer f.mu.Unlock()
	return *f.orders[id]
}

func (f *fakeSPAPI) writeErrors(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/hal+json")
	if status != http.StatusForbidden { // the model's 403 carries only the request id
		w.Header().Set("x-amzn-RateLimit-Limit", f.rateLimit)
	}
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": message, "details": ""}}})
}

func (f *fakeSPAPI) serve(w http.ResponseWriter, r *http.Request) {
	at := time.Now()
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqID++
	w.Header().Set("x-amzn-RequestId", fmt.Sprintf("req-%04d", f.reqID))
	f.log = append(f.log, loggedRequest{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		Token: r.Header.Get("x-amz-access-token"), UserAgent: r.Header.Get("User-Agent"),
		Date: r.Header.Get("x-amz-date"), Body: string(body), ContentType: r.Header.Get("Content-Type"), At: at,
	})
	sw := &statusWriter{ResponseWriter: w}
	defer func() { f.log[len(f.log)-1].Status = sw.status }()
	f.answer(sw, r, body, at)
}

// statusWriter remembers the status an answer was sent with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (f *fakeSPAPI) answer(w http.ResponseWriter, r *http.Request, body []byte, at time.Time) {
	if q := f.forced[r.Method]; len(q) > 0 {
		f.forced[r.Method] = q[1:]
		if q[0].drain && f.quota != nil {
			// A fresh bucket is full; taking all of it leaves exactly none.
			f.quota = rate.NewLimiter(f.quota.Limit(), f.quota.Burst())
			f.quota.AllowN(at, f.quota.Burst())
		}
		for k, v := range q[0].headers {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/hal+json")
		w.WriteHeader(q[0].status)
		io.WriteString(w, q[0].body)
		return
	}
	if f.quota != nil && !f.quota.AllowN(at, 1) {
		f.writeErrors(w, http.StatusTooManyRequests, "QuotaExceeded", "You exceeded your quota for the requested resource.")
		return
	}
	if !f.tokens[r.Header.Get("x-amz-access-token")] {
		f.writeErrors(w, http.StatusForbidden, "Unauthorized", msgDenied)
		return
	}
	if r.Header.Get("User-Agent") == "" || !strings.HasPrefix(r.Header.Get("User-Agent"), "campaignd/") {
		f.writeErrors(w, http.StatusBadRequest, "InvalidInput", "user-agent missing")
		return
	}
	if _, err := time.Parse("20060102T150405Z", r.Header.Get("x-amz-date")); err != nil {
		f.writeErrors(w, http.StatusBadRequest, "InvalidInput", "x-amz-date missing or malformed")
		return
	}
	q := r.URL.Query()
	mps := q["marketplaceIds"]
	if len(q) != 1 || len(mps) != 1 || mps[0] == "" || strings.Contains(mps[0], ",") || len(body) != 0 {
		f.writeErrors(w, http.StatusBadRequest, "InvalidInput", "Missing or invalid request parameters: [marketplaceIds]")
		return
	}
	mp := mps[0]
	var id string
	switch {
	case r.Method == http.MethodGet && getPath.MatchString(r.URL.Path):
		id = getPath.FindStringSubmatch(r.URL.Path)[1]
	case r.Method == http.MethodPost && postPath.MatchString(r.URL.Path):
		id = postPath.FindStringSubmatch(r.URL.Path)[1]
	default:
		f.writeErrors(w, http.StatusNotFound, "NotFound", "Resource not found")
		return
	}
	o := f.orders[id]
	if o == nil || o.marketplaceID != mp {
		f.writeErrors(w, http.StatusNotFound, "NotFound", "The order was not found")
		return
	}
	w.Header().Set("x-amzn-RateLimit-Limit", f.rateLimit)
	w.Header().Set("Content-Type", "application/hal+json")
	if r.Method == http.MethodGet {
		self := fmt.Sprintf("/solicitations/v1/orders/%s?marketplaceIds=%s", id, mp)
		actions, embedded := []any{}, []any{}
		if o.eligible && !o.outside && (!o.sent || o.staleActions) {
			actions = append(actions, map[string]string{
				"href": fmt.Sprintf("/solicitations/v1/orders/%s/solicitations/productReviewAndSellerFeedback?marketplaceIds=%s", id, mp),
				"name": "productReviewAndSellerFeedback",
			})
			embedded = append(embedded, map[string]any{"_links": map[string]any{"schema": map[string]string{
				"href": fmt.Sprintf("/solicitations/v1/orders/%s/solicitations/productReviewAndSellerFeedback/schema", id),
				"name": "productReviewAndSellerFeedback",
			}}})
		}
		w.WriteHeader(http.StatusOK)
		json.NewEncoder(w).Encode(map[string]any{
			"_links":    map[string]any{"actions": actions, "self": map[string]string{"href": self}},
			"_embedded": map[string]any{"actions": embedded},
		})
		return
	}
	switch {
	case o.outside:
		f.writeErrors(w, http.StatusForbidden, "Unauthorized", msgWindow)
	case o.sent || !o.eligible:
		f.writeErrors(w, http.StatusForbidden, "Unauthorized", msgDuplicate)
	default:
		o.sent = true
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "{}")
	}
}

// fakeLWA is a Login with Amazon token endpoint.
type fakeLWA struct {
	mu           sync.Mutex
	api          *fakeSPAPI
	clientID     string
	secret       string
	refresh      string
	expiresIn    int
	calls        int
	forcedStatus int
	srv          *httptest.Server
}

func newFakeLWA(t *testing.T, api *fakeSPAPI) *fakeLWA {
	l := &fakeLWA{api: api, clientID: "amzn1.application-oa2-client.test", secret: "s3cr3t-client", refresh: "Atzr|refresh-s3cr3t", expiresIn: 3600}
	l.srv = httptest.NewServer(http.HandlerFunc(l.serve))
	t.Cleanup(l.srv.Close)
	return l
}

func (l *fakeLWA) serve(w http.ResponseWriter, r *http.Request) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	w.Header().Set("Content-Type", "application/json")
	if l.forcedStatus != 0 {
		w.WriteHeader(l.forcedStatus)
		io.WriteString(w, `{"error":"server_error","error_description":"try later"}`)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/auth/o2/token" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_request","error_description":"bad request"}`)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "refresh_token" {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"unsupported_grant_type","error_description":"grant_type"}`)
		return
	}
	if r.PostForm.Get("client_id") != l.clientID || r.PostForm.Get("client_secret") != l.secret {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
		return
	}
	if r.PostForm.Get("refresh_token") != l.refresh {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error_description":"The request has an invalid grant parameter : refresh_token","error":"invalid_grant"}`)
		return
	}
	token := fmt.Sprintf("Atza|access-%d", l.calls)
	l.api.mu.Lock()
	l.api.tokens[token] = true
	l.api.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"access_token": token, "refresh_token": l.refresh, "token_type": "bearer", "expires_in": l.expiresIn})
}

func (l *fakeLWA) tokenCalls() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}
