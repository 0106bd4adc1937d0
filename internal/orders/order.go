package orders

import (
	"regexp"
	"strings"
	"time"
)

// Kind names a report layout.
type Kind string

// The report layouts campaignd reads.
const (
	KindAllOrders    Kind = "all-orders"       // All Orders (BY_ORDER_DATE, BY_LAST_UPDATE, archived)
	KindFBAShipments Kind = "fba-shipments"    // FBA Amazon Fulfilled Shipments
	KindMFNOrders    Kind = "mfn-orders"       // MFN Order Report
	KindUnshipped    Kind = "unshipped-orders" // Unshipped Orders (actionable)
	KindMFNReturns   Kind = "mfn-returns"      // seller-fulfilled returns
	KindFBAReturns   Kind = "fba-returns"      // FBA customer returns
	KindGeneric      Kind = "generic"          // a CSV whose columns are mapped in config
)

// Exclusion is a fact about an order that rules out any review request for
// it, whatever the configuration says. Once an order carries one it keeps it.
type Exclusion string

// The exclusions that come from the reports themselves (POLICY.md S3).
const (
	ExcludedCancelled     Exclusion = "cancelled"     // the order, or every item, was cancelled
	ExcludedNonAmazon     Exclusion = "non_amazon"    // Multi-Channel Fulfilment (S0… id, Non-Amazon channel)
	ExcludedReturned      Exclusion = "returned"      // a return or refund was reported, or returned to seller
	ExcludedRejected      Exclusion = "rejected"      // Shipped - Rejected by Buyer
	ExcludedUndeliverable Exclusion = "undeliverable" // Shipped - Undeliverable
	ExcludedLost          Exclusion = "lost"          // Shipped - Lost in Transit
	ExcludedDamaged       Exclusion = "damaged"       // Shipped - Damaged
	ExcludedOperator      Exclusion = "operator"      // excluded by hand (campaignd ledger exclude)
)

// idPattern is the 3-7-7 Amazon order id; spreadsheet damage (5.8E+13) fails it.
var idPattern = regexp.MustCompile(`^[0-9A-Z]{3}-[0-9]{7}-[0-9]{7}$`)

// ValidID reports whether id is a well-formed Amazon order id.
func ValidID(id string) bool { return idPattern.MatchString(id) }

// IsNonAmazonID reports whether id belongs to a Multi-Channel Fulfilment
// order (S01-…), for which no Amazon review can be requested.
func IsNonAmazonID(id string) bool { return strings.HasPrefix(id, "S0") }

// Order is everything the reports say about one order, merged over every
// row and every file that mentioned it. It holds facts only; what campaignd
// decides to do with the order lives in the ledger.
type Order struct {
	ID string `json:"id"`
	// Marketplace is the sales channel as the report writes it ("Amazon.de"); may be empty.
	Marketplace string `json:"marketplace,omitempty"`
	// PurchaseDate is when the order was placed, in UTC; zero when no report gave it.
	PurchaseDate time.Time `json:"purchase_date,omitzero"`
	// Status is the order-status last reported ("Shipped - Delivered to Buyer").
	Status string `json:"status,omitempty"`
	// StatusAt is the report's last-updated-date for Status (or the file's time).
	StatusAt time.Time `json:"status_at,omitzero"`
	// FulfillmentChannel is "AFN" (FBA) or "MFN" (seller-fulfilled), normalised.
	FulfillmentChannel string `json:"fulfillment_channel,omitempty"`
	// Shipped is true once any report says the order shipped.
	Shipped bool `json:"shipped,omitempty"`
	// ShippedAt is the earliest known shipment time.
	ShippedAt time.Time `json:"shipped_at,omitzero"`
	// DeliveredAt is the known delivery time ("Delivered to Buyer", "Picked Up").
	DeliveredAt time.Time `json:"delivered_at,omitzero"`
	// EstimatedArrival is Amazon's latest estimated-arrival-date over all shipments.
	EstimatedArrival time.Time `json:"estimated_arrival,omitzero"`
	// Items are the order's lines, one per SKU (or ASIN when there is no SKU).
	Items []Item `json:"items,omitempty"`
	// BuyerEmail is the anonymised relay address; kept only when a channel needs it.
	BuyerEmail string `json:"buyer_email,omitempty"`
	// BuyerName is kept only when a template uses it.
	BuyerName string `json:"buyer_name,omitempty"`
	// Excluded, when set, rules out any request; Because says what showed it.
	Excluded Exclusion `json:"excluded,omitempty"`
	Because  string    `json:"because,omitempty"`
}

// Item is one line of an order.
type Item struct {
	SKU       string `json:"sku,omitempty"`
	ASIN      string `json:"asin,omitempty"`
	Title     string `json:"title,omitempty"`
	Quantity  int    `json:"quantity,omitempty"`
	Cancelled bool   `json:"cancelled,omitempty"`
}

// itemKey identifies an item within an order: its SKU, else its ASIN,
// else its title.
type itemKey struct {
	kind byte // 's', 'a' or 't'
	v    string
}

func (it Item) key() itemKey {
	if it.SKU != "" {
		return itemKey{'s', it.SKU}
	}
	if it.ASIN != "" {
		return itemKey{'a', it.ASIN}
	}
	return itemKey{'t', it.Title}
}

