package scheduler

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"campaignd/internal/channel"
	"campaignd/internal/config"
	"campaignd/internal/ledger"
	"campaignd/internal/lwa"
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
	Senders   map[string]channel.Sender   // by channel name
	Parse     orders.Options
	// Tokens is the account's LWA token source when a campaign uses spapi:
	// every SP-API client of the account shares it, and so one token.
	Tokens *lwa.Source
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
		var markets []marketplace.Marketplace
		for _, sc := range cp.SalesChannels {
			if m, ok := marketplace.Lookup(sc); ok {
				markets = append(markets, m)
			}
		}
		te.Violations = append(te.Violations, policy.CheckTemplate(t, markets)...)
		out[cp.Name] = t
	}
	if len(te.Errs) > 0 || len(te.Violations) > 0 {
		return nil, te
	}
	return out, nil
}

// Prepare builds a Setup from a validated config: it reads the block list
// and secrets, parses and checks every template, and opens the senders the
// campaigns use. now is the clock senders stamp messages with.
func Prepare(c *config.Config, now func() time.Time) (*Setup, error) {
	var block []string
	if c.Exclude.BlockListFile != "" {
		f, err := os.Open(c.Exclude.BlockListFile)
		if err != nil {
			return nil, fmt.Errorf("exclude.block_list_file: %w", err)
		}
		block, err = ReadBlockList(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("exclude.block_list_file: %s: %w", c.Exclude.BlockListFile, err)
		}
	}
	tmpls, err := LoadTemplates(c)
	if err != nil {
		return nil, err
	}
	s := &Setup{Config: c, Rules: NewRules(c, block), Templates: tmpls, Senders: map[string]channel.Sender{}}
	s.Parse = orders.Options{Columns: c.Generic.Columns, DateLayouts: c.Generic.DateLayouts, KeepBuyerEmail: c.Uses("smtp")}
	for _, t := range tmpls {
		if strings.Contains(t.Subject+t.Body, ".BuyerName") && c.Uses("smtp") {
			s.Parse.KeepBuyerName = true
		}
	}
	if err := s.openSenders(now); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Setup) openSenders(now func() time.Time) error {
	c := s.Config
	if c.Uses("outbox") {
		ob, err := channel.NewOutbox(channel.OutboxConfig{Dir: c.Channel.Outbox.Dir, From: c.Channel.Outbox.From})
		if err != nil {
			return fmt.Errorf("channel.outbox: %w", err)
		}
		s.Senders["outbox"] = ob
	}
	if c.Uses("smtp") {
		sc := c.Channel.SMTP
		pw, err := config.ReadSecret(sc.Password, sc.PasswordFile)
		if err != nil {
			return fmt.Errorf("channel.smtp.password_file: %w", err)
		}
		sm, err := channel.NewSMTP(channel.SMTPConfig{
			Host: sc.Host, Port: sc.Port, From: sc.From, TLS: sc.TLS, Username: sc.Username, Password: pw,
			Timeout: sc.Timeout.Duration, RatePerMinute: sc.RatePerMinute, Now: now,
		})
		if err != nil {
			return fmt.Errorf("channel.smtp: %w", err)
		}
		s.Senders["smtp"] = sm
	}
	if c.Uses("spapi") {
		return s.openSPAPI()
	}
	return nil
}

// openSPAPI builds the account's LWA token source and the spapi channel on it.
func (s *Setup) openSPAPI() error {
	sp := s.Config.Channel.SPAPI
	secret, err := config.ReadSecret(sp.ClientSecret, sp.ClientSecretFile)
	if err != nil {
		return fmt.Errorf("channel.spapi.client_secret_file: %w", err)
	}
	refresh, err := config.ReadSecret(sp.RefreshToken, sp.RefreshTokenFile)
	if err != nil {
		return fmt.Errorf("channel.spapi.refresh_token_file: %w", err)
	}
	// Token expiry and request pacing are Amazon's real time, never the
	// pass's clock (which `run --at` sets): both clocks default to time.Now.
	tokens, err := lwa.New(lwa.Config{TokenEndpoint: sp.TokenEndpoint, ClientID: sp.ClientID,
		ClientSecret: secret, RefreshToken: refresh, UserAgent: channel.DefaultSPAPIUserAgent})
	if err != nil {
		return fmt.Errorf("channel.spapi: %w", err)
	}
	api, err := channel.NewSPAPI(channel.SPAPIConfig{Endpoint: sp.Endpoint, Tokens: tokens})
	if err != nil {
		return fmt.Errorf("channel.spapi: %w", err)
	}
	s.Tokens = tokens
	s.Senders["spapi"] = api
	return nil
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

// Rendered is one order's message and the policy's verdict on it.
type Rendered struct {
	Message    channel.Message
	Violations []policy.Violation
	// Amazon is true for channels where Amazon writes the text (spapi).
	Amazon bool
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
	out, err := t.Render(policy.Data{
		OrderID: o.ID, ProductName: item.Title, ReviewURL: m.ReviewURL(item.ASIN),
		BuyerName: o.BuyerName, SellerName: s.Config.SellerName, Marketplace: m.Name,
	})
	if err != nil {
		return Rendered{}, fmt.Errorf("order %s: render %s: %w", o.ID, t.Path, err)
	}
	msg.Subject, msg.Body, msg.Language = out.Subject, out.Body, out.Language
	return Rendered{Message: msg, Violations: policy.CheckMessage("order "+o.ID, out, o.ID, m)}, nil
}
