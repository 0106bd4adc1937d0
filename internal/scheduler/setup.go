package scheduler

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"campaignd/internal/channel"
	"campaignd/internal/config"
	"campaignd/internal/ledger"
	"campaignd/internal/marketplace"
	"campaignd/internal/orders"
	"campaignd/internal/policy"
)

// ErrTemplates is returned when a configured template fails to parse or
// breaks a policy rule; the daemon refuses to start (or to reload) with it.
var ErrTemplates = errors.New("templates fail the policy checks")

// Setup is everything one configuration needs at run time: rules, parsed and
// checked templates, and the senders. A reload builds a new Setup and swaps
// it in only when it is complete.
type Setup struct {
	Config    *config.Config
	Rules     Rules
	Templates map[string]*policy.Template // by campaign name
	// Senders are the channels the campaigns use, by name; the caller opens
	// them (reading their secrets), and Close closes them.
	Senders map[string]channel.Sender
	Parse   orders.Options
}

// TemplateError carries every problem found in the configured templates.
type TemplateError struct {
	Violations []policy.Violation
	Errs       []error // templates that do not parse
}

func (e *TemplateError) Error() string {
	var lines []string
	for _, err := range e.Errs {
		lines = append(lines, err.Error())
	}
	for _, v := range e.Violations {
		lines = append(lines, v.String())
	}
	return strings.Join(lines, "\n")
}

func (e *TemplateError) Unwrap() error { return ErrTemplates }

// LoadTemplates parses every campaign's template and checks it against the
// policy for the campaign's marketplaces.
func LoadTemplates(c *config.Config) (map[string]*policy.Template, error) {
	out := map[string]*policy.Template{}
	te := &TemplateError{}
	for _, cp := range c.Campaigns {
		if cp.Template == "" {
			continue
		}
		t, err := policy.LoadTemplate(cp.Template)
		if err != nil {
			te.Errs = append(te.Errs, err)
			continue
		}
		te.Violations = append(te.Violations, policy.CheckTemplate(t, cp.Marketplaces())...)
		out[cp.Name] = t
	}
	if len(te.Errs) > 0 || len(te.Violations) > 0 {
		return nil, te
	}
	return out, nil
}

// NewSetup builds a Setup from a validated config and the block list's
// lines: the rules, and every template parsed and checked. The caller opens
// the senders the campaigns use into Senders.
func NewSetup(c *config.Config, blockList []string) (*Setup, error) {
	tmpls, err := LoadTemplates(c)
	if err != nil {
		return nil, err
	}
	s := &Setup{Config: c, Rules: NewRules(c, blockList), Templates: tmpls, Senders: map[string]channel.Sender{}}
	s.Parse = orders.Options{Columns: c.Generic.Columns, DateLayouts: c.Generic.DateLayouts, KeepBuyerEmail: c.Uses("smtp")}
	for _, t := range tmpls {
		if strings.Contains(t.Subject+t.Body, ".BuyerName") && c.Uses("smtp") {
			s.Parse.KeepBuyerName = true
		}
	}
	return s, nil
}

// Close closes the senders.
func (s *Setup) Close() error {
	var errs []error
	for _, snd := range s.Senders {
		errs = append(errs, snd.Close())
	}
	return errors.Join(errs...)
}

// Decide is the Decider the ledger applies to new facts.
func (s *Setup) Decide(o orders.Order, now time.Time) ledger.Decision { return s.Rules.Decide(o, now) }

// message renders the order's message for snd and refuses it when the
// policy checks fail or the channel needs a relay address the order lacks.
func (s *Setup) message(snd channel.Sender, rec ledger.Record, now time.Time) (Rendered, error) {
	r, err := s.Render(rec, now)
	switch {
	case err != nil:
		return Rendered{}, err
	case len(r.Violations) > 0:
		return Rendered{}, refusal(r.Violations)
	case snd.NeedsBuyerEmail() && r.Message.To == "":
		return Rendered{}, errors.New("no buyer relay address is known for this order (needed by the smtp channel)")
	}
	return r, nil
}

