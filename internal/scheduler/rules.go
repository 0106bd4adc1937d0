package scheduler

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"strings"
	"time"

	"campaignd/internal/config"
	"campaignd/internal/ledger"
	"campaignd/internal/marketplace"
	"campaignd/internal/orders"
)

// Campaign is one configured campaign as the rules see it.
type Campaign struct {
	Name    string
	Markets []string // marketplace names, normalised through the marketplace table
	Channel string
	Delay   time.Duration // after (estimated) delivery
	Transit time.Duration // ship date to estimated delivery
}

// Rules decide what should happen to an order. They are built from the
// config and are pure: Decide depends only on the order's facts and now.
type Rules struct {
	Window     time.Duration
	QuietFrom  int // minutes after local midnight; QuietFrom == QuietTo means none
	QuietTo    int
	Campaigns  []Campaign
	SKUs       map[string]bool
	ASINs      map[string]bool
	Orders     map[string]bool
	BuyerEmail map[string]bool // lower-cased relay addresses
}

// NewRules builds the rules from a config and the block list's lines.
func NewRules(c *config.Config, blockList []string) Rules {
	r := Rules{
		Window: c.Window(),
		SKUs:   set(c.Exclude.SKUs, false), ASINs: set(c.Exclude.ASINs, true),
		Orders: set(c.Exclude.Orders, true), BuyerEmail: map[string]bool{},
	}
	for _, e := range c.Exclude.BuyerEmails {
		r.BuyerEmail[strings.ToLower(strings.TrimSpace(e))] = true
	}
	for _, line := range blockList {
		if strings.Contains(line, "@") {
			r.BuyerEmail[strings.ToLower(line)] = true
		} else {
			r.Orders[strings.ToUpper(line)] = true
		}
	}
	if from, to, ok := c.Quiet(); ok {
		r.QuietFrom, r.QuietTo = from, to
	}
	for _, cp := range c.Campaigns {
		rc := Campaign{Name: cp.Name, Channel: cp.Channel, Delay: cp.Delay(), Transit: cp.Transit()}
		for _, m := range cp.Marketplaces() {
			rc.Markets = append(rc.Markets, m.Name)
		}
		r.Campaigns = append(r.Campaigns, rc)
	}
	return r
}

func set(list []string, upper bool) map[string]bool {
	m := make(map[string]bool, len(list))
	for _, s := range list {
		s = strings.TrimSpace(s)
		if upper {
			s = strings.ToUpper(s)
		}
		m[s] = true
	}
	return m
}

// ReadBlockList reads one order id or buyer relay address per line; blank
// lines and lines starting with # are skipped.
func ReadBlockList(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read block list: %w", err)
	}
	return out, nil
}

// CampaignFor returns the first campaign that lists the order's marketplace.
func (r Rules) CampaignFor(salesChannel string) (Campaign, bool) {
	m, ok := marketplace.Lookup(salesChannel)
	if !ok {
		return Campaign{}, false
	}
	for _, c := range r.Campaigns {
		for _, name := range c.Markets {
			if name == m.Name {
				return c, true
			}
		}
	}
	return Campaign{}, false
}

// Decide says what state an order that has not been sent should be in. The
// order of the checks is the order of their authority: facts that rule an
// order out, then the seller's exclusions, then the window, then what is
// still unknown (README, "How it works"): for an smtp campaign, the buyer's
// relay address first, then the delivery.
//
// The deadline is purchase + Window, and nothing is ever scheduled so late
// that a send (bounded by SendMargin) could end at or after it: such an
// order waits (newer facts may still move it) and expires when the deadline
// passes.
func (r Rules) Decide(o orders.Order, now time.Time) ledger.Decision {
	d := ledger.Decision{}
	if !o.PurchaseDate.IsZero() {
		d.Deadline = o.PurchaseDate.Add(r.Window)
	}
	if class, reason := r.exclusion(o); reason != "" {
		return decided(d, ledger.Excluded, class, reason)
	}
	if o.Marketplace == "" {
		return decided(d, ledger.Waiting, ClassNoMarketplace, "no report has named the order's marketplace yet")
	}
	c, ok := r.CampaignFor(o.Marketplace)
	if !ok {
		return decided(d, ledger.Excluded, noCampaignClass(o.Marketplace), fmt.Sprintf("no_campaign: no campaign sends to %s", o.Marketplace))
	}
	d.Campaign, d.Channel = c.Name, c.Channel
	switch {
	case o.PurchaseDate.IsZero():
		return decided(d, ledger.Waiting, ClassNoPurchaseDate, "no report has given the purchase date yet")
	case pastDeadline(d.Deadline, now):
		return decided(d, ledger.Expired, "", fmt.Sprintf("deadline %s (purchase + %d days) has passed", stamp(d.Deadline), days(r.Window)))
	case c.Channel == "smtp" && o.BuyerEmail == "":
		// The smtp channel mails the buyer's relay address: until a report
		// that carries it comes, there is nothing to send to.
		return decided(d, ledger.Waiting, ClassNoRelay, "no buyer relay address, which the smtp channel needs ("+RelayReportsNote+")")
	}
	delivered, basis := delivery(o, c.Transit)
	if delivered.IsZero() {
		return decided(d, ledger.Waiting, ClassNotShipped, fmt.Sprintf("not shipped yet (status %s)", cmp.Or(o.Status, "unknown")))
	}
	send := r.outOfQuietHours(delivered.Add(c.Delay), o.Marketplace)
	why := fmt.Sprintf("%s %s + %d days", basis, stamp(delivered), days(c.Delay))
	if !leavesRoom(d.Deadline, send) {
		return decided(d, ledger.Waiting, ClassNoRoom, fmt.Sprintf("earliest send %s (%s) leaves no room for a send before the deadline %s", stamp(send), why, stamp(d.Deadline)))
	}
	d.SendAt = send
	return decided(d, ledger.Scheduled, "", why)
}

