package scheduler_test

import (
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"

	"campaignd/internal/ledger"
	"campaignd/internal/scheduler"
)

// A send keeps what its message was made of, and no personal data: the
// message rendered again from it is the one the server received, but for
// the buyer's name, which shows as a placeholder.
func TestSentMessageKept(t *testing.T) {
	server, port := startMailServer(t)
	e := openEnv(t, fmt.Sprintf(`[[campaign]]
name = "en"
sales_channels = ["Amazon.com"]
template = %q
channel = "smtp"
[channel.smtp]
host = "127.0.0.1"
port = %d
from = "orders@example.com"
tls = "none"
`, enTemplate(t), port))
	hdr := "amazon-order-id\tshipment-id\tpurchase-date\tshipment-date\tbuyer-email\tbuyer-name\tsku\tproduct-name\testimated-arrival-date\tsales-channel\n"
	e.ingest("shipments.txt", hdr+"111-0000001-0000001\tS1\t2026-11-01T10:00:00-08:00\t2026-11-02T10:00:00-08:00\tabc123@marketplace.amazon.com\tJane Buyer\tSKU1\tWater Bottle\t2026-11-05T10:00:00-08:00\tAmazon.com\n",
		at("2026-11-03T00:00:00Z"))
	if st := e.pass(at("2026-11-11T00:00:00Z")); st.Sent != 1 {
		t.Fatalf("pass: %+v", st)
	}
	k := ledger.Key{OrderID: "111-0000001-0000001"}
	m, src, ok, err := e.ledger.SentMessageOf(k)
	if err != nil || !ok || m.Channel != "smtp" || !m.HadBuyerName || m.ProductName != "Water Bottle" || m.SellerName != "Test Brand" {
		t.Fatalf("kept message %+v, %v, %v", m, ok, err)
	}
	if strings.Contains(fmt.Sprintf("%+v %s", m, src), "Jane") {
		t.Fatalf("the kept message holds the buyer's name: %+v", m)
	}
	again, err := scheduler.RenderKept(k.OrderID, m, src)
	if err != nil {
		t.Fatal(err)
	}
	got := server.received()[0].data
	msg, err := mail.ReadMessage(strings.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(quotedprintable.NewReader(msg.Body))
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	wantBody := strings.ReplaceAll(strings.ReplaceAll(string(body), "\r\n", "\n"), "Jane Buyer", scheduler.BuyerNameShown)
	if subject != again.Subject || strings.TrimSpace(wantBody) != strings.TrimSpace(again.Body) {
		t.Fatalf("rendered again:\n%s\n%s\nsent (name replaced):\n%s\n%s", again.Subject, again.Body, subject, wantBody)
	}
	if _, _, ok, _ := e.ledger.SentMessageOf(ledger.Key{OrderID: "111-0000009-0000009"}); ok {
		t.Fatal("a message kept for an order never claimed")
	}
}
