package main

import (
	"fmt"
	"os"
	"time"

	"campaignd/internal/channel"
	"campaignd/internal/config"
	"campaignd/internal/scheduler"
)

// prepare builds the run-time setup of a validated config: it reads the
// block list, parses and checks every template (scheduler.NewSetup), then
// reads the channels' secrets and opens the senders the campaigns use. now
// is the clock senders stamp messages with.
func prepare(c *config.Config, now func() time.Time) (*scheduler.Setup, error) {
	return prepareWith(c, now, &tokenCache{})
}

// prepareWith is prepare with the process's token cache, which the spapi
// channel shares with the report fetcher.
func prepareWith(c *config.Config, now func() time.Time, tokens *tokenCache) (*scheduler.Setup, error) {
	block, err := readBlockList(c.Exclude.BlockListFile)
	if err != nil {
		return nil, err
	}
	s, err := scheduler.NewSetup(c, block)
	if err != nil {
		return nil, err
	}
	if s.Senders, err = openSenders(c, now, tokens); err != nil {
		return nil, err
	}
	return s, nil
}

// readBlockList reads exclude.block_list_file, if the config names one.
func readBlockList(path string) ([]string, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("exclude.block_list_file: %w", err)
	}
	defer f.Close()
	block, err := scheduler.ReadBlockList(f)
	if err != nil {
		return nil, fmt.Errorf("exclude.block_list_file: %s: %w", path, err)
	}
	return block, nil
}

// openers open each channel from the config, by name.
var openers = []struct {
	name string
	open func(c *config.Config, now func() time.Time, tokens *tokenCache) (channel.Sender, error)
}{
	{"outbox", openOutbox},
	{"smtp", openSMTP},
	{"spapi", openSPAPI},
}

// openSenders opens the channels the campaigns use, by name; on an error
// it closes those it opened.
func openSenders(c *config.Config, now func() time.Time, tokens *tokenCache) (map[string]channel.Sender, error) {
	senders := map[string]channel.Sender{}
	for _, o := range openers {
		if !c.Uses(o.name) {
			continue
		}
		snd, err := o.open(c, now, tokens)
		if err != nil {
			for _, s := range senders {
				s.Close()
			}
			return nil, err
		}
		senders[o.name] = snd
	}
	return senders, nil
}

func openOutbox(c *config.Config, _ func() time.Time, _ *tokenCache) (channel.Sender, error) {
	ob, err := channel.NewOutbox(channel.OutboxConfig{Dir: c.Channel.Outbox.Dir, From: c.Channel.Outbox.From})
	if err != nil {
		return nil, fmt.Errorf("channel.outbox: %w", err)
	}
	return ob, nil
}

func openSMTP(c *config.Config, now func() time.Time, _ *tokenCache) (channel.Sender, error) {
	sc := c.Channel.SMTP
	pw, err := config.ReadSecret(sc.Password, sc.PasswordFile)
	if err != nil {
		return nil, fmt.Errorf("channel.smtp.password_file: %w", err)
	}
	sm, err := channel.NewSMTP(channel.SMTPConfig{
		Host: sc.Host, Port: sc.Port, From: sc.From, TLS: sc.TLS, Username: sc.Username, Password: pw,
		Timeout: sc.Timeout.Duration, RatePerMinute: sc.RatePerMinute, Now: now,
	})
	if err != nil {
		return nil, fmt.Errorf("channel.smtp: %w", err)
	}
	return sm, nil
}

// openSPAPI opens the spapi channel on the account's LWA token source, which
// every SP-API client of the account shares (one token cache).
func openSPAPI(c *config.Config, _ func() time.Time, tokens *tokenCache) (channel.Sender, error) {
	src, err := tokens.source(c.Channel.SPAPI)
	if err != nil {
		return nil, err
	}
	// Request pacing is Amazon's real time, never the pass's clock.
	api, err := channel.NewSPAPI(channel.SPAPIConfig{Endpoint: c.Channel.SPAPI.Endpoint, Tokens: src})
	if err != nil {
		return nil, fmt.Errorf("channel.spapi: %w", err)
	}
	return api, nil
}
