package policy_test

import (
	"strings"
	"testing"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// message10K builds a rendered-looking message of about 10 KB of neutral
// text with the words the rules key on (review, free, stars, contact...).
func message10K() policy.Message {
	para := "Thank you for your order of the Deluxe Gift Set. Feel free to contact us through Amazon messaging if you have questions. " +
		"We would appreciate your honest review, positive or negative, from 1 star to 5 stars; it helps other customers. " +
		"Free shipping was included. Your feedback helps us improve our products for everyone.\n\n"
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
