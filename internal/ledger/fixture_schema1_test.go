package ledger_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"campaignd/internal/ledger"
	"campaignd/internal/orders"
)

var writeSchema1 = flag.Bool("write-schema1-fixture", false, "write testdata/schema1.db with this build (schema 1 builds only)")

// TestWriteSchema1Fixture wrote testdata/schema1.db and its expected
// export and histories with the schema-1 code (commit 52beefb).
func TestWriteSchema1Fixture(t *testing.T) {
	if !*writeSchema1 {
		t.Skip("run with -write-schema1-fixture on a schema-1 build")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "schema1.db")
	l, err := ledger.Open(path, ledger.Options{})
	must(t, err)
	now := t0.Add(time.Hour)
	var batch []orders.Order
	for i := range 40 {
		o := order(orderID(i))
		o.PurchaseDate = t0.Add(time.Duration(i) * time.Hour)
		if i == 12 {
			o.PurchaseDate = t0.Add(-31 * day)
		}
		switch i % 5 {
		case 1:
			o.Shipped = false
		case 2:
			o.Excluded, o.Because = orders.ExcludedCancelled, "order-status Cancelled"
		case 3:
			o.Items = append(o.Items, orders.Item{SKU: "SKU-2", ASIN: "B000000002", Title: "Tasse – grün", Quantity: 2, Cancelled: true})
			o.Marketplace = "Amazon.de"
		}
		batch = append(batch, o)
	}
	mustUpsert(t, l, now, batch...)
	send := t0.Add(6 * day)
	k := func(i int) ledger.Key { return key(orderID(i)) }
	_, err = l.Claim(k(0), "outbox", send)
	must(t, err)
	must(t, l.MarkSent(k(0), send, "wrote 0.eml"))
	_, err = l.Claim(k(3), "smtp", send)
	must(t, err)
	must(t, l.MarkDelivering(k(3), send))
	must(t, l.MarkInDoubt(k(3), send, "no answer after DATA"))
	_, err = l.Claim(k(4), "smtp", send)
	must(t, err)
	must(t, l.Retry(k(4), send.Add(time.Hour), send, "421 try later"))
	must(t, l.Refuse(k(5), send.Add(day), send, "P-LINK: a link"))
	_, err = l.Claim(k(8), "smtp", send)
	must(t, err)
	must(t, l.MarkFailed(k(8), send, "550 no such user"))
	_, err = l.Claim(k(9), "outbox", send)
	must(t, err)
	must(t, l.OperatorMarkSent(key("111-0000009-9999999"), send, "uid 1000 (alice)", "phoned"))
	must(t, l.OperatorExclude(k(10), send, "", "asked not to"))
	upd := order(orderID(11))
	upd.EstimatedArrival = t0.Add(3 * day)
	mustUpsert(t, l, send, upd)
	must(t, l.RecordFile(ledger.FileRecord{SHA256: "aa11", Name: "all-orders.txt", Size: 1234, Kind: "all-orders", Encoding: "utf-8",
		IngestedAt: now, Rows: 48, Orders: 40, Rejected: 1, Outcome: "processed", RowErrors: []string{"all-orders.txt:9: amazon-order-id: bad id"}}))
	must(t, l.RecordFile(ledger.FileRecord{SHA256: "bb22", Name: "x.bin", Size: 9, IngestedAt: send, Outcome: "rejected", Error: "binary"}))
	_, err = l.ExpireOverdue(t0.Add(30*day + 3*time.Hour))
	must(t, err)
	must(t, l.Check())

	var export bytes.Buffer
	must(t, l.Export(&export))
	hist := map[string][]ledger.Event{}
	must(t, l.ForEach(func(r ledger.Record) error {
		evs, err := l.Events(r.Key)
		hist[r.Key.OrderID] = evs
		return err
	}))
	probs, err := l.RecentProblems(100)
	must(t, err)
	must(t, l.Close())
	h, _ := json.MarshalIndent(struct {
		History  map[string][]ledger.Event
		Problems []ledger.Event
	}{hist, probs}, "", " ")
	raw, err := os.ReadFile(path)
	must(t, err)
	for name, b := range map[string][]byte{"schema1.db": raw, "schema1.export.jsonl": export.Bytes(), "schema1.history.json": h} {
		must(t, os.WriteFile(filepath.Join("testdata", name), b, 0o644))
	}
}
