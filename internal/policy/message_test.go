package policy_test

import (
	"sort"
	"strings"
	"testing"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

func mustMarket(t testing.TB, name string) marketplace.Marketplace {
	t.Helper()
	m, ok := marketplace.Lookup(name)
	if !ok {
		t.Fatalf("unknown marketplace %q", name)
	}
	return m
}

func ruleSet(vs []policy.Violation) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v.Rule] {
			seen[v.Rule] = true
			out = append(out, v.Rule)
		}
	}
	sort.Strings(out)
	return out
}

const neutralEN = "Subject: Your order {{.OrderID}}\nLanguage: en\n\nHello{{with .BuyerName}} {{.}}{{end}},\n\nthank you for buying {{.ProductName}}.\nWe would appreciate your honest review: {{.ReviewURL}}\n\n{{.SellerName}}\n"

// TestMessageDataInjection: text from data gets the link, contact and media
// rules but not the phrase rules.
func TestMessageDataInjection(t *testing.T) {
	us := mustMarket(t, "Amazon.com")
	tp, err := policy.ParseTemplate("n.tmpl", []byte(neutralEN))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, product, buyer, seller string
		reviewURL                    string
		want                         string // rule ids, space separated
	}{
		{"title with marketing words", `Deluxe Gift Set "Free Shipping" 20% Off Edition`, "", "Acme", "", ""},
		{"title with stars and bonus", "5 Star Bonus Pack, Free Gift Inside, Use Code Ready", "", "Acme", "", ""},
		{"title with coupon-like words", "Discount Coupon Organizer – 10% Off Savings Binder", "", "Acme", "", ""},
		{"title with japanese stars", "【送料無料】★5つ星★ ギフトセット", "", "Acme", "", ""},
		{"title with url", "Mug – order cheaper at https://cheap.example.com", "", "Acme", "", "P-LINK"},
		{"title with bare domain", "Mug (more at mugs.shop)", "", "Acme", "", "P-LINK"},
		{"title with short link", "Mug bit.ly/abc", "", "Acme", "", "P-LINK"},
		{"title with email", "Mug – questions: hi@mugs.example", "", "Acme", "", "P-CONTACT"},
		{"title with phone", "Mug hotline +44 20 7946 0958", "", "Acme", "", "P-CONTACT"},
		{"title with html", `Mug <img src="x.gif">`, "", "Acme", "", "P-MEDIA"},
		{"title with emoji", "Mug 🔥 bestseller", "", "Acme", "", "P-MEDIA"},
		{"buyer name with link", "Mug", "www.spam.example", "Acme", "", "P-LINK"},
		{"seller name with phone", "Mug", "", "Acme 555-123-4567", "", "P-CONTACT"},
		{"title with model numbers", "Drill 18V 2.0Ah 2024-05 Model 0-123 Pack of 2 (1000 pcs)", "", "Acme", "", ""},
		{"review url of another marketplace", "Mug", "", "Acme", mustMarket(t, "Amazon.de").ReviewURL("B0X"), "P-LINK"},
		{"review url over http", "Mug", "", "Acme", "http://www.amazon.com/review/create-review?asin=B0X", "P-LINK"},
		{"marketplace name is not a link", "Mug for Amazon.com buyers", "", "Acme", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := policy.Data{OrderID: "111-2223334-5556667", ProductName: tt.product, BuyerName: tt.buyer, SellerName: tt.seller, ReviewURL: tt.reviewURL, Marketplace: us.Name}
			if d.ReviewURL == "" {
				d.ReviewURL = us.ReviewURL("B0CXYZ1234")
			}
			msg, err := tp.Render(d)
			if err != nil {
				t.Fatal(err)
			}
			vs := policy.CheckMessage("order "+d.OrderID, msg, d.OrderID, us)
			if got := strings.Join(ruleSet(vs), " "); got != tt.want {
				t.Fatalf("rules = %q, want %q; violations: %v", got, tt.want, vs)
			}
		})
	}
}

