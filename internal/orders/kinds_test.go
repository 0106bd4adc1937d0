package orders_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"campaignd/internal/orders"
)

// TestSampleFBAShipments reads the real (scrubbed) eolabs US export: comma
// CSV re-saved by a spreadsheet, CRLF, no final newline, an MCF last row.
func TestSampleFBAShipments(t *testing.T) {
	const file = "fba-fulfilled-shipments-us__eolabs-io-amazon-mws.csv"
	for _, keep := range []bool{false, true} {
		name := "buyer data dropped"
		if keep {
			name = "buyer data kept"
		}
		t.Run(name, func(t *testing.T) {
			res := parseFile(t, filepath.Join("testdata", file), orders.Options{KeepBuyerEmail: keep, KeepBuyerName: keep})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if s := res.sum; s.Kind != orders.KindFBAShipments || s.Delimiter != "comma" || s.Rows != 5 || s.Groups != 5 || s.RejectedCount != 0 {
				t.Errorf("summary %+v", s)
			}
			email := func(s string) string {
				if keep {
					return s
				}
				return ""
			}
			item := func(title string) []orders.Item {
				return []orders.Item{{SKU: "XD-41TE-U8PF", Title: title, Quantity: 1}}
			}
			want := []orders.Order{
				{ID: "100-3590565-0113041", Marketplace: "Amazon.com", PurchaseDate: ts(t, "2020-12-18T06:32:18-08:00"),
					FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2020-12-19T12:14:07-08:00"),
					EstimatedArrival: ts(t, "2020-12-20T20:00:00-08:00"), Items: item("product foo bar"),
					BuyerEmail: email("s0lls0cs4q4g6d6@marketplace.amazon.com")},
				{ID: "101-4340462-1457012", Marketplace: "Amazon.com", PurchaseDate: ts(t, "2020-12-17T07:36:05-08:00"),
					FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2020-12-19T11:49:43-08:00"),
					EstimatedArrival: ts(t, "2020-12-21T20:00:00-08:00"), Items: item("product 2 foo and bar"),
					BuyerEmail: email("g1w1ykph5hwh66h@marketplace.amazon.com")},
				{ID: "102-7910932-2381033", Marketplace: "Amazon.com", PurchaseDate: ts(t, "2020-12-18T18:59:18-08:00"),
					FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2020-12-19T10:37:46-08:00"),
					EstimatedArrival: ts(t, "2020-12-20T20:00:00-08:00"), Items: item("product 3 foo S"),
					BuyerEmail: email("02vgss4y6ywfmdz@marketplace.amazon.com")},
				{ID: "103-2260656-3601064", Marketplace: "Amazon.com", PurchaseDate: ts(t, "2020-12-19T09:36:43-08:00"),
					FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2020-12-19T10:34:29-08:00"),
					EstimatedArrival: ts(t, "2020-12-19T15:00:00-08:00"), Items: item("product 4 bar"),
					BuyerEmail: email("k3t0jm767khq36j@marketplace.amazon.com")},
				// The MCF row: S01 id (3-7-7 shaped), Non-Amazon, empty purchase date.
				{ID: "S01-2412417-1075636", Marketplace: "Non-Amazon",
					FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2020-12-13T14:20:16-08:00"),
					EstimatedArrival: ts(t, "2020-12-17T20:00:00-08:00"), Items: item("product ff"),
					Excluded: orders.ExcludedNonAmazon, Because: `sales-channel "Non-Amazon" (line 6)`},
			}
			if !reflect.DeepEqual(res.orders, want) {
				for i := range res.orders {
					t.Errorf("got  %+v", res.orders[i])
				}
				for i := range want {
					t.Errorf("want %+v", want[i])
				}
			}
		})
	}
}

