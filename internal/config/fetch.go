package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/robfig/cron/v3"

	"campaignd/internal/fetch"
	"campaignd/internal/marketplace"
)

// DefaultFetchTick fetches every 4 hours, on the hour (UTC).
const DefaultFetchTick = "0 */4 * * *"

// FetchConfig is [fetch]: campaignd requests order and return reports from
// Amazon's Reports API and drops them into the inbox. It is off unless
// marketplace_ids lists a marketplace, and it uses the endpoint, token
// endpoint and credentials of [channel.spapi].
type FetchConfig struct {
	// MarketplaceIDs are SP-API marketplace ids ("ATVPDKIKX0DER"), all in
	// the region of channel.spapi.endpoint.
	MarketplaceIDs []string `toml:"marketplace_ids"`
	// Tick is a robfig/cron spec, evaluated in UTC.
	Tick string `toml:"tick"`
	// Reports are Reports API report types, each fetched for every marketplace.
	Reports []string `toml:"reports"`
}

// Enabled reports whether fetching is on.
func (f FetchConfig) Enabled() bool { return len(f.MarketplaceIDs) > 0 }

func defaultFetch() FetchConfig {
	return FetchConfig{Tick: DefaultFetchTick, Reports: slices.Clone(fetch.DefaultReports)}
}

// validateFetch checks [fetch]. Tick and reports are checked even when
// fetching is off, so a typo shows before the day it is turned on.
func (c *Config) validateFetch() []error {
	f := c.Fetch
	var errs []error
	if _, err := cron.ParseStandard(f.Tick); err != nil {
		errs = append(errs, fieldError("fetch.tick", "bad cron spec %q: %v", f.Tick, err))
	}
	if len(f.Reports) == 0 {
		errs = append(errs, fieldError("fetch.reports", "must list at least one report type (known: %s)", strings.Join(fetch.ReportTypes(), ", ")))
	}
	seen := map[string]bool{}
	for _, r := range f.Reports {
		if _, ok := fetch.Lookup(r); !ok {
			errs = append(errs, fieldError("fetch.reports", "unknown report type %q (known: %s)", r, strings.Join(fetch.ReportTypes(), ", ")))
		} else if seen[r] {
			errs = append(errs, fieldError("fetch.reports", "%q is listed twice", r))
		}
		seen[r] = true
	}
	if !f.Enabled() {
		return errs
	}
	errs = append(errs, c.validateFetchMarketplaces()...)
	return append(errs, c.validateFetchCredentials()...)
}

// validateFetchMarketplaces checks that every marketplace id is known, is
// given once, and belongs to the endpoint's region: one SP-API endpoint
// serves one region.
func (c *Config) validateFetchMarketplaces() []error {
	var errs []error
	seen := map[string]bool{}
	regions := map[marketplace.Region]bool{}
	for _, id := range c.Fetch.MarketplaceIDs {
		m, ok := marketplace.Lookup(id)
		switch {
		case !ok:
			errs = append(errs, fieldError("fetch.marketplace_ids", "unknown marketplace id %q", id))
			continue
		case m.ID != id:
			errs = append(errs, fieldError("fetch.marketplace_ids", "%q is not a marketplace id; %s's is %q", id, m.Name, m.ID))
			continue
		case seen[id]:
			errs = append(errs, fieldError("fetch.marketplace_ids", "%q is listed twice", id))
		}
		seen[id] = true
		regions[m.Region] = true
	}
	if len(regions) > 1 {
		errs = append(errs, fieldError("fetch.marketplace_ids", "marketplaces of several SP-API regions; one endpoint serves one region: run one campaignd per region"))
	}
	if r, ok := endpointRegion(c.Channel.SPAPI.Endpoint); ok {
		for region := range regions {
			if region != r {
				errs = append(errs, fieldError("fetch.marketplace_ids", "marketplaces of region %s, but channel.spapi.endpoint %q serves %s", region, c.Channel.SPAPI.Endpoint, r))
			}
		}
	}
	return errs
}

var endpointHost = regexp.MustCompile(`^(?:sandbox\.)?sellingpartnerapi-(na|eu|fe)\.amazon\.com$`)

// endpointRegion returns the region of one of Amazon's SP-API endpoints;
// false for any other URL (a test server, a proxy).
func endpointRegion(endpoint string) (marketplace.Region, bool) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false
	}
	m := endpointHost.FindStringSubmatch(strings.ToLower(u.Hostname()))
	if m == nil {
		return "", false
	}
	return marketplace.Region(strings.ToUpper(m[1])), true
}

// validateFetchCredentials requires [channel.spapi]'s endpoints and LWA
// credentials, unless a spapi campaign already did.
func (c *Config) validateFetchCredentials() []error {
	if c.Uses("spapi") {
		return nil
	}
	s := c.Channel.SPAPI
	var errs []error
	for _, kv := range [][2]string{{"channel.spapi.endpoint", s.Endpoint}, {"channel.spapi.token_endpoint", s.TokenEndpoint}, {"channel.spapi.client_id", s.ClientID}} {
		if kv[1] == "" {
			errs = append(errs, fieldError(kv[0], "must be set when [fetch] is on"))
		}
	}
	errs = append(errs, secretPair("channel.spapi.client_secret", s.ClientSecret, s.ClientSecretFile)...)
	errs = append(errs, secretPair("channel.spapi.refresh_token", s.RefreshToken, s.RefreshTokenFile)...)
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			errs = append(errs, fieldError("channel.spapi.endpoint", "not an http(s) URL: %q", s.Endpoint))
		}
	}
	return errs
}

// String describes [fetch] for logs.
func (f FetchConfig) String() string {
	if !f.Enabled() {
		return "off"
	}
	return fmt.Sprintf("marketplaces %s, reports %s, tick %q", strings.Join(f.MarketplaceIDs, ","), strings.Join(f.Reports, ","), f.Tick)
}
