package orders_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"campaignd/internal/orders"
)

// fuzzColumns maps a generic CSV so the fuzzer reaches that path too.
var fuzzColumns = map[string]string{
	"order_id": "Order", "purchase_date": "Date", "status": "Status", "ship_date": "Shipped",
	"delivery_date": "Delivered", "cancelled": "Cancelled", "returned": "Returned", "product_name": "Product",
}

func FuzzParse(f *testing.F) {
	// Every layout's real header with a row, and the sample files whole.
	f.Add([]byte(tsv(allOrdersHeader, map[string]string{"amazon-order-id": "111-1111111-1111111",
		"purchase-date": "2026-05-01T10:00:00-07:00", "last-updated-date": "2026-05-02T10:00:00Z",
		"order-status": "Shipped - Delivered to Buyer", "sku": "A", "item-status": "Shipped", "quantity": "1"})), false)
	f.Add([]byte(tsv(mfnHeader, map[string]string{"order-id": "026-1111111-1111111", "order-item-id": "1",
		"purchase-date": "2020-03-01T10:00:00+00:00", "sku": "A"}, map[string]string{"sku": "A"})), false)
	f.Add([]byte("Order;Date;Status;Shipped;Delivered;Cancelled;Returned;Product\n"+
		"302-1111111-1111111;2026-05-01 10:00:00;Shipped;2026-05-02T10:00:00Z;;no;0,00;\"a;\"\"b\"\"\nc\"\n"), true)
	entries, err := os.ReadDir("testdata")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || !(strings.HasSuffix(e.Name(), ".txt") || strings.HasSuffix(e.Name(), ".csv")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join("testdata", e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		if strings.Contains(e.Name(), "handmade") {
			gz := gzipped(f, b)
			f.Add(gz, false)
			f.Add(gz[:len(gz)/2], false)
		}
		if strings.Contains(e.Name(), "airbyte") {
			// the header once, with a row of plausible cells
			h := string(b[:bytes.IndexByte(b, '\n')])
			n := strings.Count(h, "\t")
			f.Add([]byte(h+"\n"+"111-1111111-1111111\t2026-05-01T10:00:00Z"+strings.Repeat("\tx", n-1)+"\n"), false)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, generic bool) {
		opts := orders.Options{KeepBuyerEmail: true, KeepBuyerName: true}
		if generic {
			opts.Columns = fuzzColumns
		}
		info, err := orders.Inspect(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if info.Size != int64(len(data)) {
			t.Fatalf("Inspect size %d, want %d", info.Size, len(data))
		}
		var got []orders.Order
		sum, err := orders.Parse(bytes.NewReader(data), "fuzz", info.Encoding, opts, func(o orders.Order) error {
			got = append(got, o)
			return nil
		})
		if err != nil && !errors.Is(err, orders.ErrNotReport) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if err != nil && len(got) > 0 {
			t.Fatalf("ErrNotReport after emitting %d orders", len(got))
		}
		if sum.Groups != len(got) || sum.RejectedCount < len(sum.Rejected) || len(sum.Rejected) > 1000 ||
			sum.Groups > sum.Rows-sum.RejectedCount || sum.Rows < 0 {
			t.Fatalf("inconsistent summary %+v with %d orders", sum, len(got))
		}
		if msg := causesAddUp(sum); msg != "" {
			t.Fatal(msg)
		}
		for _, r := range sum.Rejected {
			if r.Line < 1 || r.Reason == "" {
				t.Fatalf("bad RowError %+v", r)
			}
		}
		for _, o := range got {
			if !orders.ValidID(o.ID) && !orders.IsNonAmazonID(o.ID) {
				t.Fatalf("emitted invalid id %q", o.ID)
			}
			if orders.IsNonAmazonID(o.ID) && o.Excluded == "" {
				t.Fatalf("MCF order %q not excluded", o.ID)
			}
			for _, it := range o.Items {
				if !utf8.ValidString(it.Title) || !utf8.ValidString(it.SKU) {
					t.Fatalf("invalid UTF-8 in item %+v", it)
				}
			}
		}
	})
}
