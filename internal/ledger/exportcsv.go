package ledger

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvColumns are the columns of ExportCSV, in order; csvPersonal follow
// them when buyer data is asked for.
var (
	csvColumns = []string{
		"account", "order_id", "marketplace", "state", "class", "reason", "campaign", "channel",
		"purchase_date", "order_status", "shipped_at", "delivered_at", "estimated_arrival",
		"sku", "asin", "product", "excluded", "excluded_by", "send_at", "deadline", "claimed_at", "sent_at",
		"attempts", "last_error", "refusal", "created_at", "updated_at",
	}
	csvPersonal = []string{"buyer_email", "buyer_name"}
)

// ExportCSV writes every order as one CSV row (RFC 4180, a header row of
// snake_case names first), in the order the ledger first saw them. Buyer
// data is written only with opt.Personal. A text cell that a spreadsheet
// would take for a formula (it starts with =, +, -, @, a tab or a carriage
// return: a product title from a report, say) is written with a leading
// apostrophe.
func (l *Ledger) ExportCSV(w io.Writer, opt ExportOptions) error {
	cw := csv.NewWriter(w)
	header := csvColumns
	if opt.Personal {
		header = append(append([]string(nil), csvColumns...), csvPersonal...)
	}
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("export ledger: %w", err)
	}
	err := l.ForEach(func(rec Record) error {
		return cw.Write(csvRow(&rec, opt.Personal))
	})
	cw.Flush()
	if err == nil {
		err = cw.Error()
	}
	if err != nil {
		return fmt.Errorf("export ledger: %w", err)
	}
	return nil
}

// csvRow is one order's cells, in csvColumns' order.
func csvRow(r *Record, personal bool) []string {
	o := &r.Order
	it := o.FirstItem()
	row := []string{
		text(r.Key.Account), text(r.Key.OrderID), text(o.Marketplace), string(r.State), text(r.Class), text(r.Reason),
		text(r.Campaign), text(r.Channel), csvTime(o.PurchaseDate), text(o.Status), csvTime(o.ShippedAt),
		csvTime(o.DeliveredAt), csvTime(o.EstimatedArrival), text(it.SKU), text(it.ASIN), text(it.Title),
		text(o.ExclusionReason()), text(r.ExcludedBy), csvTime(r.SendAt), csvTime(r.Deadline), csvTime(r.ClaimedAt), csvTime(r.SentAt),
		strconv.Itoa(r.Attempts), text(r.LastError), text(r.Refusal), csvTime(r.CreatedAt), csvTime(r.UpdatedAt),
	}
	if personal {
		row = append(row, text(o.BuyerEmail), text(o.BuyerName))
	}
	return row
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// text defuses a cell a spreadsheet would read as a formula.
func text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
