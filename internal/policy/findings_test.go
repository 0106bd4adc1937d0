package policy_test

import (
	"strings"
	"testing"
	"time"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// lintSource checks template source for markets and returns the findings.
func lintSource(t *testing.T, src string, markets ...marketplace.Marketplace) []policy.Violation {
	t.Helper()
	tp, err := policy.ParseTemplate("t.tmpl", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return policy.CheckTemplate(tp, markets)
}

// TestProductTitleSentences: a product title is the seller's listing text.
// A sentence in it that asks for a review in a forbidden way is refused;
// product nouns are not.
func TestProductTitleSentences(t *testing.T) {
	us := mustMarket(t, "Amazon.com")
	tp, err := policy.ParseTemplate("n.tmpl", []byte(neutralEN))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ title, want string }{
		{"Leave a 5-star review and get a free refund", "P-INCENTIVE P-POSITIVE"},
		{"Write a review, get a FREE sample", "P-INCENTIVE"},
		{"Rate us 5 stars!", "P-POSITIVE"},
		{"Mug – telegram @shopname", "P-CONTACT"},
		{"Free Gift Wrap Kit", ""},
		{"5 Star Hotel Towels", ""},
		{"Review Journal Notebook, 120 pages", ""},
		{"Coupon Organizer with 12 Pockets", ""},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			msg, err := tp.Render(policy.Data{OrderID: "111-2223334-5556667", ProductName: tt.title, ReviewURL: us.ReviewURL("B0X"), SellerName: "Acme"})
			if err != nil {
				t.Fatal(err)
			}
			vs := policy.CheckMessage("m", msg, "111-2223334-5556667", us)
			if got := strings.Join(ruleSet(vs), " "); got != tt.want {
				t.Fatalf("rules = %q, want %q; %v", got, tt.want, vs)
			}
		})
	}
}

// TestLanguageFindings: one P-LANGUAGE finding per problem, naming the
// language found, never a P-NOREQUEST for a text campaignd cannot read.
func TestLanguageFindings(t *testing.T) {
	tests := []struct {
		name, src string
		want      string // rules
		msg       string // in the P-LANGUAGE message
	}{
		{"german text without a Language line", "Subject: Ihre Bestellung {{.OrderID}}\n\nVielen Dank für Ihre Bestellung. Wir hoffen, dass Ihnen der Wasserkocher gefällt, und freuen uns über Ihre ehrliche Bewertung: {{.ReviewURL}}\n", "P-LANGUAGE", `add "Language: de"`},
		{"dutch body declared english", "Subject: Order {{.OrderID}}\nLanguage: en\n\nHartelijk dank voor uw bestelling. Wij hopen dat u tevreden bent en horen graag uw mening over het product: {{.ReviewURL}}\n", "P-LANGUAGE", "reads as Dutch"},
		{"portuguese body declared spanish", "Subject: Pedido {{.OrderID}}\nLanguage: es\n\nMuito obrigado pelo seu pedido. Esperamos que você goste do produto e gostaríamos muito de saber a sua opinião: {{.ReviewURL}}\n", "P-LANGUAGE", "reads as Portuguese"},
		{"chinese body declared japanese", "Subject: 订单 {{.OrderID}}\nLanguage: ja\n\n感谢您的购买。我们希望您喜欢这个产品，欢迎您在这里留下评价。{{.ReviewURL}}\n", "P-LANGUAGE", "reads as Chinese"},
		{"one english sentence in german", "Subject: Ihre Bestellung {{.OrderID}}\nLanguage: de\n\nVielen Dank für Ihre Bestellung. Thank you so much for supporting our small family business. Wir freuen uns über Ihre ehrliche Bewertung: {{.ReviewURL}}\n", "P-LANGUAGE", "passage in English"},
		{"german subject in english", "Subject: Ihre Bestellung {{.OrderID}}\nLanguage: en\n\nThank you for your order. We would appreciate your honest review: {{.ReviewURL}}\n", "P-LANGUAGE", "subject in German"},
		{"english loanwords in german are fine", "Subject: Ihre Bestellung {{.OrderID}}\nLanguage: de\n\nVielen Dank! Ihr Feedback hilft unserem Service-Team sehr. Hier geht es zur Bewertung: {{.ReviewURL}}\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := lintSource(t, tt.src)
			if got := strings.Join(ruleSet(vs), " "); got != tt.want {
				t.Fatalf("rules = %q, want %q; %v", got, tt.want, vs)
			}
			if tt.want != "" && (len(vs) != 1 || !strings.Contains(vs[0].Message, tt.msg)) {
				t.Fatalf("want one finding saying %q, got %v", tt.msg, vs)
			}
		})
	}
}

// TestOrderIDOnEveryPath: the order id must be printed whichever branch
// of an {{if}} or {{with}} runs.
func TestOrderIDOnEveryPath(t *testing.T) {
	const tail = " We would appreciate your honest review: {{.ReviewURL}}\n"
	tests := []struct {
		name, subject, body string
		want                bool // P-ORDERID reported
		line                int
	}{
		{"in the subject", "Order {{.OrderID}}", "Thank you.", false, 0},
		{"in both branches", "Thanks", "{{if .BuyerName}}Hi {{.BuyerName}}, order {{.OrderID}}.{{else}}Hi, order {{.OrderID}}.{{end}}", false, 0},
		{"in the if branch only", "Thanks", "{{if .BuyerName}}Hi {{.BuyerName}}, order {{.OrderID}}.{{else}}Hi.{{end}}", true, 4},
		{"in the else branch only", "Thanks", "\n{{with .BuyerName}}Hi {{.}}.{{else}}Order {{.OrderID}}.{{end}}", true, 5},
		{"in an if without else", "Thanks", "{{if .BuyerName}}Order {{.OrderID}}.{{end}}", true, 4},
		{"with over the order id", "Thanks", "{{with .OrderID}}Order {{.}}.{{end}}", false, 0},
		{"nowhere", "Thanks", "Thank you.", true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := lintSource(t, "Subject: "+tt.subject+"\nLanguage: en\n\n"+tt.body+tail)
			var got []policy.Violation
			for _, v := range vs {
				if v.Rule == "P-ORDERID" {
					got = append(got, v)
				}
			}
			if (len(got) > 0) != tt.want || len(got) > 1 {
				t.Fatalf("P-ORDERID findings %v, want reported=%v", vs, tt.want)
			}
			if tt.want && got[0].Line != tt.line {
				t.Errorf("reported on line %d, want %d: %v", got[0].Line, tt.line, got[0])
			}
		})
	}
}

