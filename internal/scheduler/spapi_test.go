package scheduler_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"campaignd/internal/ledger"
)

// fakeAmazon serves LWA tokens and the two Solicitations operations as
// reference/sp-api/solicitations.json describes them.
type fakeAmazon struct {
	mu      sync.Mutex
	offered map[string]bool // order id -> productReviewAndSellerFeedback offered
	posted  map[string]int  // order id -> POSTs accepted or refused
}

func (f *fakeAmazon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path == "/auth/o2/token" {
		if r.PostFormValue("grant_type") != "refresh_token" || r.PostFormValue("refresh_token") != "Atzr|refresh" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error":"invalid_grant"}`)
			return
		}
		fmt.Fprint(w, `{"access_token":"Atza|token","token_type":"bearer","expires_in":3600}`)
		return
	}
	if r.Header.Get("x-amz-access-token") != "Atza|token" || r.URL.Query()["marketplaceIds"][0] != "ATVPDKIKX0DER" {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"errors":[{"code":"Unauthorized","message":"Access to requested resource is denied."}]}`)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/solicitations/v1/orders/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	id, post := strings.CutSuffix(rest, "/solicitations/productReviewAndSellerFeedback")
	w.Header().Set("Content-Type", "application/hal+json")
	w.Header().Set("x-amzn-RateLimit-Limit", "1.0")
	switch {
	case r.Method == http.MethodGet && !post:
		var actions []map[string]string
		if f.offered[id] {
			actions = append(actions, map[string]string{"href": r.URL.Path + "/solicitations/productReviewAndSellerFeedback?marketplaceIds=ATVPDKIKX0DER", "name": "productReviewAndSellerFeedback"})
		}
		json.NewEncoder(w).Encode(map[string]any{"_links": map[string]any{"self": map[string]string{"href": r.URL.Path}, "actions": actions}})
	case r.Method == http.MethodPost && post:
		f.posted[id]++
		if !f.offered[id] {
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"errors":[{"code":"Unauthorized","message":"The requested solicitation is not available for this amazonOrderId."}]}`)
			return
		}
		f.offered[id] = false // one per order
		w.WriteHeader(http.StatusCreated)
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

func TestSPAPIChannel(t *testing.T) {
	amazon := &fakeAmazon{offered: map[string]bool{"111-0000001-0000001": true}, posted: map[string]int{}}
	srv := httptest.NewServer(amazon)
	defer srv.Close()
	e := openEnv(t, fmt.Sprintf(`[[campaign]]
name = "amazon"
sales_channels = ["Amazon.com"]
channel = "spapi"
[channel.spapi]
endpoint = %q
token_endpoint = %q
client_id = "amzn1.application-oa2-client.x"
client_secret = "secret"
refresh_token = "Atzr|refresh"
`, srv.URL, srv.URL+"/auth/o2/token"))
	l, eng := e.ledger, e.engine
	e.ingest("orders.txt", header+
		row("111-0000001-0000001", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped")+
		row("111-0000002-0000002", "2026-11-01T10:00:00Z", "2026-11-03T10:00:00Z", "Shipped - Delivered to Buyer", "Amazon.com", "Bottle", "Shipped"),
		at("2026-11-03T12:00:00Z"))
	now := at("2026-11-08T10:00:00Z")
	st, err := eng.Pass(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 1 || st.Retried != 1 {
		t.Fatalf("pass = %+v", st)
	}
	if amazon.posted["111-0000001-0000001"] != 1 || amazon.posted["111-0000002-0000002"] != 0 {
		t.Fatalf("posts = %v: only the offered order may be posted", amazon.posted)
	}
	later, _, _ := l.Get(ledger.Key{OrderID: "111-0000002-0000002"})
	if later.State != ledger.Scheduled || !later.SendAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("not offered: state %s at %v, want scheduled a day later", later.State, later.SendAt)
	}
	if probs, _ := l.RecentProblems(10); len(probs) != 0 {
		t.Fatalf("a routine 'not offered yet' counted as a problem: %+v", probs)
	}
	// Next day Amazon offers it; the one sent before is not asked again.
	amazon.mu.Lock()
	amazon.offered["111-0000002-0000002"] = true
	amazon.mu.Unlock()
	if st, err := eng.Pass(context.Background(), now.Add(24*time.Hour)); err != nil || st.Sent != 1 {
		t.Fatalf("next day: %+v, %v", st, err)
	}
	if amazon.posted["111-0000001-0000001"] != 1 || amazon.posted["111-0000002-0000002"] != 1 {
		t.Fatalf("posts = %v", amazon.posted)
	}
	for _, id := range []string{"111-0000001-0000001", "111-0000002-0000002"} {
		if r, _, _ := l.Get(ledger.Key{OrderID: id}); r.State != ledger.Sent {
			t.Fatalf("%s: %s", id, r.State)
		}
	}
}
