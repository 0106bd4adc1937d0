package main

import (
	"crypto/sha256"
	"fmt"
	"sync"

	"campaignd/internal/channel"
	"campaignd/internal/config"
	"campaignd/internal/lwa"
)

// tokenCache holds the account's one LWA token source. Every SP-API client
// of a process takes its source from here, the spapi channel and the report
// fetcher alike, so they hold one access token between them and ask LWA
// for a new one once. A reload keeps the source, and its token, unless the
// token endpoint or the credentials changed.
type tokenCache struct {
	mu  sync.Mutex
	id  [sha256.Size]byte // of the token endpoint and credentials src was built with
	src *lwa.Source
}

// source returns the token source for sp's credentials, reading the
// secrets from their files (which a reload may have changed).
func (c *tokenCache) source(sp config.SPAPIConfig) (*lwa.Source, error) {
	secret, err := config.ReadSecret(sp.ClientSecret, sp.ClientSecretFile)
	if err != nil {
		return nil, fmt.Errorf("channel.spapi.client_secret_file: %w", err)
	}
	refresh, err := config.ReadSecret(sp.RefreshToken, sp.RefreshTokenFile)
	if err != nil {
		return nil, fmt.Errorf("channel.spapi.refresh_token_file: %w", err)
	}
	h := sha256.New()
	for _, v := range []string{sp.TokenEndpoint, sp.ClientID, secret, refresh} {
		fmt.Fprintf(h, "%d:%s", len(v), v)
	}
	var id [sha256.Size]byte
	h.Sum(id[:0])
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.src != nil && c.id == id {
		return c.src, nil
	}
	// Token expiry is Amazon's real time, never the pass's clock (which
	// `run --at` sets): lwa's clock defaults to time.Now.
	src, err := lwa.New(lwa.Config{TokenEndpoint: sp.TokenEndpoint, ClientID: sp.ClientID,
		ClientSecret: secret, RefreshToken: refresh, UserAgent: channel.DefaultSPAPIUserAgent})
	if err != nil {
		return nil, fmt.Errorf("channel.spapi: %w", err)
	}
	c.src, c.id = src, id
	return src, nil
}