func TestMessageOrderIDAndLanguage(t *testing.T) {
	us, de := mustMarket(t, "Amazon.com"), mustMarket(t, "Amazon.de")
	tp, err := policy.ParseTemplate("n.tmpl", []byte(neutralEN))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tp.Render(policy.Data{OrderID: "111-2223334-5556667", ProductName: "Mug", ReviewURL: us.ReviewURL("B0X"), SellerName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		orderID string
		m       marketplace.Marketplace
		url     string
		want    string
	}{
		{"ok", "111-2223334-5556667", us, "", ""},
		{"other order id", "999-0000000-0000000", us, "", "P-ORDERID"},
		{"empty order id", "", us, "", "P-ORDERID"},
		{"english on amazon.de is allowed", "111-2223334-5556667", de, "", "P-LINK"},
		{"on amazon.fr", "111-2223334-5556667", mustMarket(t, "Amazon.fr"), "", "P-LANGUAGE P-LINK"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := policy.CheckMessage("order x", msg, tt.orderID, tt.m)
			if got := strings.Join(ruleSet(vs), " "); got != tt.want {
				t.Fatalf("rules = %q, want %q; %v", got, tt.want, vs)
			}
			for _, v := range vs {
				if v.Path != "order x" || v.Line < 1 || v.Col < 1 {
					t.Errorf("bad location %+v", v)
				}
			}
		})
	}
}

// TestHandBuiltMessage: a Message not made by Render has no data ranges and
// is checked as author text throughout.
func TestHandBuiltMessage(t *testing.T) {
	us := mustMarket(t, "Amazon.com")
	msg := policy.Message{Subject: "Order 111-2223334-5556667", Body: "Please review it. Free gift for your review!\n", Language: "en"}
	vs := policy.CheckMessage("m", msg, "111-2223334-5556667", us)
	if got := strings.Join(ruleSet(vs), " "); got != "P-INCENTIVE" {
		t.Fatalf("rules = %q; %v", got, vs)
	}
	if vs[0].Line != 3 || vs[0].Col != 19 {
		t.Fatalf("location = %d:%d, want 3:19 (body starts on line 3)", vs[0].Line, vs[0].Col)
	}
}

func TestViolationString(t *testing.T) {
	v := policy.Violation{Path: "templates/review.en.tmpl", Line: 7, Col: 12, Rule: "P-INCENTIVE", Message: `offers something in return for a review ("a free gift card"); Amazon forbids incentives for reviews`}
	want := `templates/review.en.tmpl:7:12: P-INCENTIVE: offers something in return for a review ("a free gift card"); Amazon forbids incentives for reviews`
	if v.String() != want {
		t.Fatalf("String() = %q", v.String())
	}
}

func TestRules(t *testing.T) {
	want := []string{"P-INCENTIVE", "P-POSITIVE", "P-DIVERT", "P-CHANGE", "P-LINK", "P-CONTACT", "P-MARKETING", "P-COUPON", "P-REPEAT", "P-SUBJECT", "P-MEDIA", "P-ORDERID", "P-NOREQUEST", "P-LANGUAGE"}
	rules := policy.Rules()
	if len(rules) != len(want) {
		t.Fatalf("%d rules, want %d", len(rules), len(want))
	}
	for i, r := range rules {
		if r.ID != want[i] || r.Summary == "" || strings.Contains(r.Summary, "\n") {
			t.Errorf("rule %d = %+v, want id %s with a one-line summary", i, r, want[i])
		}
	}
}