// TestSampleFBAShipmentsMalformed: the first data row lost two columns, so
// its cells are shifted; it is rejected for its field count and the rest
// of the file still counts.
func TestSampleFBAShipmentsMalformed(t *testing.T) {
	res := parseFile(t, filepath.Join("testdata", "fba-fulfilled-shipments-us-malformed__eolabs-io-amazon-mws.csv"), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum, orders.RowError{Line: 2, Column: "", Reason: "wrong field count: 46 fields, the header has 48"})
	var ids []string
	for _, o := range res.orders {
		ids = append(ids, o.ID)
	}
	if want := []string{"101-4340462-1457012", "102-7910932-2381033", "103-2260656-3601064"}; !reflect.DeepEqual(ids, want) || res.sum.Rows != 4 {
		t.Errorf("ids %v rows %d, want %v and 4 rows", ids, res.sum.Rows, want)
	}
}

// TestSampleHeaderOnlyFiles: the airbyte fixtures are a real header repeated
// three times and nothing else. The kind is recognised, the repeated
// headers are not data, and the file is rejected whole as header only.
func TestSampleHeaderOnlyFiles(t *testing.T) {
	tests := map[string]orders.Kind{
		"fba-fulfilled-shipments-headers__airbytehq-airbyte.txt":     orders.KindFBAShipments,
		"archived-all-orders-headers__airbytehq-airbyte.txt":         orders.KindAllOrders,
		"returns-mfn-headers__airbytehq-airbyte.txt":                 orders.KindMFNReturns,
		"fba-customer-returns-headers__airbytehq-airbyte.txt":        orders.KindFBAReturns,
		"actionable-unshipped-orders-headers__airbytehq-airbyte.txt": orders.KindUnshipped,
	}
	for file, kind := range tests {
		t.Run(file, func(t *testing.T) {
			res := parseFile(t, filepath.Join("testdata", file), orders.Options{})
			if !errors.Is(res.err, orders.ErrNotReport) || !strings.Contains(res.err.Error(), "without data rows") {
				t.Errorf("err = %v", res.err)
			}
			if res.sum.Kind != kind || res.sum.Rows != 0 || len(res.orders) != 0 {
				t.Errorf("kind %q rows %d orders %d, want %q", res.sum.Kind, res.sum.Rows, len(res.orders), kind)
			}
		})
	}
}

// withRows returns a testdata header file (header repeated three times)
// followed by tab rows built from its first line.
func withRows(t *testing.T, file string, rows ...map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	body := tsv(firstLine(t, file), rows...)
	return string(b) + body[strings.IndexByte(body, '\n')+1:]
}

