package policy_test

import (
	"path/filepath"
	"strings"
	"testing"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// marketsFor are the marketplaces each shipped template is meant for.
var marketsFor = map[string][]string{
	"en": {"Amazon.com", "Amazon.co.uk", "Amazon.ca", "Amazon.com.au", "Amazon.in"},
	"de": {"Amazon.de"},
	"fr": {"Amazon.fr", "Amazon.ca", "Amazon.com.be"},
	"es": {"Amazon.es", "Amazon.com.mx", "Amazon.com"},
	"it": {"Amazon.it"},
	"ja": {"Amazon.co.jp"},
}

func lookupAll(t *testing.T, names []string) []marketplace.Marketplace {
	t.Helper()
	var out []marketplace.Marketplace
	for _, n := range names {
		m, ok := marketplace.Lookup(n)
		if !ok {
			t.Fatalf("unknown marketplace %q", n)
		}
		out = append(out, m)
	}
	return out
}

func shippedTemplates(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../templates/*.tmpl")
	if err != nil || len(files) < 6 {
		t.Fatalf("shipped templates: %v, %d files", err, len(files))
	}
	return files
}

func TestShippedTemplatesPass(t *testing.T) {
	for _, f := range shippedTemplates(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			tp, err := policy.LoadTemplate(f)
			if err != nil {
				t.Fatal(err)
			}
			names, ok := marketsFor[tp.Language]
			if !ok {
				t.Fatalf("no marketplaces for language %q", tp.Language)
			}
			if !strings.Contains(tp.Body, "{{with .ProductName}}") || !strings.Contains(tp.Body, "{{.ReviewURL}}") || !strings.Contains(tp.Body, "{{.SellerName}}") {
				t.Errorf("template lacks {{with .ProductName}}, ReviewURL or SellerName")
			}
			for _, v := range policy.CheckTemplate(tp, lookupAll(t, names)) {
				t.Errorf("unexpected violation: %s", v)
			}
		})
	}
}

func TestShippedTemplatesRenderAndPass(t *testing.T) {
	products := []string{
		`Deluxe Gift Set "Free Shipping" 20% Off Edition`,
		"5 Star Bonus Pack – Discount Bundle, Free Gift Inside (2-Pack)",
		"Kaffeebecher Geschenkset mit Rabatt-Aktion, 350 ml",
		"【送料無料】ギフトセット 5つ星 プレゼント用",
		"", // a report row without a product name
	}
	for _, f := range shippedTemplates(t) {
		tp, err := policy.LoadTemplate(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, mkt := range lookupAll(t, marketsFor[tp.Language]) {
			for i, p := range products {
				for _, buyer := range []string{"", "Jane Doe"} {
					name := filepath.Base(f) + "/" + mkt.Name + "/" + string(rune('a'+i)) + "/" + buyer
					t.Run(name, func(t *testing.T) {
						d := policy.Data{
							OrderID:     "028-1234567-7654321",
							ProductName: p,
							ReviewURL:   mkt.ReviewURL("B0CXYZ1234"),
							BuyerName:   buyer,
							SellerName:  "Acme Home GmbH",
							Marketplace: mkt.Name,
						}
						msg, err := tp.Render(d)
						if err != nil {
							t.Fatal(err)
						}
						if !strings.Contains(msg.Body, p) || !strings.Contains(msg.Body, d.ReviewURL) {
							t.Fatalf("rendered body lacks product or review URL:\n%s", msg.Body)
						}
						for _, bad := range []string{"()", "（）", "「」", " of .", " .", "\u00a0."} {
							if p == "" && strings.Contains(msg.Body, bad) {
								t.Errorf("body without a product name reads badly (%q):\n%s", bad, msg.Body)
							}
						}
						for _, v := range policy.CheckMessage("order "+d.OrderID, msg, d.OrderID, mkt) {
							t.Errorf("unexpected violation: %s", v)
						}
					})
				}
			}
		}
	}
}