// decided is d with its state, the class of its reason, and the reason.
func decided(d ledger.Decision, s ledger.State, class, reason string) ledger.Decision {
	d.State, d.Class, d.Reason = s, class, reason
	return d
}

// exclusion says why the order may never get a request, as a class and a
// reason, or "", "": a fact of the reports (a Multi-Channel Fulfilment
// order among them), then the seller's exclude and block lists.
func (r Rules) exclusion(o orders.Order) (class, reason string) {
	if orders.IsNonAmazon(o.ID, o.Marketplace) {
		o.Exclude(orders.ExcludedNonAmazon, "Multi-Channel Fulfilment order")
	}
	switch {
	case o.Excluded != "":
		return string(o.Excluded), o.ExclusionReason()
	case r.Orders[o.ID]:
		return ClassExcludeList, "operator: order is on the exclude list"
	case o.BuyerEmail != "" && r.BuyerEmail[strings.ToLower(o.BuyerEmail)]:
		return ClassBlocked, "blocked: buyer is on the block list"
	}
	for _, it := range o.Items {
		if it.Cancelled {
			continue
		}
		if it.SKU != "" && r.SKUs[it.SKU] {
			return ClassSKU, fmt.Sprintf("sku: %s is excluded", it.SKU)
		}
		if it.ASIN != "" && r.ASINs[strings.ToUpper(it.ASIN)] {
			return ClassASIN, fmt.Sprintf("asin: %s is excluded", it.ASIN)
		}
	}
	return "", ""
}

// delivery says when the order was, or will likely be, delivered, and on
// what basis: the delivery itself, Amazon's estimate, or the ship date (the
// status time, the purchase date) plus the campaign's transit time. It is
// zero for an order that has not shipped.
func delivery(o orders.Order, transit time.Duration) (time.Time, string) {
	switch {
	case !o.DeliveredAt.IsZero():
		return o.DeliveredAt, "delivered"
	case !o.EstimatedArrival.IsZero():
		return o.EstimatedArrival, "estimated arrival"
	case o.Shipped:
		ship := o.ShippedAt
		if ship.IsZero() {
			ship = o.StatusAt
		}
		if ship.IsZero() {
			ship = o.PurchaseDate
		}
		return ship.Add(transit), fmt.Sprintf("shipped %s + %d days transit", stamp(ship), days(transit))
	}
	return time.Time{}, ""
}

// InQuietHours reports whether t falls inside the quiet hours of the
// marketplace's time zone, and when they end.
func (r Rules) InQuietHours(t time.Time, salesChannel string) (bool, time.Time) {
	if r.QuietFrom == r.QuietTo {
		return false, time.Time{}
	}
	m, ok := marketplace.Lookup(salesChannel)
	if !ok {
		return false, time.Time{}
	}
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	lt := t.In(loc)
	mins := lt.Hour()*60 + lt.Minute()
	var inside bool
	if r.QuietFrom < r.QuietTo {
		inside = mins >= r.QuietFrom && mins < r.QuietTo
	} else {
		inside = mins >= r.QuietFrom || mins < r.QuietTo
	}
	if !inside {
		return false, time.Time{}
	}
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), r.QuietTo/60, r.QuietTo%60, 0, 0, loc)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return true, end.UTC()
}

func (r Rules) outOfQuietHours(t time.Time, salesChannel string) time.Time {
	if in, end := r.InQuietHours(t, salesChannel); in {
		return end
	}
	return t
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// days is a duration in whole days, for reasons people read.
func days(d time.Duration) int { return int(d.Hours() / 24) }
