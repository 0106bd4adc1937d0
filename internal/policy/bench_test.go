package policy_test

import (
	"strings"
	"testing"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// message10K builds a rendered-looking message of about 10 KB of neutral
// text dense with what the rules read: concept words (review, free, gift,
// stars, contact, happy, first, again), negations and lists to scope, the
// words that spell addresses ("at", "point", " ."), number words and
// messenger names ("line two ... one, two or three"), a question word
// before satisfaction ("how you liked it"), and the cancelling phrases
// ("positive or negative", "feel free"). Every sentence sends the checker
// through several combination rules that must not fire. A worst case, not
// a typical message.
func message10K() policy.Message {
	para := "Thank you for your order of the Deluxe Gift Set, which we packed by hand at our workshop. Feel free to contact us through Amazon messaging at any time if you have questions. " +
		"We would appreciate your honest review, positive or negative, from 1 star to 5 stars; it helps other customers. " +
		"We never offer gifts, discounts, free products or anything else in return for reviews, and we hope you enjoy it. " +
		"If you haven't reviewed it yet, there's no rush at all, and thanks again for your first order with us. " +
		"Free shipping was included. Your feedback helps us improve our products for everyone. " +
		"Tell other shoppers how you liked it, whatever your verdict; have a look at our care guide first, " +
		"and note that line two of it lists one, two or three cups, not four .\n\n"
	var b strings.Builder
	for b.Len() < 10*1024 {
		b.WriteString(para)
	}
	b.WriteString("Order 111-2223334-5556667: https://www.amazon.com/review/create-review?asin=B0CXYZ1234\n")
	return policy.Message{Subject: "Your order 111-2223334-5556667", Body: b.String(), Language: "en"}
}

func BenchmarkCheckMessage10K(b *testing.B) {
	us, _ := marketplace.Lookup("Amazon.com")
	msg := message10K()
	if vs := policy.CheckMessage("m", msg, "111-2223334-5556667", us); len(vs) != 0 {
		b.Fatalf("benchmark message is not neutral: %v", vs)
	}
	b.SetBytes(int64(len(msg.Subject) + len(msg.Body)))
	b.ReportAllocs()
	for b.Loop() {
		policy.CheckMessage("m", msg, "111-2223334-5556667", us)
	}
}

// BenchmarkNewChecker compiles every embedded rule: what start-up costs
// (at most 50 ms).
func BenchmarkNewChecker(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := policy.NewChecker(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckTemplateShipped(b *testing.B) {
	tp, err := policy.LoadTemplate("../../templates/review-request.en.tmpl")
	if err != nil {
		b.Fatal(err)
	}
	us, _ := marketplace.Lookup("Amazon.com")
	ms := []marketplace.Marketplace{us}
	for b.Loop() {
		policy.CheckTemplate(tp, ms)
	}
}

// typical10K is a 10 KB review request as a seller might write one: a
// request paragraph and long care instructions for the product.
func typical10K(t testing.TB) (policy.Message, marketplace.Marketplace) {
	us, _ := marketplace.Lookup("Amazon.com")
	tp, err := policy.LoadTemplate("../../templates/review-request.en.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	msg, err := tp.Render(policy.Data{OrderID: "111-2223334-5556667", ProductName: `Deluxe Gift Set "Free Shipping" 20% Off Edition`, ReviewURL: us.ReviewURL("B0CXYZ1234"), BuyerName: "Jane", SellerName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	care := "Care instructions: rinse the pan with warm water before the first use and dry it with a soft cloth. " +
		"Heat it slowly on a medium setting, and add a little oil before cooking. Avoid metal tools on the coated surface. " +
		"After cooking, let the pan cool down before washing it by hand; the handle stays cool on most stoves. " +
		"Store it in a dry place and keep the lid slightly open so that no moisture is trapped inside.\n\n"
	var b strings.Builder
	b.WriteString(msg.Body)
	for b.Len() < 10*1024 {
		b.WriteString(care)
	}
	msg.Body = b.String()
	return msg, us
}

func BenchmarkCheckMessage10KTypical(b *testing.B) {
	msg, us := typical10K(b)
	if vs := policy.CheckMessage("m", msg, "111-2223334-5556667", us); len(vs) != 0 {
		b.Fatalf("benchmark message is not neutral: %v", vs)
	}
	b.SetBytes(int64(len(msg.Subject) + len(msg.Body)))
	b.ReportAllocs()
	for b.Loop() {
		policy.CheckMessage("m", msg, "111-2223334-5556667", us)
	}
}

// BenchmarkCheckMessage10KLang checks 10 KB messages in French (accents)
// and Japanese (no spaces, multi-byte).
func BenchmarkCheckMessage10KLang(b *testing.B) {
	for _, c := range []struct{ lang, market, subject, para string }{
		{"fr", "Amazon.fr", "Votre commande 111-2223334-5556667", "Merci pour votre commande. Nous espérons que la bouilloire vous plaît : elle chauffe l'eau très rapidement, s'éteint d'elle-même et se nettoie facilement à l'eau tiède. Évitez les détergents agressifs ; séchez-la après usage. Votre avis sincère, positif ou négatif, aide les autres clients.\n\n"},
		{"ja", "Amazon.co.jp", "ご注文 111-2223334-5556667", "このたびはご購入いただき、誠にありがとうございます。ケトルは素早くお湯を沸かし、自動で電源が切れます。お手入れはぬるま湯で簡単です。率直なご感想をレビューでお聞かせいただけますと、他のお客様の参考になります。\n\n"},
	} {
		b.Run(c.lang, func(b *testing.B) {
			m, _ := marketplace.Lookup(c.market)
			msg := policy.Message{Subject: c.subject, Body: strings.Repeat(c.para, 10*1024/len(c.para)+1), Language: c.lang}
			if vs := policy.CheckMessage("m", msg, "111-2223334-5556667", m); len(vs) != 0 {
				b.Fatalf("benchmark message is not neutral: %v", vs)
			}
			b.SetBytes(int64(len(msg.Subject) + len(msg.Body)))
			b.ReportAllocs()
			for b.Loop() {
				policy.CheckMessage("m", msg, "111-2223334-5556667", m)
			}
		})
	}
}

// BenchmarkBaselineLower10K is one strings.ToLower pass over the typical
// 10 KB message of BenchmarkCheckMessage10KTypical: a yardstick measured in
// the same run, so the checker's cost can be read as a ratio to it.
func BenchmarkBaselineLower10K(b *testing.B) {
	msg, _ := typical10K(b)
	text := msg.Subject + "\n\n" + msg.Body
	b.SetBytes(int64(len(msg.Subject) + len(msg.Body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = strings.ToLower(text)
	}
}
