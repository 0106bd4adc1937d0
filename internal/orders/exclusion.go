package orders

import "strings"

// IsNonAmazon reports whether the order with this id, sold through this
// sales channel, is a Multi-Channel Fulfilment order (an S0… id, or the
// Non-Amazon sales channel): Amazon offers no review request for it.
func IsNonAmazon(id, salesChannel string) bool {
	return IsNonAmazonID(id) || strings.EqualFold(salesChannel, "Non-Amazon")
}

// ExclusionReason says, for people, why the order's facts rule out any
// request: the exclusion, then what showed it when that is known
// ("cancelled: order-status Cancelled (line 4)"). It is "" when nothing
// excludes the order.
func (o Order) ExclusionReason() string {
	switch {
	case o.Excluded == "":
		return ""
	case o.Because == "":
		return string(o.Excluded)
	default:
		return string(o.Excluded) + ": " + o.Because
	}
}
