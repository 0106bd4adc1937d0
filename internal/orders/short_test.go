package orders_test

import (
	"reflect"
	"strings"
	"testing"

	"campaignd/internal/orders"
)

// TestShortRows: a row with fewer fields than the header (a file cut off
// mid-copy, cells lost) is rejected with its line, in tab files too. MFN
// promotion continuation lines, which leave most cells blank, stay, and a
// full row without an ASIN is an order like any other.
func TestShortRows(t *testing.T) {
	full := map[string]string{"amazon-order-id": "111-1111111-1111111", "purchase-date": "2026-05-01T10:00:00Z",
		"order-status": "Shipped", "sales-channel": "Amazon.com", "product-name": "Mug", "sku": "SKU-1",
		"item-status": "Shipped", "quantity": "1"} // no ASIN
	data := tsv(allOrdersHeader, full)
	// line 3: the row stops after product-name (a copy cut off in the middle)
	data += "111-2222222-2222222\t\t2026-05-01T10:00:00Z\t\tShipped\tAmazon\tAmazon.com\t\tStandard\tCoffee m\n"
	// line 4: a good row; line 5: the file ends inside a row, without a newline
	full["amazon-order-id"] = "111-4444444-4444444"
	data += strings.Replace(tsv(allOrdersHeader, full), allOrdersHeader+"\n", "", 1)
	data += "111-3333333-3333333\t\t2026-05-0"
	res := parseString(t, data, orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 3, Reason: "wrong field count: 10 fields, the header has 31"},
		orders.RowError{Line: 5, Reason: "wrong field count: 3 fields, the header has 31"},
	)
	want := orders.Order{ID: "111-1111111-1111111", Marketplace: "Amazon.com", PurchaseDate: ts(t, "2026-05-01T10:00:00Z"),
		Status: "Shipped", Shipped: true, Items: []orders.Item{{SKU: "SKU-1", Title: "Mug", Quantity: 1}}}
	want2 := want
	want2.ID = "111-4444444-4444444"
	if !reflect.DeepEqual(res.orders, []orders.Order{want, want2}) {
		t.Errorf("\n got %+v\nwant %+v and %+v", res.orders, want, want2)
	}
}

// TestShortRowsMFN: in the MFN Order Report a short continuation line
// belongs to the order before it; a short row with its own purchase date
// is a row cut off and is rejected.
func TestShortRowsMFN(t *testing.T) {
	data := tsv(mfnHeader, map[string]string{"order-id": "026-1111111-1111111", "order-item-id": "1",
		"purchase-date": "2020-03-01T10:00:00+00:00", "sku": "SKU-1", "product-name": "Mug", "quantity-purchased": "1"})
	data += "\t\t\t\t\t\t\tSKU-2\tSaucer\t1\n" // continuation, cut after quantity
	data += "026-2222222-2222222\t2\t2020-03-02T10:00:00+00:00\t\t\t\t\tSKU-3\tPlate\n"
	res := parseString(t, data, orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum, orders.RowError{Line: 4, Reason: "wrong field count: 9 fields, the header has 34"})
	want := []orders.Order{{ID: "026-1111111-1111111", PurchaseDate: ts(t, "2020-03-01T10:00:00Z"), FulfillmentChannel: "MFN",
		Items: []orders.Item{{SKU: "SKU-1", Title: "Mug", Quantity: 1}, {SKU: "SKU-2", Title: "Saucer", Quantity: 1}}}}
	if !reflect.DeepEqual(res.orders, want) {
		t.Errorf("\n got %+v\nwant %+v", res.orders, want)
	}
}
