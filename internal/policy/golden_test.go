package policy_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.txt")

// goldenData is what the golden templates are rendered with: a product
// title that smuggles a link, a phone number and an emoji next to words
// that must not count ("Free", "Gift", "20% Off").
func goldenData(m marketplace.Marketplace) policy.Data {
	return policy.Data{
		OrderID:     "028-1234567-7654321",
		ProductName: `Gift Set "Free Shipping" 20% Off – see www.deals.example, call 0800 123 4567 ⭐`,
		ReviewURL:   m.ReviewURL("B0CXYZ1234"),
		BuyerName:   "Jane",
		SellerName:  "Acme",
		Marketplace: m.Name,
	}
}

// TestGolden pins the lint output format: for each testdata/golden/*.tmpl,
// the lines `campaignd lint` prints for the template, then the verdict on
// the message rendered from it.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.tmpl")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			var b strings.Builder
			b.WriteString("== lint\n")
			tp, err := policy.LoadTemplate(f)
			if err != nil {
				if !errors.Is(err, policy.ErrTemplate) {
					t.Fatalf("error %v does not wrap ErrTemplate", err)
				}
				b.WriteString(err.Error() + "\n")
			} else {
				m, _ := marketplace.Lookup(defaultMarkets[tp.Language])
				for _, v := range policy.CheckTemplate(tp, []marketplace.Marketplace{m}) {
					b.WriteString(v.String() + "\n")
				}
				d := goldenData(m)
				msg, err := tp.Render(d)
				if err != nil {
					t.Fatal(err)
				}
				b.WriteString("== message on " + m.Name + "\n")
				for _, v := range policy.CheckMessage("order "+d.OrderID, msg, d.OrderID, m) {
					b.WriteString(v.String() + "\n")
				}
			}
			golden := strings.TrimSuffix(f, ".tmpl") + ".txt"
			if *update {
				if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if b.String() != string(want) {
				t.Errorf("output differs from %s (run go test -update after checking):\n--- got\n%s--- want\n%s", golden, b.String(), want)
			}
		})
	}
}
