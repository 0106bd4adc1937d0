package orders_test

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"campaignd/internal/orders"
)

// The All Orders header as SP-API documents it (BY_LAST_UPDATE, 31 columns).
const allOrdersHeader = "amazon-order-id\tmerchant-order-id\tpurchase-date\tlast-updated-date\torder-status\tfulfillment-channel\tsales-channel\torder-channel\tship-service-level\tproduct-name\tsku\tasin\titem-status\tquantity\tcurrency\titem-price\titem-tax\tshipping-price\tshipping-tax\tgift-wrap-price\tgift-wrap-tax\titem-promotion-discount\tship-promotion-discount\tship-city\tship-state\tship-postal-code\tship-country\tpromotion-ids\tis-business-order\tpurchase-order-number\tprice-designation"

func TestParseAllOrdersHandmade(t *testing.T) {
	res := parseFile(t, filepath.Join("testdata", "all-orders-handmade.txt"), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	s := res.sum
	if s.Kind != orders.KindAllOrders || s.Delimiter != "tab" || s.Encoding != "utf-8" || s.Rows != 15 || s.Groups != 8 {
		t.Errorf("summary = %+v", s)
	}
	wantRejected(t, s,
		orders.RowError{Line: 9, Column: "amazon-order-id", Reason: `invalid order id "5.8E+13"`},
		orders.RowError{Line: 10, Column: "purchase-date", Reason: `cannot parse "2020-13-45" as a date`},
		orders.RowError{Line: 11, Column: "purchase-date", Reason: "empty"},
		orders.RowError{Line: 14, Column: "", Reason: "wrong field count: 33 fields, the header has 31"},
		// a row cut short after quantity: a file cut off, or cells lost
		orders.RowError{Line: 15, Column: "", Reason: "wrong field count: 14 fields, the header has 31"},
	)
	if got := s.Rejected[1].Error(); got != `line 10: purchase-date: cannot parse "2020-13-45" as a date` {
		t.Errorf("RowError.Error() = %q", got)
	}

	delivered := ts(t, "2026-05-06T09:30:00-07:00")
	want := []orders.Order{
		{
			ID: "111-1111111-1111111", Marketplace: "Amazon.com",
			PurchaseDate: ts(t, "2026-05-01T17:00:00Z"),
			Status:       "Shipped - Delivered to Buyer", StatusAt: delivered,
			FulfillmentChannel: "AFN", Shipped: true, ShippedAt: delivered, DeliveredAt: delivered,
			Items: []orders.Item{
				{SKU: "SKU-A", ASIN: "B000000001", Title: `Kaffeebecher "Morgen" 350 ml, weiß`, Quantity: 1},
				{SKU: "SKU-B", ASIN: "B000000002", Title: "Untersetzer aus Kork", Quantity: 2},
			},
		},
		{
			ID: "302-2222222-2222222", Marketplace: "Amazon.de",
			PurchaseDate: ts(t, "2026-05-02T06:00:00Z"),
			Status:       "Cancelled", StatusAt: ts(t, "2026-05-02T10:00:00Z"),
			FulfillmentChannel: "MFN",
			Items:              []orders.Item{{SKU: "SKU-C", ASIN: "B000000003", Title: "Brotdose Edelstahl", Quantity: 1, Cancelled: true}},
			Excluded:           orders.ExcludedCancelled, Because: `order-status "Cancelled" (line 4)`,
		},
		{
			ID: "503-3333333-3333333", Marketplace: "Amazon.co.jp",
			PurchaseDate: ts(t, "2026-05-03T00:00:00Z"),
			Status:       "Shipped", StatusAt: ts(t, "2026-05-04T00:00:00Z"),
			FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2026-05-04T00:00:00Z"),
			Items: []orders.Item{
				{SKU: "SKU-J", ASIN: "B000000004", Title: "日本語の商品名（湯呑み）", Quantity: 1},
				{SKU: "SKU-K", ASIN: "B000000005", Title: "急須", Quantity: 1, Cancelled: true},
			},
		},
		{
			ID: "404-4444444-4444444", Marketplace: "Amazon.co.uk",
			PurchaseDate: ts(t, "2026-04-20T15:00:00Z"),
			Status:       "Shipped - Returned to Seller", StatusAt: ts(t, "2026-05-01T15:00:00Z"),
			FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2026-05-01T15:00:00Z"),
			Items:    []orders.Item{{SKU: "SKU-D", ASIN: "B000000006", Title: "Tea towel", Quantity: 1}},
			Excluded: orders.ExcludedReturned, Because: `order-status "Shipped - Returned to Seller" (line 7)`,
		},
		{
			ID: "205-5555555-5555555", Marketplace: "Amazon.fr",
			PurchaseDate: ts(t, "2026-05-05T08:00:00Z"), Status: "Pending",
			FulfillmentChannel: "MFN",
			Items:              []orders.Item{{SKU: "SKU-E", ASIN: "B000000007", Title: "Théière en fonte", Quantity: 1}},
		},
		{
			ID: "S01-1234567-1234567", Marketplace: "Non-Amazon",
			Status: "Shipped", StatusAt: ts(t, "2026-05-03T17:00:00Z"),
			FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2026-05-03T17:00:00Z"),
			Items:    []orders.Item{{SKU: "SKU-A", Quantity: 1}},
			Excluded: orders.ExcludedNonAmazon, Because: `sales-channel "Non-Amazon" (line 12)`,
		},
		{
			// The same order again, not adjacent: emitted again for the caller to merge.
			ID: "111-1111111-1111111", Marketplace: "Amazon.com",
			PurchaseDate: ts(t, "2026-05-01T17:00:00Z"),
			Status:       "Shipped - Delivered to Buyer", StatusAt: delivered,
			FulfillmentChannel: "AFN", Shipped: true, ShippedAt: delivered, DeliveredAt: delivered,
			Items: []orders.Item{{SKU: "SKU-B", ASIN: "B000000002", Title: "Untersetzer aus Kork", Quantity: 2}},
		},
		{
			ID: "210-1010101-1010101", Marketplace: "Amazon.es",
			PurchaseDate: ts(t, "2026-05-08T08:00:00Z"),
			Status:       "Pending", StatusAt: ts(t, "2026-05-08T09:00:00Z"),
			FulfillmentChannel: "AFN",
			Items:              []orders.Item{{SKU: "SKU-H", Title: "Taza", Quantity: 1, Cancelled: true}},
			Excluded:           orders.ExcludedCancelled, Because: "every item was cancelled",
		},
	}
	if len(res.orders) != len(want) {
		for _, o := range res.orders {
			t.Logf("got %+v", o)
		}
		t.Fatalf("got %d orders, want %d", len(res.orders), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(res.orders[i], want[i]) {
			t.Errorf("order %d:\n got %+v\nwant %+v", i, res.orders[i], want[i])
		}
	}
}

// TestAllOrdersStatuses walks every order-status value campaignd knows.
func TestAllOrdersStatuses(t *testing.T) {
	const updated = "2026-05-10T12:00:00-07:00"
	at := ts(t, updated)
	tests := []struct {
		status    string
		shipped   bool
		delivered bool
		excluded  orders.Exclusion
	}{
		{"Pending", false, false, ""},
		{"Pending - Waiting for Pick Up", false, false, ""},
		{"Unshipped", false, false, ""},
		{"Unfulfillable", false, false, ""},
		{"Shipping", true, false, ""},
		{"Shipped", true, false, ""},
		{"Shipped - Out for Delivery", true, false, ""},
		{"Shipped - Delivered to Buyer", true, true, ""},
		{"Shipped - Picked Up", true, true, ""},
		{"Cancelled", false, false, orders.ExcludedCancelled},
		{"Shipped - Returned to Seller", true, false, orders.ExcludedReturned},
		{"Shipped - Returning to Seller", true, false, orders.ExcludedReturned},
		{"Shipped - Rejected by Buyer", true, false, orders.ExcludedRejected},
		{"Shipped - Undeliverable", true, false, orders.ExcludedUndeliverable},
		{"Shipped - Lost in Transit", true, false, orders.ExcludedLost},
		{"Shipped - Damaged", true, false, orders.ExcludedDamaged},
		{"shipped - delivered to buyer", true, true, ""}, // case does not matter
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			res := parseString(t, tsv(allOrdersHeader, map[string]string{
				"amazon-order-id": "111-2222222-3333333", "purchase-date": "2026-05-01T10:00:00-07:00",
				"last-updated-date": updated, "order-status": tt.status, "fulfillment-channel": "Amazon",
				"sales-channel": "Amazon.com", "sku": "S", "item-status": "Shipped", "quantity": "1",
			}), orders.Options{})
			if res.err != nil || len(res.orders) != 1 {
				t.Fatalf("err %v, %d orders", res.err, len(res.orders))
			}
			o := res.orders[0]
			if o.Status != tt.status || !o.StatusAt.Equal(at) {
				t.Errorf("status %q at %v", o.Status, o.StatusAt)
			}
			if o.Shipped != tt.shipped {
				t.Errorf("Shipped = %v, want %v", o.Shipped, tt.shipped)
			}
			wantShippedAt := time.Time{}
			if tt.shipped {
				wantShippedAt = at
			}
			if !o.ShippedAt.Equal(wantShippedAt) {
				t.Errorf("ShippedAt = %v, want %v", o.ShippedAt, wantShippedAt)
			}
			if got := !o.DeliveredAt.IsZero(); got != tt.delivered || (got && !o.DeliveredAt.Equal(at)) {
				t.Errorf("DeliveredAt = %v, want delivered %v at %v", o.DeliveredAt, tt.delivered, at)
			}
			if o.Excluded != tt.excluded {
				t.Errorf("Excluded = %q, want %q", o.Excluded, tt.excluded)
			}
			if tt.excluded != "" {
				want := fmt.Sprintf("order-status %q (line 2)", tt.status)
				if o.Because != want {
					t.Errorf("Because = %q, want %q", o.Because, want)
				}
			}
		})
	}
}