// Exclude marks o excluded for reason, keeping an earlier exclusion if it has one.
func (o *Order) Exclude(reason Exclusion, because string) {
	if o.Excluded != "" {
		return
	}
	o.Excluded, o.Because = reason, because
}

// AllItemsCancelled reports whether the order has items and every one is cancelled.
func (o Order) AllItemsCancelled() bool {
	if len(o.Items) == 0 {
		return false
	}
	for _, it := range o.Items {
		if !it.Cancelled {
			return false
		}
	}
	return true
}

// FirstItem returns the first item that was not cancelled, or the first item.
func (o Order) FirstItem() Item {
	for _, it := range o.Items {
		if !it.Cancelled {
			return it
		}
	}
	if len(o.Items) > 0 {
		return o.Items[0]
	}
	return Item{}
}

// Merge folds what b says about an order into what a already said and returns
// the result. It is the only way facts combine, so it errs on the safe side:
// exclusions and cancellations stick, the earliest purchase date wins (the
// earliest deadline), the latest arrival estimate wins (the latest send).
// Merge is idempotent: merging the same facts twice changes nothing, so a
// file ingested again, or cut off by a crash and ingested again, is harmless.
func Merge(a, b Order) Order {
	if len(b.Items) > 0 {
		a.Items = append([]Item(nil), a.Items...)
	}
	var m itemMerger
	a.fold(&b, &m)
	a.settle()
	return a
}

// fold merges what b says into o, as Merge does, but in place (o.Items is
// appended to) and without the rule that needs every item: settle applies
// it once all the facts are in.
func (o *Order) fold(b *Order, m *itemMerger) {
	if o.ID == "" {
		o.ID = b.ID
	}
	if b.Marketplace != "" && o.Marketplace == "" {
		o.Marketplace = b.Marketplace
	}
	o.PurchaseDate = earliest(o.PurchaseDate, b.PurchaseDate)
	if b.Status != "" && (o.Status == "" || !b.StatusAt.Before(o.StatusAt)) {
		o.Status, o.StatusAt = b.Status, b.StatusAt
	}
	if o.FulfillmentChannel == "" {
		o.FulfillmentChannel = b.FulfillmentChannel
	}
	o.Shipped = o.Shipped || b.Shipped
	o.ShippedAt = earliest(o.ShippedAt, b.ShippedAt)
	o.DeliveredAt = earliest(o.DeliveredAt, b.DeliveredAt)
	o.EstimatedArrival = latest(o.EstimatedArrival, b.EstimatedArrival)
	o.Items = m.merge(o.Items, b.Items)
	if b.BuyerEmail != "" {
		o.BuyerEmail = b.BuyerEmail
	}
	if b.BuyerName != "" {
		o.BuyerName = b.BuyerName
	}
	if b.Excluded != "" {
		o.Exclude(b.Excluded, b.Because)
	}
}

// settle excludes an order whose every item is cancelled.
func (o *Order) settle() {
	if o.Excluded == "" && o.AllItemsCancelled() {
		o.Exclude(ExcludedCancelled, "every item was cancelled")
	}
}

// ForgetBuyer drops the personal data an order carries.
func (o *Order) ForgetBuyer() {
	o.BuyerEmail, o.BuyerName = "", ""
}

// itemMerger merges items into a list, one entry per item key: a linear
// search while the list is short, a map once it is long (an order with
// thousands of item rows stays linear in time).
type itemMerger struct {
	idx map[itemKey]int
}

// linearItems is the list length up to which a linear search is cheaper.
const linearItems = 16

// merge folds src into dst and returns dst. One merger serves one dst:
// reset it before merging into another list.
func (m *itemMerger) merge(dst, src []Item) []Item {
	for _, it := range src {
		dst = m.mergeOne(dst, it)
	}
	return dst
}

// mergeOne folds one item into dst and returns dst.
func (m *itemMerger) mergeOne(dst []Item, it Item) []Item {
	i := m.find(dst, it.key())
	if i < 0 {
		if m.idx != nil {
			m.idx[it.key()] = len(dst)
		}
		return append(dst, it)
	}
	cur := &dst[i]
	cur.Cancelled = cur.Cancelled || it.Cancelled
	if cur.ASIN == "" {
		cur.ASIN = it.ASIN
	}
	if cur.Title == "" {
		cur.Title = it.Title
	}
	if it.Quantity > cur.Quantity {
		cur.Quantity = it.Quantity
	}
	return dst
}

// find returns the index of the item with key k in dst, or -1.
func (m *itemMerger) find(dst []Item, k itemKey) int {
	if m.idx == nil && len(dst) > linearItems {
		m.idx = make(map[itemKey]int, 2*len(dst))
		for i, it := range dst {
			if _, dup := m.idx[it.key()]; !dup {
				m.idx[it.key()] = i
			}
		}
	}
	if m.idx != nil {
		if i, ok := m.idx[k]; ok {
			return i
		}
		return -1
	}
	for i := range dst {
		if dst[i].key() == k {
			return i
		}
	}
	return -1
}

// reset readies the merger for another list.
func (m *itemMerger) reset() { m.idx = nil }

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