func TestReturns(t *testing.T) {
	t.Run("mfn returns", func(t *testing.T) {
		res := parseString(t, withRows(t, "returns-mfn-headers__airbytehq-airbyte.txt",
			map[string]string{"Order ID": "114-1111111-2222222", "Order date": "2026-04-01T08:00:00+00:00",
				"Return request date": "2026-04-20T08:00:00+00:00", "Merchant SKU": "SKU-1", "Return Reason": "Defective"},
			map[string]string{"Order ID": "114-1111111-3333333", "Order date": "01-Apr-2026", "Return request date": "20-Apr-2026"},
			map[string]string{"Order ID": "5.8E+13", "Order date": "2026-04-01T08:00:00+00:00"},
			map[string]string{"Order ID": "114-1111111-4444444"},
		), orders.Options{})
		if res.err != nil {
			t.Fatal(res.err)
		}
		// Three header lines, so data starts on line 4.
		wantRejected(t, res.sum, orders.RowError{Line: 6, Column: "Order ID", Reason: "invalid order id"})
		want := []orders.Order{
			{ID: "114-1111111-2222222", PurchaseDate: ts(t, "2026-04-01T08:00:00Z"),
				Excluded: orders.ExcludedReturned, Because: "return reported in mfn-returns (line 4)"},
			// A date in another shape does not cost the return.
			{ID: "114-1111111-3333333", Excluded: orders.ExcludedReturned, Because: "return reported in mfn-returns (line 5)"},
			{ID: "114-1111111-4444444", Excluded: orders.ExcludedReturned, Because: "return reported in mfn-returns (line 7)"},
		}
		if res.sum.Kind != orders.KindMFNReturns || !reflect.DeepEqual(res.orders, want) {
			t.Errorf("kind %s\n got %+v\nwant %+v", res.sum.Kind, res.orders, want)
		}
	})
	t.Run("fba customer returns", func(t *testing.T) {
		res := parseString(t, withRows(t, "fba-customer-returns-headers__airbytehq-airbyte.txt",
			map[string]string{"return-date": "2026-05-02T10:11:12+00:00", "order-id": "205-1234567-7654321", "sku": "SKU-9",
				"asin": "B00000000X", "fnsku": "X00000000", "product-name": "Topf", "quantity": "1", "detailed-disposition": "SELLABLE",
				"reason": "UNWANTED_ITEM", "customer-comments": `said "too small", tab-free text`},
			map[string]string{"return-date": "2026-05-03T10:11:12+00:00", "order-id": "205-1234567-7654321", "sku": "SKU-8"},
			map[string]string{"return-date": "2026-05-03T10:11:12+00:00", "order-id": ""},
		), orders.Options{})
		if res.err != nil {
			t.Fatal(res.err)
		}
		wantRejected(t, res.sum, orders.RowError{Line: 6, Column: "order-id", Reason: "empty order id"})
		want := []orders.Order{{ID: "205-1234567-7654321", Excluded: orders.ExcludedReturned, Because: "return reported in fba-returns (line 4)"}}
		if res.sum.Kind != orders.KindFBAReturns || !reflect.DeepEqual(res.orders, want) {
			t.Errorf("kind %s\n got %+v\nwant %+v", res.sum.Kind, res.orders, want)
		}
	})
	t.Run("a later return overrides nothing but excludes", func(t *testing.T) {
		// The caller merges: a shipped order from All Orders, then a return.
		ship := parseString(t, tsv(allOrdersHeader, map[string]string{"amazon-order-id": "205-1234567-7654321",
			"purchase-date": "2026-04-01T10:00:00Z", "order-status": "Shipped - Delivered to Buyer",
			"last-updated-date": "2026-04-05T10:00:00Z", "sku": "SKU-9", "item-status": "Shipped", "quantity": "1"}), orders.Options{})
		ret := parseString(t, withRows(t, "fba-customer-returns-headers__airbytehq-airbyte.txt",
			map[string]string{"return-date": "2026-04-10T10:00:00Z", "order-id": "205-1234567-7654321", "fnsku": "X"}), orders.Options{})
		m := orders.Merge(ship.orders[0], ret.orders[0])
		if m.Excluded != orders.ExcludedReturned || !m.Shipped || !m.PurchaseDate.Equal(ts(t, "2026-04-01T10:00:00Z")) {
			t.Errorf("merged %+v", m)
		}
	})
}

// The FBA shipments header (48 columns, real) and the JP variant with
// points-granted as a 49th column.
func TestFBAShipmentsSplitAndJP(t *testing.T) {
	h := firstLine(t, "fba-fulfilled-shipments-headers__airbytehq-airbyte.txt") + "\tpoints-granted"
	row := func(shipment, shipDate, eta, sku string) map[string]string {
		return map[string]string{"amazon-order-id": "503-1111111-2222222", "shipment-id": shipment,
			"purchase-date": "2017-06-01T10:00:00+09:00", "payments-date": "2017-06-01T10:05:00+09:00",
			"shipment-date": shipDate, "estimated-arrival-date": eta, "buyer-email": "abc@marketplace.amazon.co.jp",
			"buyer-name": "山田 太郎", "sku": sku, "product-name": "日本語の商品", "quantity-shipped": "1",
			"amazon-order-item-id": "5.80293E+13", "tracking-number": "5.80293E+13",
			"ship-city": "--", "carrier": "YAMATO", "fulfillment-center-id": "HND3",
			"fulfillment-channel": "AFN", "sales-channel": "Amazon.co.jp", "points-granted": "12"}
	}
	res := parseString(t, tsv(h,
		row("DAAAAAAA1", "2017-06-02T09:00:00+09:00", "2017-06-03T20:00:00+09:00", "SKU-1"),
		row("DAAAAAAA2", "2017-06-04T09:00:00+09:00", "2017-06-06T20:00:00+09:00", "SKU-2"),
	), orders.Options{KeepBuyerName: true})
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := orders.Order{ID: "503-1111111-2222222", Marketplace: "Amazon.co.jp",
		PurchaseDate: ts(t, "2017-06-01T01:00:00Z"), FulfillmentChannel: "AFN", Shipped: true,
		ShippedAt:        ts(t, "2017-06-02T00:00:00Z"), // the earliest shipment
		EstimatedArrival: ts(t, "2017-06-06T11:00:00Z"), // the latest estimate
		Items:            []orders.Item{{SKU: "SKU-1", Title: "日本語の商品", Quantity: 1}, {SKU: "SKU-2", Title: "日本語の商品", Quantity: 1}},
		BuyerName:        "山田 太郎"}
	if res.sum.Kind != orders.KindFBAShipments || len(res.orders) != 1 || !reflect.DeepEqual(res.orders[0], want) {
		t.Errorf("kind %s\n got %+v\nwant %+v", res.sum.Kind, res.orders, want)
	}
}