// TestAllOrdersVariants reads the header variants seen in the wild: the
// archived layout (real airbyte header), the MWS-era url column, the
// BY_ORDER_DATE cpf column, the newer SP-API extras, a shuffled order, and
// upper case names.
func TestAllOrdersVariants(t *testing.T) {
	archived := firstLine(t, "archived-all-orders-headers__airbytehq-airbyte.txt")
	headers := map[string]string{
		"archived (airbyte)": archived,
		"MWS url column":     strings.Replace(allOrdersHeader, "order-channel\t", "order-channel\turl\t", 1),
		"BY_ORDER_DATE cpf":  strings.Replace(allOrdersHeader, "promotion-ids\t", "promotion-ids\tcpf\t", 1),
		"SP-API extras": strings.NewReplacer("asin\t", "asin\tnumber-of-items\t",
			"item-status\t", "item-status\ttax-collection-model\ttax-collection-responsible-party\t",
			"ship-city\t", "address-type\tship-city\t").Replace(allOrdersHeader),
		"shuffled":   "sku\tquantity\titem-status\tsales-channel\tfulfillment-channel\torder-status\tlast-updated-date\tpurchase-date\tamazon-order-id\tunknown-future-column",
		"upper case": strings.ToUpper(allOrdersHeader),
	}
	for name, h := range headers {
		t.Run(name, func(t *testing.T) {
			row := map[string]string{
				"amazon-order-id": "028-1234567-7654321", "purchase-date": "2026-05-01T10:00:00+02:00",
				"last-updated-date": "2026-05-03T10:00:00+02:00", "order-status": "Shipped",
				"fulfillment-channel": "Amazon", "sales-channel": "Amazon.de", "sku": "SKU-1",
				"item-status": "Shipped", "quantity": "3", "unknown-future-column": "x",
			}
			if name == "upper case" {
				up := map[string]string{}
				for k, v := range row {
					up[strings.ToUpper(k)] = v
				}
				row = up
			}
			res := parseString(t, tsv(h, row), orders.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			want := orders.Order{
				ID: "028-1234567-7654321", Marketplace: "Amazon.de",
				PurchaseDate: ts(t, "2026-05-01T08:00:00Z"),
				Status:       "Shipped", StatusAt: ts(t, "2026-05-03T08:00:00Z"),
				FulfillmentChannel: "AFN", Shipped: true, ShippedAt: ts(t, "2026-05-03T08:00:00Z"),
				Items: []orders.Item{{SKU: "SKU-1", Quantity: 3}},
			}
			if res.sum.Kind != orders.KindAllOrders || len(res.orders) != 1 || !reflect.DeepEqual(res.orders[0], want) {
				t.Errorf("kind %s, orders %+v", res.sum.Kind, res.orders)
			}
		})
	}
}

// TestNotReport covers files rejected whole: nothing is emitted.
func TestNotReport(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
		opts orders.Options
	}{
		{"empty", "", "empty file", orders.Options{}},
		{"blank lines only", "\n\r\n\n", "empty file", orders.Options{}},
		{"binary", "amazon-order-id\tpurchase-date\x00\x01\x02", "binary", orders.Options{}},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", "Excel", orders.Options{}},
		{"utf-16", "\xff\xfea\x00m\x00", "UTF-16", orders.Options{}},
		{"header only", allOrdersHeader + "\n", "All Orders report header without data rows", orders.Options{}},
		{"header only, no newline", allOrdersHeader, "without data rows", orders.Options{}},
		{"header and blank lines", allOrdersHeader + "\n\n\t\t\n", "without data rows", orders.Options{}},
		{"no delimiter", "hello world\nsecond line\n", "no recognisable header", orders.Options{}},
		{"unknown header", "name,email,total\na,b,c\n", "no recognisable header", orders.Options{}},
		{"all orders without id", strings.Replace(allOrdersHeader, "amazon-order-id", "order-number", 1) + "\nx\n", "missing the amazon-order-id column", orders.Options{}},
		{"fba shipments without id", "shipment-id\tshipment-date\tsku\nx\ty\tz\n", "missing the amazon-order-id column", orders.Options{}},
		{"all orders without purchase-date", strings.Replace(allOrdersHeader, "purchase-date", "order-date", 1) + "\n111-1111111-1111111\n", "missing the purchase-date column", orders.Options{}},
		{"fba returns without id", "return-date\tfnsku\tsku\nx\ty\tz\n", "missing the order-id column", orders.Options{}},
		{"generic without id", "Date;Total\n2026-05-01;3\n", `missing the order id column "Order"`,
			orders.Options{Columns: map[string]string{"order_id": "Order", "purchase_date": "Date"}}},
		{"generic off without columns", "Order;Date\n111-1111111-1111111;2026-05-01\n", "no recognisable header", orders.Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parseString(t, tt.data, tt.opts)
			if !errors.Is(res.err, orders.ErrNotReport) {
				t.Fatalf("err = %v, want ErrNotReport", res.err)
			}
			if !strings.Contains(res.err.Error(), tt.want) || !strings.HasPrefix(res.err.Error(), "report.txt: ") {
				t.Errorf("err = %q, want it to name the file and contain %q", res.err, tt.want)
			}
			if len(res.orders) != 0 {
				t.Errorf("emitted %d orders", len(res.orders))
			}
		})
	}
}

