// Package marketplace is the table of Amazon marketplaces campaignd knows:
// the sales-channel name a report uses, the marketplace id the SP-API wants,
// the web host of its review page, the language its buyers read, its time
// zone and its SP-API region.
//
// The package is pure data: no I/O, no state.
package marketplace

import (
	"net/url"
	"sort"
	"strings"
)

// Region is an SP-API region.
type Region string

// The SP-API regions.
const (
	NA Region = "NA"
	EU Region = "EU"
	FE Region = "FE"
)

// Marketplace describes one Amazon marketplace.
type Marketplace struct {
	// Name is the sales channel exactly as Amazon's reports write it, e.g. "Amazon.de".
	Name string
	// ID is the SP-API marketplace id, e.g. "A1PA6795UKMFR9".
	ID string
	// Host is the web host of the store, e.g. "www.amazon.de".
	Host string
	// Language is the primary language (ISO 639-1) of the marketplace's buyers.
	Language string
	// Languages lists every language a message for this marketplace may be written in,
	// primary first (Amazon.ca buyers read English or French).
	Languages []string
	// TimeZone is the IANA zone quiet hours are measured in.
	TimeZone string
	// Region is the SP-API region that serves the marketplace.
	Region Region
}

var all = []Marketplace{
	{"Amazon.com", "ATVPDKIKX0DER", "www.amazon.com", "en", []string{"en", "es"}, "America/Los_Angeles", NA},
	{"Amazon.ca", "A2EUQ1WTGCTBG2", "www.amazon.ca", "en", []string{"en", "fr"}, "America/Toronto", NA},
	{"Amazon.com.mx", "A1AM78C64UM0Y8", "www.amazon.com.mx", "es", []string{"es"}, "America/Mexico_City", NA},
	{"Amazon.com.br", "A2Q3Y263D00KWC", "www.amazon.com.br", "pt", []string{"pt"}, "America/Sao_Paulo", NA},
	{"Amazon.co.uk", "A1F83G8C2ARO7P", "www.amazon.co.uk", "en", []string{"en"}, "Europe/London", EU},
	{"Amazon.de", "A1PA6795UKMFR9", "www.amazon.de", "de", []string{"de", "en"}, "Europe/Berlin", EU},
	{"Amazon.fr", "A13V1IB3VIYZZH", "www.amazon.fr", "fr", []string{"fr"}, "Europe/Paris", EU},
	{"Amazon.es", "A1RKKUPIHCS9HS", "www.amazon.es", "es", []string{"es"}, "Europe/Madrid", EU},
	{"Amazon.it", "APJ6JRA9NG5V4", "www.amazon.it", "it", []string{"it"}, "Europe/Rome", EU},
	{"Amazon.nl", "A1805IZSGTT6HS", "www.amazon.nl", "nl", []string{"nl"}, "Europe/Amsterdam", EU},
	{"Amazon.se", "A2NODRKZP88ZB9", "www.amazon.se", "sv", []string{"sv"}, "Europe/Stockholm", EU},
	{"Amazon.pl", "A1C3SOZRARQ6R3", "www.amazon.pl", "pl", []string{"pl"}, "Europe/Warsaw", EU},
	{"Amazon.com.be", "AMEN7PMS3EDWL", "www.amazon.com.be", "fr", []string{"fr", "nl"}, "Europe/Brussels", EU},
	{"Amazon.com.tr", "A33AVAJ2PDY3EV", "www.amazon.com.tr", "tr", []string{"tr"}, "Europe/Istanbul", EU},
	{"Amazon.ae", "A2VIGQ35RCS4UG", "www.amazon.ae", "en", []string{"en", "ar"}, "Asia/Dubai", EU},
	{"Amazon.sa", "A17E79C6D8DWNP", "www.amazon.sa", "ar", []string{"ar", "en"}, "Asia/Riyadh", EU},
	{"Amazon.eg", "ARBP9OOSHTCHU", "www.amazon.eg", "ar", []string{"ar", "en"}, "Africa/Cairo", EU},
	{"Amazon.in", "A21TJRUUN4KGV", "www.amazon.in", "en", []string{"en"}, "Asia/Kolkata", EU},
	{"Amazon.co.jp", "A1VC38T7YXB528", "www.amazon.co.jp", "ja", []string{"ja"}, "Asia/Tokyo", FE},
	{"Amazon.com.au", "A39IBJ37TRP1C6", "www.amazon.com.au", "en", []string{"en"}, "Australia/Sydney", FE},
	{"Amazon.sg", "A19VAU5U5O7RUS", "www.amazon.sg", "en", []string{"en"}, "Asia/Singapore", FE},
}

// Lookup finds a marketplace by its sales-channel name ("Amazon.de"), its
// host ("www.amazon.de", "amazon.de") or its marketplace id, ignoring case and
// surrounding space.
func Lookup(s string) (Marketplace, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Marketplace{}, false
	}
	for _, m := range all {
		if strings.ToLower(m.Name) == s || m.Host == s || strings.TrimPrefix(m.Host, "www.") == s || strings.ToLower(m.ID) == s {
			return m, true
		}
	}
	return Marketplace{}, false
}

// All returns every known marketplace, sorted by name.
func All() []Marketplace {
	out := append([]Marketplace(nil), all...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ReviewURL returns the https address of the Amazon page where a buyer of
// this marketplace writes a review of asin. Without an asin (a report that
// names no product) it is the marketplace's "Review your purchases" page,
// where the buyer picks the item.
func (m Marketplace) ReviewURL(asin string) string {
	if asin == "" {
		return (&url.URL{Scheme: "https", Host: m.Host, Path: PurchasesPath}).String()
	}
	u := url.URL{Scheme: "https", Host: m.Host, Path: ReviewPath}
	u.RawQuery = url.Values{"asin": {asin}}.Encode()
	return u.String()
}

// ReviewPath is the path of the review page of one product on every
// marketplace host; PurchasesPath that of "Review your purchases".
const (
	ReviewPath    = "/review/create-review"
	PurchasesPath = "/review/review-your-purchases"
)

// IsReviewURL reports whether raw is an https link to one of this
// marketplace's review pages (any query), the only links a review request
// may contain.
func (m Marketplace) IsReviewURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" {
		return false
	}
	p := strings.TrimSuffix(u.Path, "/")
	return strings.EqualFold(u.Hostname(), m.Host) && (p == ReviewPath || p == PurchasesPath)
}

// SpeaksLanguage reports whether lang is one of the marketplace's languages.
func (m Marketplace) SpeaksLanguage(lang string) bool {
	for _, l := range m.Languages {
		if strings.EqualFold(l, lang) {
			return true
		}
	}
	return false
}
