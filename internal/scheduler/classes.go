package scheduler

import (
	"strings"

	"campaignd/internal/marketplace"
	"campaignd/internal/orders"
)

// The reason classes of Decision.Class (ledger.Record.Class): why an order
// waits or is excluded, in few enough kinds that the ledger counts each
// (`campaignd status`, `plan` and the ingest summary show them). An
// exclusion a report's facts make is classed by the orders.Exclusion
// ("cancelled", "returned", "operator"...).
const (
	ClassNoMarketplace      = "no_marketplace"      // waiting: no report named the marketplace yet
	ClassNoPurchaseDate     = "no_purchase_date"    // waiting: no report gave the purchase date yet
	ClassNotShipped         = "not_shipped"         // waiting: not shipped yet
	ClassNoRoom             = "no_room"             // waiting: the earliest send leaves no room before the deadline
	ClassNoRelay            = "no_relay"            // waiting: the smtp channel needs a relay address the order lacks
	ClassUnknownMarketplace = "unknown_marketplace" // excluded: a sales channel campaignd does not know
	ClassExcludeList        = "exclude_list"        // excluded: exclude.orders or the block list file names the order
	ClassBlocked            = "blocked"             // excluded: the buyer is on the block list
	ClassSKU                = "sku"                 // excluded: exclude.skus
	ClassASIN               = "asin"                // excluded: exclude.asins

	// classNoCampaign is the prefix of ClassNoCampaign's classes.
	classNoCampaign = "no_campaign:"
)

// ClassNoCampaign is the class of orders from a known marketplace that no
// campaign covers, one class per marketplace: "no_campaign:Amazon.nl".
func ClassNoCampaign(marketplaceName string) string { return classNoCampaign + marketplaceName }

// NoCampaignMarketplace returns the marketplace of a ClassNoCampaign class.
func NoCampaignMarketplace(class string) (string, bool) {
	return strings.CutPrefix(class, classNoCampaign)
}

// RelayReportsNote says which reports carry the buyer relay address the
// smtp channel needs.
const RelayReportsNote = "only FBA Amazon Fulfilled Shipments and MFN order reports carry it, All Orders reports do not"

// classTexts describe the classes for people.
var classTexts = map[string]string{
	ClassNoMarketplace:                   "no report has named the marketplace yet",
	ClassNoPurchaseDate:                  "no report has given the purchase date yet",
	ClassNotShipped:                      "not shipped yet",
	ClassNoRoom:                          "delivered too late for a send before the deadline",
	ClassNoRelay:                         "no buyer relay address (" + RelayReportsNote + ")",
	ClassUnknownMarketplace:              "a sales channel campaignd does not know",
	ClassExcludeList:                     "on the exclude list (exclude.orders or the block list file)",
	ClassBlocked:                         "buyer on the block list",
	ClassSKU:                             "an excluded SKU",
	ClassASIN:                            "an excluded ASIN",
	string(orders.ExcludedCancelled):     "cancelled",
	string(orders.ExcludedNonAmazon):     "Multi-Channel Fulfilment, not an Amazon order",
	string(orders.ExcludedReturned):      "returned or refunded",
	string(orders.ExcludedRejected):      "rejected by the buyer",
	string(orders.ExcludedUndeliverable): "undeliverable",
	string(orders.ExcludedLost):          "lost in transit",
	string(orders.ExcludedDamaged):       "damaged in transit",
	string(orders.ExcludedOperator):      "excluded by hand (campaignd ledger exclude)",
	"":                                   "decided before campaignd kept reasons (the next start re-decides it)",
}

// ClassText describes a reason class for people: "no campaign for
// Amazon.nl", "not shipped yet".
func ClassText(class string) string {
	if m, ok := NoCampaignMarketplace(class); ok {
		return "no campaign for " + m
	}
	if s, ok := classTexts[class]; ok {
		return s
	}
	return class
}

// noCampaignClass is the class of an order whose marketplace no campaign
// covers: per marketplace when campaignd knows it.
func noCampaignClass(salesChannel string) string {
	if m, ok := marketplace.Lookup(salesChannel); ok {
		return ClassNoCampaign(m.Name)
	}
	return ClassUnknownMarketplace
}