// TestAllRowsRejected: a readable file whose every row is bad is parsed,
// not rejected whole.
func TestAllRowsRejected(t *testing.T) {
	res := parseString(t, tsv(allOrdersHeader,
		map[string]string{"amazon-order-id": "1.11111E+15", "purchase-date": "2026-05-01T10:00:00Z"},
		map[string]string{"amazon-order-id": "111-1111111-1111111", "purchase-date": "05/01/2026"},
	), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.sum.Rows != 2 || res.sum.Groups != 0 || len(res.orders) != 0 {
		t.Errorf("summary %+v", res.sum)
	}
	wantRejected(t, res.sum,
		orders.RowError{Line: 2, Column: "amazon-order-id", Reason: `invalid order id "1.11111E+15"`},
		orders.RowError{Line: 3, Column: "purchase-date", Reason: `cannot parse "05/01/2026" as a date`},
	)
}

// TestEmitError stops parsing at the first error from emit and returns it.
func TestEmitError(t *testing.T) {
	stop := errors.New("ledger full")
	data := tsv(allOrdersHeader,
		map[string]string{"amazon-order-id": "111-1111111-1111111", "purchase-date": "2026-05-01T10:00:00Z"},
		map[string]string{"amazon-order-id": "111-1111111-1111112", "purchase-date": "2026-05-01T10:00:00Z"},
		map[string]string{"amazon-order-id": "111-1111111-1111113", "purchase-date": "2026-05-01T10:00:00Z"},
	)
	calls := 0
	_, err := orders.Parse(strings.NewReader(data), "x.txt", "utf-8", orders.Options{}, func(o orders.Order) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("err = %v after %d calls, want the emit error after 1", err, calls)
	}
}

// TestReadError: a failing reader is an error, not "not a report".
func TestReadError(t *testing.T) {
	gone := errors.New("disk gone")
	// 400 KiB of good rows, then the error: it comes up in the middle.
	big := baseAllOrders() + strings.Repeat("111-1111111-1111111\t\t2026-05-01T10:00:00Z\n", 10000)
	r := io.MultiReader(strings.NewReader(big), iotest.ErrReader(gone))
	sum, err := orders.Parse(r, "x.txt", "utf-8", orders.Options{}, nil)
	if !errors.Is(err, gone) || errors.Is(err, orders.ErrNotReport) || sum.Rows < 5000 {
		t.Errorf("err = %v after %d rows", err, sum.Rows)
	}
	if _, err := orders.Parse(iotest.ErrReader(gone), "x.txt", "utf-8", orders.Options{}, nil); !errors.Is(err, gone) {
		t.Errorf("err at the start = %v", err)
	}
}

// TestNilEmit: a nil emit function is allowed (the caller only wants the summary).
func TestNilEmit(t *testing.T) {
	sum, err := orders.Parse(strings.NewReader(baseAllOrders()), "x.txt", "utf-8", orders.Options{}, nil)
	if err != nil || sum.Groups != 2 || sum.RejectedCount != 1 {
		t.Errorf("err %v summary %+v", err, sum)
	}
}

// TestRejectedListIsCapped keeps the first 1000 rejected rows and counts all.
func TestRejectedListIsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString(allOrdersHeader + "\n")
	for i := 0; i < 1500; i++ {
		b.WriteString(allOrdersLine("5.8E+13", "", "2026-05-01T10:00:00Z"))
	}
	b.WriteString(allOrdersLine("111-1111111-1111111", "", "2026-05-01T10:00:00Z"))
	res := parseString(t, b.String(), orders.Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.sum.RejectedCount != 1500 || len(res.sum.Rejected) != 1000 || res.sum.Rejected[999].Line != 1001 || len(res.orders) != 1 {
		t.Errorf("RejectedCount %d, listed %d, groups %d", res.sum.RejectedCount, len(res.sum.Rejected), res.sum.Groups)
	}
}

func TestDescribe(t *testing.T) {
	for k, want := range map[orders.Kind]string{
		orders.KindAllOrders: "All Orders report", orders.KindFBAShipments: "FBA Amazon Fulfilled Shipments report",
		orders.KindMFNOrders: "MFN Order Report", orders.KindUnshipped: "Unshipped Orders report",
		orders.KindMFNReturns: "seller-fulfilled returns report", orders.KindFBAReturns: "FBA customer returns report",
		orders.KindGeneric: "generic CSV (columns mapped in config)", "": "unknown file",
	} {
		if got := orders.Describe(k); got != want {
			t.Errorf("Describe(%q) = %q, want %q", k, got, want)
		}
	}
}

// TestOrderIDs: which ids are accepted, and MCF ids excluded.
func TestOrderIDs(t *testing.T) {
	tests := []struct {
		id, want string // want: "" rejected, else the emitted id
		excluded bool
	}{
		{"111-1111111-1111111", "111-1111111-1111111", false},
		{" 111-1111111-1111111 ", "111-1111111-1111111", false},
		{"D01-1111111-1111111", "D01-1111111-1111111", false},
		{"S01-2412417-1075636", "S01-2412417-1075636", true},
		{"S02-7777", "S02-7777", true}, // an MCF id of another shape: kept, excluded
		{"S01 2412417", "", false},
		{"5.8E+13", "", false},
		{"1.11111E+18", "", false},
		{"111-1111111-111111", "", false},
		{"111–1111111–1111111", "", false}, // en dashes
		{"abc-1111111-1111111", "", false},
		{"111-1111111-1111111x", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			res := parseString(t, tsv(allOrdersHeader, map[string]string{"amazon-order-id": tt.id,
				"purchase-date": "2026-05-01T10:00:00Z", "sales-channel": "Amazon.com", "sku": "A", "quantity": "1.0"}), orders.Options{})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if tt.want == "" {
				if len(res.orders) != 0 {
					t.Fatalf("accepted %q", tt.id)
				}
				wantRejected(t, res.sum, orders.RowError{Line: 2, Column: "amazon-order-id", Reason: "invalid order id"})
				return
			}
			if len(res.orders) != 1 || res.orders[0].ID != tt.want || res.orders[0].Items[0].Quantity != 1 {
				t.Fatalf("orders %+v", res.orders)
			}
			o := res.orders[0]
			if tt.excluded {
				want := fmt.Sprintf("amazon-order-id %q is a Multi-Channel Fulfilment order (line 2)", tt.want)
				if o.Excluded != orders.ExcludedNonAmazon || o.Because != want {
					t.Errorf("excluded %q because %q, want %q", o.Excluded, o.Because, want)
				}
			} else if o.Excluded != "" {
				t.Errorf("excluded %q", o.Excluded)
			}
		})
	}
}