// The MFN Order Report header of a real 2020 Amazon.co.uk file.
const mfnHeader = "order-id\torder-item-id\tpurchase-date\tpayments-date\tbuyer-email\tbuyer-name\tbuyer-phone-number\tsku\tproduct-name\tquantity-purchased\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tship-service-level\trecipient-name\tship-address-1\tship-address-2\tship-address-3\tship-city\tship-state\tship-postal-code\tship-country\tship-phone-number\tdelivery-start-date\tdelivery-end-date\tdelivery-time-zone\tdelivery-Instructions\tsales-channel\tis-business-order\tpurchase-order-number\tprice-designation\tis-sold-by-ab"

func TestMFNOrders(t *testing.T) {
	res := parseString(t, tsv(mfnHeader,
		map[string]string{"order-id": "026-1111111-1111111", "order-item-id": "11111111111111", "purchase-date": "2020-03-01T10:00:00+00:00",
			"payments-date": "2020-03-01T10:01:00+00:00", "buyer-email": "x1@marketplace.amazon.co.uk", "buyer-name": "A Buyer",
			"sku": "SKU-1", "product-name": "Mug", "quantity-purchased": "2", "sales-channel": "Amazon.co.uk"},
		// promotion continuation line: blank order id, most cells blank
		map[string]string{"sku": "SKU-1", "item-promotion-discount": "-1.00"},
		// continuation line repeating the id, no purchase date
		map[string]string{"order-id": "026-1111111-1111111", "sku": "SKU-2", "product-name": "Saucer", "quantity-purchased": "1"},
		map[string]string{"order-id": "026-2222222-2222222", "order-item-id": "2", "purchase-date": "not a date", "sku": "SKU-3"},
		// continuation of a rejected row: rejected too
		map[string]string{"sku": "SKU-3"},
		map[string]string{"order-id": "026-3333333-3333333", "order-item-id": "3", "purchase-date": "2020-03-02T10:00:00+00:00",
			"sku": "SKU-4", "product-name": "Plate", "quantity-purchased": "1"},
	), orders.Options{KeepBuyerEmail: true})
	if res.err != nil {
		t.Fatal(res.err)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 5, Column: "purchase-date", Reason: `cannot parse "not a date" as a date`},
		orders.RowError{Line: 6, Column: "order-id", Reason: "empty order id"},
	)
	want := []orders.Order{
		{ID: "026-1111111-1111111", Marketplace: "Amazon.co.uk", PurchaseDate: ts(t, "2020-03-01T10:00:00Z"),
			FulfillmentChannel: "MFN", BuyerEmail: "x1@marketplace.amazon.co.uk",
			Items: []orders.Item{{SKU: "SKU-1", Title: "Mug", Quantity: 2}, {SKU: "SKU-2", Title: "Saucer", Quantity: 1}}},
		{ID: "026-3333333-3333333", PurchaseDate: ts(t, "2020-03-02T10:00:00Z"), FulfillmentChannel: "MFN",
			Items: []orders.Item{{SKU: "SKU-4", Title: "Plate", Quantity: 1}}},
	}
	if res.sum.Kind != orders.KindMFNOrders || res.sum.Rows != 6 || !reflect.DeepEqual(res.orders, want) {
		t.Errorf("kind %s rows %d\n got %+v\nwant %+v", res.sum.Kind, res.sum.Rows, res.orders, want)
	}
}

