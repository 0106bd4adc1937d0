package config_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"campaignd/internal/config"
	"campaignd/internal/fetch"
)

const spapiCreds = `
[channel.spapi]
endpoint = "https://sellingpartnerapi-na.amazon.com"
client_id = "amzn1.application-oa2-client.x"
client_secret = "s"
refresh_token_file = "rt"
`

func TestFetchDefaultsOff(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
	c, err := config.Load(write(t, dir, "c.toml", minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Fetch.Enabled() || c.Fetch.Tick != "0 */4 * * *" || !slices.Equal(c.Fetch.Reports, fetch.DefaultReports) {
		t.Errorf("defaults: %+v", c.Fetch)
	}
	if c.Fetch.String() != "off" {
		t.Errorf("String() = %q", c.Fetch.String())
	}
}

func TestFetchOn(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
	write(t, dir, "rt", "Atzr|refresh\n")
	body := minimal + spapiCreds + `
[fetch]
marketplace_ids = ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]
reports = ["GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL", "GET_AMAZON_FULFILLED_SHIPMENTS_DATA_GENERAL"]
tick = "@every 6h"
`
	c, err := config.Load(write(t, dir, "c.toml", body))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Fetch.Enabled() || len(c.Fetch.Reports) != 2 || c.Fetch.Reports[1] != fetch.FBAShipments || c.Fetch.Tick != "@every 6h" {
		t.Errorf("fetch: %+v (reports must replace the default list, not add to it)", c.Fetch)
	}
}

func TestFetchErrors(t *testing.T) {
	tests := []struct {
		name, fetch, spapi string
		want               []string
	}{
		{"unknown report", `marketplace_ids = ["ATVPDKIKX0DER"]` + "\nreports = [\"GET_MERCHANT_LISTINGS_ALL_DATA\"]", spapiCreds,
			[]string{`fetch.reports: unknown report type "GET_MERCHANT_LISTINGS_ALL_DATA"`}},
		{"unknown report while off", `reports = ["GET_FLAT_FILE_ORDERS_DATA"]`, "", []string{"fetch.reports: unknown report type"}},
		{"empty reports", `marketplace_ids = ["ATVPDKIKX0DER"]` + "\nreports = []", spapiCreds, []string{"fetch.reports: must list at least one"}},
		{"bad tick", `tick = "every four hours"`, "", []string{`fetch.tick: bad cron spec "every four hours"`}},
		{"name, not id", `marketplace_ids = ["Amazon.ca"]`, spapiCreds, []string{`fetch.marketplace_ids: "Amazon.ca" is not a marketplace id; Amazon.ca's is "A2EUQ1WTGCTBG2"`}},
		{"unknown id", `marketplace_ids = ["AXXXXXXXXXXXX"]`, spapiCreds, []string{`fetch.marketplace_ids: unknown marketplace id "AXXXXXXXXXXXX"`}},
		{"twice", `marketplace_ids = ["ATVPDKIKX0DER", "ATVPDKIKX0DER"]`, spapiCreds, []string{"listed twice"}},
		{"wrong region", `marketplace_ids = ["A1PA6795UKMFR9"]`, spapiCreds, []string{`marketplaces of region EU, but channel.spapi.endpoint "https://sellingpartnerapi-na.amazon.com" serves NA`}},
		{"two regions", `marketplace_ids = ["ATVPDKIKX0DER", "A1VC38T7YXB528"]`, spapiCreds, []string{"several SP-API regions"}},
		{"no credentials", `marketplace_ids = ["ATVPDKIKX0DER"]`, "", []string{
			"channel.spapi.client_id: must be set when [fetch] is on",
			"channel.spapi.client_secret: must be set",
			"channel.spapi.refresh_token: must be set",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
			write(t, dir, "rt", "Atzr|refresh\n")
			_, err := config.Load(write(t, dir, "c.toml", minimal+tt.spapi+"\n[fetch]\n"+tt.fetch+"\n"))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("Load = %v, want ErrInvalid", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "Atzr|refresh") || strings.Contains(err.Error(), `client_secret = "s"`) {
				t.Errorf("error carries a secret: %q", err)
			}
		})
	}
}

// A test server (or a proxy) as endpoint: no region to compare with.
func TestFetchAnyEndpointRegion(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "t.tmpl", "Subject: x\n\nbody\n")
	write(t, dir, "rt", "Atzr|refresh\n")
	body := minimal + strings.Replace(spapiCreds, "https://sellingpartnerapi-na.amazon.com", "http://127.0.0.1:8443", 1) +
		"\n[fetch]\nmarketplace_ids = [\"A1PA6795UKMFR9\"]\n"
	if _, err := config.Load(write(t, dir, "c.toml", body)); err != nil {
		t.Errorf("Load = %v", err)
	}
}

// The example's commented [fetch] section works once uncommented (with
// credentials filled in).
func TestExampleFetchSection(t *testing.T) {
	b, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, "\n# [fetch]\n")
	if i < 0 {
		t.Fatal("config.example.toml has no commented [fetch] section")
	}
	var on []string
	for _, line := range strings.Split(text[i+1:], "\n") {
		for _, k := range []string{"# [fetch]", "# marketplace_ids = ", "# tick = ", "# reports = "} {
			if strings.HasPrefix(line, k) {
				on = append(on, strings.TrimPrefix(line, "# "))
			}
		}
	}
	body := text[:i] + "\n" + strings.Join(on, "\n") + "\n"
	body = strings.Replace(body, `client_id = ""`, `client_id = "x"`, 1)
	body = strings.Replace(body, `client_secret_file = ""`, `client_secret = "s"`, 1)
	body = strings.Replace(body, `refresh_token_file = ""`, `refresh_token = "r"`, 1)
	c, err := config.Parse("../../config.example.toml", []byte(body))
	if err != nil {
		t.Fatalf("the [fetch] example, uncommented: %v", err)
	}
	if len(on) != 4 || !c.Fetch.Enabled() || c.Fetch.Tick != config.DefaultFetchTick || !slices.Equal(c.Fetch.Reports, fetch.DefaultReports) {
		t.Errorf("uncommented %d lines; fetch = %+v", len(on), c.Fetch)
	}
}
