package orders_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"campaignd/internal/orders"
)

// TestMergeRules pins what Merge keeps from each side.
func TestMergeRules(t *testing.T) {
	early, late := ts(t, "2026-05-01T10:00:00Z"), ts(t, "2026-05-03T10:00:00Z")
	a := orders.Order{ID: "111-1111111-1111111", PurchaseDate: late, Status: "Shipped", StatusAt: early,
		EstimatedArrival: early, Items: []orders.Item{{SKU: "A", Quantity: 1}}}
	b := orders.Order{Marketplace: "Amazon.de", PurchaseDate: early, Status: "Shipped - Delivered to Buyer", StatusAt: late,
		EstimatedArrival: late, Items: []orders.Item{{SKU: "A", ASIN: "B0", Quantity: 2, Cancelled: true}, {SKU: "B"}},
		Excluded: orders.ExcludedReturned, Because: "x"}
	m := orders.Merge(a, b)
	want := orders.Order{ID: a.ID, Marketplace: "Amazon.de", PurchaseDate: early, Status: b.Status, StatusAt: late,
		EstimatedArrival: late, Items: []orders.Item{{SKU: "A", ASIN: "B0", Quantity: 2, Cancelled: true}, {SKU: "B"}},
		Excluded: orders.ExcludedReturned, Because: "x"}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("\n got %+v\nwant %+v", m, want)
	}
	if a.Items[0].Cancelled || a.Items[0].Quantity != 1 {
		t.Errorf("Merge changed its argument's items: %+v", a.Items)
	}
	if again := orders.Merge(m, b); !reflect.DeepEqual(again, m) {
		t.Errorf("Merge is not idempotent:\n got %+v\nwant %+v", again, m)
	}
}

// TestManyItems: orders with more items than a linear search is kept for
// merge the same as with few, in Merge and within a file.
func TestManyItems(t *testing.T) {
	var rows []map[string]string
	var want []orders.Item
	for i := 0; i < 60; i++ {
		sku := fmt.Sprintf("SKU-%02d", i)
		rows = append(rows, map[string]string{"amazon-order-id": "111-1111111-1111111",
			"purchase-date": "2026-05-01T10:00:00Z", "sku": sku, "item-status": "Shipped", "quantity": "1"})
		want = append(want, orders.Item{SKU: sku, Quantity: 1})
	}
	// every SKU again, with a larger quantity and the odd ones cancelled
	for i := 0; i < 60; i++ {
		status := "Shipped"
		if i%2 == 1 {
			status, want[i].Cancelled = "Cancelled", true
		}
		rows = append(rows, map[string]string{"amazon-order-id": "111-1111111-1111111",
			"purchase-date": "2026-05-01T10:00:00Z", "sku": want[i].SKU, "item-status": status, "quantity": "3"})
		want[i].Quantity = 3
	}
	res := parseString(t, tsv(allOrdersHeader, rows...), orders.Options{})
	if res.err != nil || len(res.orders) != 1 {
		t.Fatalf("err %v, %d orders", res.err, len(res.orders))
	}
	if got := res.orders[0].Items; !reflect.DeepEqual(got, want) {
		t.Errorf("items within a file:\n got %+v\nwant %+v", got, want)
	}
	half := orders.Order{ID: "111-1111111-1111111", Items: want[:30]}
	rest := orders.Order{ID: "111-1111111-1111111", Items: append(append([]orders.Item(nil), want[20:]...), want[:5]...)}
	if got := orders.Merge(half, rest).Items; !reflect.DeepEqual(got, want) {
		t.Errorf("Merge of long item lists:\n got %d items %+v", len(got), got)
	}
	if s := fmt.Sprint(res.orders[0].Items); strings.Count(s, "SKU-") != 60 {
		t.Errorf("items %s", s)
	}
}

// TestEmittedOrdersAreKept: orders kept after emit returns stay as they
// were emitted, however much is parsed after them, and appending to one
// order's items leaves the others alone.
func TestEmittedOrdersAreKept(t *testing.T) {
	data := allOrdersText(t, 20000)
	var kept, copies []orders.Order
	_, err := orders.Parse(strings.NewReader(data), "x.txt", "utf-8", orders.Options{}, func(o orders.Order) error {
		kept = append(kept, o)
		c := o // a deep copy: no string or item list shared with o
		c.Items = append([]orders.Item(nil), o.Items...)
		for i, it := range c.Items {
			c.Items[i].SKU, c.Items[i].ASIN, c.Items[i].Title = strings.Clone(it.SKU), strings.Clone(it.ASIN), strings.Clone(it.Title)
		}
		c.ID, c.Marketplace, c.Status = strings.Clone(o.ID), strings.Clone(o.Marketplace), strings.Clone(o.Status)
		c.Because = strings.Clone(o.Because)
		copies = append(copies, c)
		return nil
	})
	if err != nil || len(kept) != 19980 {
		t.Fatalf("err %v, %d orders", err, len(kept))
	}
	for i := range kept {
		kept[i].Items = append(kept[i].Items, orders.Item{SKU: "appended"})
	}
	for i := range kept {
		k := kept[i]
		k.Items = k.Items[:len(k.Items)-1]
		if !reflect.DeepEqual(k, copies[i]) {
			t.Fatalf("order %d changed after emit:\n got %+v\nwant %+v", i, k, copies[i])
		}
	}
}