func TestDetectLanguage(t *testing.T) {
	tests := []struct {
		name, text, want string
		ok               bool
	}{
		{"english", "Thank you for your order. We would appreciate your honest review of the product.", "en", true},
		{"german", "Vielen Dank für Ihre Bestellung. Wir freuen uns über Ihre ehrliche Bewertung.", "de", true},
		{"french", "Merci pour votre commande. Nous apprécierions votre avis sur le produit.", "fr", true},
		{"spanish", "Gracias por su pedido. Le agradeceríamos su opinión sobre el producto.", "es", true},
		{"italian", "Grazie per il suo ordine. Apprezzeremmo la sua opinione sul prodotto.", "it", true},
		{"japanese", "ご注文いただき、誠にありがとうございます。レビューをお願いいたします。", "ja", true},
		{"too short", "Hello", "", false},
		{"numbers only", "123 456 789", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := policy.DetectLanguage(tt.text)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("DetectLanguage = %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCheckerIsReusable(t *testing.T) {
	c, err := policy.NewChecker()
	if err != nil {
		t.Fatal(err)
	}
	tp, err := policy.ParseTemplate("n.tmpl", []byte(neutralEN))
	if err != nil {
		t.Fatal(err)
	}
	us := mustMarket(t, "Amazon.com")
	if vs := c.CheckTemplate(tp, []marketplace.Marketplace{us}); len(vs) != 0 {
		t.Fatalf("violations: %v", vs)
	}
	if vs := c.CheckTemplate(tp, nil); len(vs) != 0 {
		t.Fatalf("violations without marketplaces: %v", vs)
	}
}

func TestCheckTemplateMarketsAndLiterals(t *testing.T) {
	de, us := mustMarket(t, "Amazon.de"), mustMarket(t, "Amazon.com")
	deLink := "Subject: Ihre Bestellung {{.OrderID}}\nLanguage: de\n\nVielen Dank für Ihre Bestellung. Wir freuen uns über Ihre ehrliche Bewertung: https://www.amazon.de/review/create-review?asin=B0CXYZ1234\n"
	tests := []struct {
		name    string
		src     string
		markets []marketplace.Marketplace
		want    string
	}{
		{"literal review link of the marketplace", deLink, []marketplace.Marketplace{de}, ""},
		{"literal review link, no marketplaces given", deLink, nil, ""},
		{"literal review link of another marketplace", strings.Replace(deLink, "Language: de", "Language: en", 1), []marketplace.Marketplace{us}, "P-LANGUAGE P-LINK"},
		{"german template on amazon.com", deLink, []marketplace.Marketplace{us}, "P-LANGUAGE P-LINK"},
		{"unsupported language", "Subject: Order {{.OrderID}}\nLanguage: nl\n\nBedankt voor uw bestelling. Wij waarderen uw eerlijke review.\n", nil, "P-LANGUAGE"},
		{"order id only in subject", "Subject: Order {{.OrderID}}\n\nThank you! We would appreciate your honest review.\n", nil, ""},
		{"order id via printf", "Subject: Thanks\n\nOrder {{printf \"%s\" .OrderID}}: we would appreciate your honest review.\n", nil, ""},
		{"order id only in a condition", "Subject: Thanks\n\n{{if .OrderID}}Hello!{{end}} We would appreciate your honest review.\n", nil, "P-ORDERID"},
		{"bribe in an else branch", "Subject: Order {{.OrderID}}\n\n{{if .BuyerName}}Hi.{{else}}Leave 5 stars for a free gift card.{{end}} We would appreciate your review.\n", nil, "P-INCENTIVE P-POSITIVE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := policy.ParseTemplate("t.tmpl", []byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			vs := policy.CheckTemplate(tp, tt.markets)
			if got := strings.Join(ruleSet(vs), " "); got != tt.want {
				t.Fatalf("rules = %q, want %q; %v", got, tt.want, vs)
			}
			for i := 1; i < len(vs); i++ {
				if vs[i].Line < vs[i-1].Line || vs[i].Line == vs[i-1].Line && vs[i].Col < vs[i-1].Col {
					t.Fatalf("violations not sorted: %v", vs)
				}
			}
		})
	}
}