// Rendered is one order's message and the policy's verdict on it.
type Rendered struct {
	Message    channel.Message
	Violations []policy.Violation
	// Amazon is true for channels where Amazon writes the text (spapi).
	Amazon bool
	// Template and Data are what Message was rendered from (nil and zero
	// when Amazon writes the text).
	Template *policy.Template
	Data     policy.Data
}

// Kept is what the ledger keeps of r with the claim of its order (see
// ledger.SentMessage): the template's source and hash, and the data but the
// buyer's name.
func (r Rendered) Kept(channelName string) (*ledger.SentMessage, []byte) {
	m := &ledger.SentMessage{Channel: channelName, At: r.Message.Date, Amazon: r.Amazon}
	switch {
	case r.Amazon:
		return m, nil
	case r.Template == nil:
		return nil, nil // nothing rendered, nothing to keep
	}
	src := TemplateSource(r.Template)
	m.Template, m.Path = ledger.TemplateHash(src), r.Template.Path
	d := r.Data
	m.ProductName, m.ReviewURL, m.SellerName, m.Marketplace, m.HadBuyerName = d.ProductName, d.ReviewURL, d.SellerName, d.Marketplace, d.BuyerName != ""
	return m, src
}

// TemplateSource is a template's source as the ledger keeps it: its
// Subject and Language headers and its body, which parse back into a
// template that renders exactly as t does.
func TemplateSource(t *policy.Template) []byte {
	return []byte("Subject: " + t.Subject + "\nLanguage: " + t.Language + "\n\n" + t.Body)
}

// BuyerNameShown stands for the buyer's name, which is not kept, when a
// sent message is shown again.
const BuyerNameShown = "[the buyer's name]"

// RenderKept renders a sent message again from what the ledger kept of it
// (ledger.SentMessageOf): the same template and values, the buyer's name
// shown as BuyerNameShown. orderID is the order's.
func RenderKept(orderID string, m ledger.SentMessage, source []byte) (policy.Message, error) {
	t, err := policy.ParseTemplate(m.Path, source)
	if err != nil {
		return policy.Message{}, fmt.Errorf("order %s: the kept template: %w", orderID, err)
	}
	d := policy.Data{OrderID: orderID, ProductName: m.ProductName, ReviewURL: m.ReviewURL, SellerName: m.SellerName, Marketplace: m.Marketplace}
	if m.HadBuyerName {
		d.BuyerName = BuyerNameShown
	}
	return t.Render(d)
}

// Render builds the message an order would get now, with the verdict of
// the policy checks on the rendered text.
func (s *Setup) Render(rec ledger.Record, now time.Time) (Rendered, error) {
	o := rec.Order
	m, ok := marketplace.Lookup(o.Marketplace)
	if !ok {
		return Rendered{}, fmt.Errorf("order %s: unknown marketplace %q", o.ID, o.Marketplace)
	}
	msg := channel.Message{
		Account: rec.Key.Account, OrderID: o.ID, Marketplace: m.Name, MarketplaceID: m.ID,
		To: o.BuyerEmail, Language: m.Language, Date: now,
	}
	snd, ok := s.Senders[rec.Channel]
	if !ok {
		return Rendered{}, fmt.Errorf("order %s: channel %q is not configured", o.ID, rec.Channel)
	}
	if !snd.NeedsTemplate() {
		return Rendered{Message: msg, Amazon: true}, nil
	}
	t, ok := s.Templates[rec.Campaign]
	if !ok {
		return Rendered{}, fmt.Errorf("order %s: campaign %q has no template", o.ID, rec.Campaign)
	}
	item := o.FirstItem()
	data := policy.Data{
		OrderID: o.ID, ProductName: item.Title, ReviewURL: m.ReviewURL(item.ASIN),
		BuyerName: o.BuyerName, SellerName: s.Config.SellerName, Marketplace: m.Name,
	}
	out, err := t.Render(data)
	if err != nil {
		return Rendered{}, fmt.Errorf("order %s: render %s: %w", o.ID, t.Path, err)
	}
	msg.Subject, msg.Body, msg.Language = out.Subject, out.Body, out.Language
	return Rendered{Message: msg, Violations: policy.CheckMessage("order "+o.ID, out, o.ID, m), Template: t, Data: data}, nil
}