// TestFindingText: excerpts end on a word without trailing punctuation,
// no message repeats its reason, and a link refusal makes sense when a
// bare file is linted.
func TestFindingText(t *testing.T) {
	vs := lintSource(t, "Subject: Order {{.OrderID}}\nLanguage: en\n\nThanks for your order, we hope you enjoy it. See https://www.example.com/page for care tips.\n")
	var link, noreq policy.Violation
	for _, v := range vs {
		switch v.Rule {
		case "P-LINK":
			link = v
		case "P-NOREQUEST":
			noreq = v
		}
	}
	if !strings.Contains(link.Message, "an Amazon review page") || strings.Contains(link.Message, "this marketplace") {
		t.Errorf("P-LINK message for a bare file: %q", link.Message)
	}
	if strings.Count(noreq.Message, "thank-you alone") != 1 {
		t.Errorf("P-NOREQUEST message repeats itself: %q", noreq.Message)
	}
	de := mustMarket(t, "Amazon.de")
	vs = lintSource(t, "Subject: Order {{.OrderID}}\nLanguage: en\n\nIf you are happy with the kettle, please leave us five stars!!! Your review helps.\n", de)
	for _, v := range vs {
		if v.Rule != "P-POSITIVE" {
			continue
		}
		i := strings.Index(v.Message, "(\"")
		j := strings.Index(v.Message, "\")")
		if i < 0 || j < i {
			t.Fatalf("no excerpt in %q", v.Message)
		}
		ex := v.Message[i+2 : j]
		if strings.HasSuffix(ex, "!") || strings.HasSuffix(ex, " ") || ex == "" {
			t.Errorf("excerpt %q ends on punctuation or space", ex)
		}
	}
	// A finding whose concepts are the review link alone quotes its sentence.
	vs = lintSource(t, "Subject: Order {{.OrderID}}\nLanguage: en\n\nLoving your new cushion? Then the review page is waiting for you: {{.ReviewURL}}\n")
	if len(vs) != 1 || vs[0].Rule != "P-POSITIVE" || !strings.Contains(vs[0].Message, "(\"Then the review page is waiting") {
		t.Errorf("finding on the review link: %v", vs)
	}
	long := strings.Repeat("x", 10)
	vs = lintSource(t, "Subject: Order {{.OrderID}}\nLanguage: en\n\nIf you are delighted with "+strings.Repeat("this wonderful "+long+" kettle and ", 6)+"everything else, please leave a review.\n")
	for _, v := range vs {
		i, j := strings.Index(v.Message, "(\""), strings.Index(v.Message, "\")")
		if i < 0 {
			continue
		}
		ex := v.Message[i+2 : j]
		if strings.HasSuffix(ex, "…") {
			cut := strings.TrimSuffix(ex, "…")
			if strings.HasSuffix(cut, " ") || len([]rune(cut)) > 60 || strings.HasSuffix(cut, long[:5]) && !strings.HasSuffix(cut, long) {
				t.Errorf("long excerpt not cut on a word boundary: %q", ex)
			}
		}
	}
}

// TestOneFindingPerProblem: a phone number after "call us" is one
// finding, a link hidden in a tag one P-LINK, an image one P-MEDIA.
func TestOneFindingPerProblem(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"call us with a number", "Questions? Call us on (555) 123-4567.", "P-CONTACT"},
		{"telephone word and number", "Our phone number is 0800 123 4567.", "P-CONTACT"},
		{"link in a tag", `<a href="https://example.com">Review us</a>`, "P-LINK"},
		{"tracking pixel", `<img src="https://t.example.com/p.gif" width="1">`, "P-MEDIA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vs := lintSource(t, "Subject: Order {{.OrderID}}\nLanguage: en\n\nWe would appreciate your honest review. "+tt.text+"\n")
			if len(vs) != 1 || vs[0].Rule != tt.want {
				t.Fatalf("want one %s finding, got %v", tt.want, vs)
			}
		})
	}
}

// TestLongSentencesStayCheap: a 60 KB message of one endless sentence full
// of concept words, negations or address words is checked in well under a
// second (the search for concepts that meet a rule's constraints is
// bounded; it once grew with the cube of the words).
func TestLongSentencesStayCheap(t *testing.T) {
	us := mustMarket(t, "Amazon.com")
	for _, unit := range []string{"only happy review ", "if happy contact first before review ", "not no never gift ", "we already asked ", "www . ", "a (at) b (dot) ", "x at y.z "} {
		t.Run(unit, func(t *testing.T) {
			msg := policy.Message{Subject: "x", Body: strings.Repeat(unit, 60000/len(unit)), Language: "en"}
			start := time.Now()
			policy.CheckMessage("m", msg, "1", us)
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}
