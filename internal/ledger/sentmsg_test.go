package ledger_test

import (
	"testing"

	"campaignd/internal/ledger"
)

// A claim keeps what its message was made of, the template once by its
// hash; a claim whose message names another template than its source is
// refused and claims nothing.
func TestClaimKeepsTheMessage(t *testing.T) {
	l := MustOpen(t)
	mustUpsert(t, l, t0, order(orderID(1)), order(orderID(2)))
	src := []byte("Subject: Your order {{.OrderID}}\nLanguage: en\n\nHello.\n")
	m := &ledger.SentMessage{Channel: "smtp", At: t0.Add(5 * day), Template: ledger.TemplateHash(src), Path: "en.tmpl", ProductName: "Mug"}

	bad := *m
	bad.Template = ledger.TemplateHash([]byte("other"))
	if _, err := l.ClaimWith(key(orderID(1)), "smtp", t0.Add(5*day), &bad, src); err == nil {
		t.Fatal("a message naming another template was kept")
	}
	wantState(t, l, key(orderID(1)), ledger.Scheduled)

	for _, i := range []int{1, 2} {
		if _, err := l.ClaimWith(key(orderID(i)), "smtp", t0.Add(5*day), m, src); err != nil {
			t.Fatal(err)
		}
	}
	got, gotSrc, ok, err := l.SentMessageOf(key(orderID(2)))
	if err != nil || !ok || got.ProductName != "Mug" || got.Template != m.Template || string(gotSrc) != string(src) || !got.At.Equal(m.At) {
		t.Fatalf("kept %+v %q, %v, %v", got, gotSrc, ok, err)
	}
	if _, _, ok, err := l.SentMessageOf(key(orderID(3))); ok || err != nil {
		t.Fatalf("an order not in the ledger: %v, %v", ok, err)
	}
}