// TestCancelledItemFirst: an order is excluded as cancelled only when every
// item of its rows is cancelled, whatever the order of the rows.
func TestCancelledItemFirst(t *testing.T) {
	row := func(sku, itemStatus string) map[string]string {
		return map[string]string{"amazon-order-id": "111-1111111-1111111", "purchase-date": "2026-05-01T10:00:00Z",
			"order-status": "Shipped", "sku": sku, "item-status": itemStatus, "quantity": "1"}
	}
	for name, rows := range map[string][]map[string]string{
		"cancelled first": {row("A", "Cancelled"), row("B", "Shipped")},
		"cancelled last":  {row("B", "Shipped"), row("A", "Cancelled")},
	} {
		t.Run(name, func(t *testing.T) {
			res := parseString(t, tsv(allOrdersHeader, rows...), orders.Options{})
			if res.err != nil || len(res.orders) != 1 {
				t.Fatalf("err %v, %d orders", res.err, len(res.orders))
			}
			if o := res.orders[0]; o.Excluded != "" || len(o.Items) != 2 {
				t.Errorf("excluded %q (%s), items %+v; want sendable with 2 items", o.Excluded, o.Because, o.Items)
			}
		})
	}
	res := parseString(t, tsv(allOrdersHeader, row("A", "Cancelled"), row("B", "Canceled")), orders.Options{})
	if o := res.orders[0]; o.Excluded != orders.ExcludedCancelled || o.Because != "every item was cancelled" {
		t.Errorf("all cancelled: excluded %q because %q", o.Excluded, o.Because)
	}
}