func TestUnshippedOrders(t *testing.T) {
	res := parseString(t, withRows(t, "actionable-unshipped-orders-headers__airbytehq-airbyte.txt",
		map[string]string{"order-id": "171-1111111-1111111", "order-item-id": "1", "purchase-date": "2026-05-01T10:00:00-07:00",
			"payments-date": "2026-05-01T10:00:00-07:00", "promise-date": "2026-05-03T10:00:00-07:00",
			"buyer-email": "b@marketplace.amazon.com", "sku": "SKU-1", "product-name": "Lamp",
			"quantity-purchased": "2", "quantity-shipped": "0", "quantity-to-ship": "2"},
	), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []orders.Order{{ID: "171-1111111-1111111", PurchaseDate: ts(t, "2026-05-01T17:00:00Z"), FulfillmentChannel: "MFN",
		Items: []orders.Item{{SKU: "SKU-1", Title: "Lamp", Quantity: 2}}}}
	if res.sum.Kind != orders.KindUnshipped || !reflect.DeepEqual(res.orders, want) {
		t.Errorf("kind %s\n got %+v\nwant %+v", res.sum.Kind, res.orders, want)
	}
}

func TestGenericCSV(t *testing.T) {
	cols := map[string]string{
		"order_id": "Order", "purchase_date": "Ordered at", "marketplace": "Shop", "status": "State",
		"sku": "SKU", "product_name": "Product", "quantity": "Qty", "ship_date": "Shipped on",
		"delivery_date": "Delivered on", "estimated_delivery": "ETA", "buyer_email": "E-Mail",
		"cancelled": "Cancelled at", "returned": "Refunded",
	}
	data := "Order;Ordered at;Shop;State;SKU;Product;Qty;Shipped on;Delivered on;ETA;E-Mail;Cancelled at;Refunded;Notes\r\n" +
		// line 2: quoted product name with a separator, doubled quotes and a line break
		"302-1111111-1111111;2026-05-01 10:00:00 +0200;Amazon.de;Shipped;SKU-1;\"Becher; \"\"Morgen\"\"\r\nzweite Zeile\";1;2026-05-02T09:00:00+02:00;;2026-05-05T20:00:00+02:00;a@marketplace.amazon.de;;0,00;\r\n" +
		// line 4: delivered, a date layout from Options
		"302-2222222-2222222;01.05.2026 10:00;Amazon.de;Delivered;SKU-2;Teller;2;;05.05.2026 12:00;;;;no;\r\n" +
		// line 5: cancelled by a date in "Cancelled at"
		"302-3333333-3333333;2026-05-01T10:00:00Z;Amazon.de;;SKU-3;Glas;1;;;;;2026-05-01 11:00;;\r\n" +
		// line 6: refunded
		"302-4444444-4444444;2026-05-01T10:00:00Z;Amazon.de;Shipped;SKU-4;Krug;1;;;;;;yes;\r\n" +
		// line 7: a zoneless time, read as UTC
		"302-5555555-5555555;2020-12-18 06:32:18;Amazon.de;Pending;SKU-5;Tasse;1;;;;;;;\r\n" +
		// line 8: a shop order number is not an Amazon order id
		"#1001;2026-05-01T10:00:00Z;Shopify;Shipped;SKU-6;Tasse;1;;;;;;;\r\n" +
		// line 9: too many fields
		"302-6666666-6666666;2026-05-01T10:00:00Z;Amazon.de;Shipped;SKU-6;Tasse;1;;;;;;;;extra\r\n" +
		// line 10: too few fields in a CSV
		"302-7777777-7777777;2026-05-01T10:00:00Z;Amazon.de\r\n"
	res := parseString(t, data, orders.Options{Columns: cols, DateLayouts: []string{"02.01.2006 15:04"}, KeepBuyerEmail: true})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.sum.Kind != orders.KindGeneric || res.sum.Delimiter != "semicolon" || res.sum.Rows != 8 {
		t.Errorf("summary %+v", res.sum)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 8, Column: "Order", Reason: `invalid order id "#1001"`},
		orders.RowError{Line: 9, Column: "", Reason: "wrong field count: 15 fields, the header has 14"},
		orders.RowError{Line: 10, Column: "", Reason: "wrong field count: 3 fields, the header has 14"},
	)
	want := []orders.Order{
		{ID: "302-1111111-1111111", Marketplace: "Amazon.de", PurchaseDate: ts(t, "2026-05-01T08:00:00Z"),
			Status: "Shipped", Shipped: true, ShippedAt: ts(t, "2026-05-02T07:00:00Z"),
			EstimatedArrival: ts(t, "2026-05-05T18:00:00Z"), BuyerEmail: "a@marketplace.amazon.de",
			Items: []orders.Item{{SKU: "SKU-1", Title: "Becher; \"Morgen\"\nzweite Zeile", Quantity: 1}}},
		{ID: "302-2222222-2222222", Marketplace: "Amazon.de", PurchaseDate: ts(t, "2026-05-01T10:00:00Z"),
			Status: "Delivered", Shipped: true, DeliveredAt: ts(t, "2026-05-05T12:00:00Z"),
			Items: []orders.Item{{SKU: "SKU-2", Title: "Teller", Quantity: 2}}},
		{ID: "302-3333333-3333333", Marketplace: "Amazon.de", PurchaseDate: ts(t, "2026-05-01T10:00:00Z"),
			Items:    []orders.Item{{SKU: "SKU-3", Title: "Glas", Quantity: 1}},
			Excluded: orders.ExcludedCancelled, Because: `Cancelled at "2026-05-01 11:00" (line 5)`},
		{ID: "302-4444444-4444444", Marketplace: "Amazon.de", PurchaseDate: ts(t, "2026-05-01T10:00:00Z"),
			Status: "Shipped", Shipped: true, Items: []orders.Item{{SKU: "SKU-4", Title: "Krug", Quantity: 1}},
			Excluded: orders.ExcludedReturned, Because: `Refunded "yes" (line 6)`},
		{ID: "302-5555555-5555555", Marketplace: "Amazon.de", PurchaseDate: ts(t, "2020-12-18T06:32:18Z"),
			Status: "Pending", Items: []orders.Item{{SKU: "SKU-5", Title: "Tasse", Quantity: 1}}},
	}
	if !reflect.DeepEqual(res.orders, want) {
		for _, o := range res.orders {
			t.Errorf("got  %+v", o)
		}
		for _, o := range want {
			t.Errorf("want %+v", o)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		cols map[string]string
		want string
	}{
		{"empty is off", nil, ""},
		{"minimal", map[string]string{"order_id": "a", "purchase_date": "b"}, ""},
		{"unknown field", map[string]string{"order_id": "a", "purchase_date": "b", "colour": "c"}, `unknown field "colour"`},
		{"missing purchase date", map[string]string{"order_id": "a"}, `"purchase_date" is required`},
		{"empty header", map[string]string{"order_id": " ", "purchase_date": "b"}, "empty header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := orders.Options{Columns: tt.cols}.Validate()
			if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("Validate() = %v, want %q", err, tt.want)
			}
		})
	}
	// Parse refuses bad options outright, as a caller error, not ErrNotReport.
	_, err := orders.Parse(strings.NewReader(allOrdersHeader), "x", "utf-8",
		orders.Options{Columns: map[string]string{"order_id": "a"}}, func(orders.Order) error { return nil })
	if err == nil || errors.Is(err, orders.ErrNotReport) {
		t.Errorf("Parse with bad options: %v", err)
	}
	if _, err := orders.Parse(strings.NewReader(allOrdersHeader), "x", "ebcdic", orders.Options{}, func(orders.Order) error { return nil }); err == nil {
		t.Error("Parse accepted an unknown encoding")
	}
}
