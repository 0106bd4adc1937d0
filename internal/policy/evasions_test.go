package policy_test

import (
	"strings"
	"testing"
)

// wrap puts a sentence into a neutral template of language lang, with a
// review request, so that only the sentence can break a rule.
func wrap(lang, sentence string) string {
	req := map[string]string{
		"en": "We would appreciate your honest review: {{.ReviewURL}}",
		"de": "Wir freuen uns über Ihre ehrliche Bewertung: {{.ReviewURL}}",
		"fr": "Votre avis sincère nous intéresse : {{.ReviewURL}}",
		"es": "Le agradeceríamos su opinión sincera: {{.ReviewURL}}",
		"it": "Apprezzeremmo la sua opinione sincera: {{.ReviewURL}}",
		"ja": "率直なご感想をお聞かせください。{{.ReviewURL}}",
	}[lang]
	return "Subject: {{.OrderID}}\nLanguage: " + lang + "\n\n" + sentence + "\n\n" + req + "\n"
}

// TestKnownEvasions: wordings that once slipped through, and compliant
// wordings that were once refused, each in its language.
func TestKnownEvasions(t *testing.T) {
	tests := []struct{ lang, sentence, want string }{
		{"en", "A little token of thanks goes out to everyone who shares their thoughts.", "P-INCENTIVE"},
		{"en", "Reviewers go into the hat for a year of refills.", "P-INCENTIVE"},
		{"en", "Something extra will be tucked into your next parcel once your review is up.", "P-INCENTIVE"},
		{"en", "If the kettle has won you over, tell other shoppers.", "P-POSITIVE"},
		{"en", "Tell others about your 5-out-of-5 experience.", "P-POSITIVE"},
		{"en", "Tell everyone how much you love it.", "P-POSITIVE"},
		{"en", "Anything not quite right? Write to us first.", "P-DIVERT"},
		{"en", "We'd rather hear it from you than read it in public.", "P-DIVERT"},
		{"fr", "En cas de souci, avant toute chose, écrivez-nous.", "P-DIVERT"},
		{"en", "If you already left a rating, you can edit it so it reflects how it works now.", "P-CHANGE"},
		{"en", "Could you take another look at your review?", "P-CHANGE"},
		{"ja", "先日のレビューを見直していただけますと幸いです。", "P-CHANGE"},
		{"en", "We're writing again since we haven't heard back.", "P-REPEAT"},
		{"en", "In case you missed our earlier note, here it is.", "P-REPEAT"},
		{"de", "Wir haben Sie bereits gebeten, eine Bewertung zu schreiben.", "P-REPEAT"},
		{"es", "Le escribimos de nuevo para pedirle su opinión.", "P-REPEAT"},
		{"it", "Come nel nostro messaggio precedente, le chiediamo un parere.", "P-REPEAT"},
		{"en", "Our autumn range just landed.", "P-MARKETING"},
		{"en", "See our other candles.", "P-MARKETING"},
		{"en", "You can also find us on Etsy.", "P-MARKETING"},
		{"ja", "秋の新作も好評発売中です。", "P-MARKETING"},
		{"en", "Take 15 % off your next order with THANKS15.", "P-COUPON"},
		{"fr", "Écrivez-nous à contact (arobase) boutique (point) fr.", "P-CONTACT"},
		{"en", "The guide is at shop dot com slash help.", "P-LINK"},
		{"fr", "Plus d'infos sur www . boutique . fr.", "P-LINK"},
		{"en", "Our team reviews every order before it ships.", "P-NOREQUEST"},
		// Compliant.
		{"en", "If you haven't reviewed it yet, take your time.", ""},
		{"de", "Falls Sie noch keine Bewertung geschrieben haben, lassen Sie sich Zeit.", ""},
		{"fr", "Si vous n'avez pas encore laissé d'avis, prenez votre temps.", ""},
		{"es", "Si todavía no ha dejado su reseña, tómese su tiempo.", ""},
		{"it", "Se non ha ancora lasciato una recensione, faccia con calma.", ""},
		{"en", "We never ask for your phone number.", ""},
		{"es", "Si tiene alguna duda, escríbanos a través de la mensajería de Amazon.", ""},
		{"fr", "Aucune contrepartie, ni remise, ni produit offert n'est proposé pour un avis.", ""},
		{"it", "Niente solleciti né promemoria: le scriviamo una volta sola.", ""},
		{"ja", "レビューへの見返りは一切ご用意しておりません。", ""},
		{"en", "We hope your Five Star notebooks last all term.", ""},
		{"en", "Your Coupon Organizer should arrive today.", ""},
		{"en", "Enjoy the ASP.NET handbook.", ""},
		{"it", "Speriamo che la lavagna promemoria le sia utile.", ""},
		{"fr", "Nous espérons que votre casque à réduction de bruit vous plaît.", ""},
		{"ja", "星1つでも星5つでも、正直な評価をお待ちしております。", ""},
		{"ja", "発送後にご連絡を差し上げます。", ""},
		{"es", "Para cambiar la dirección, escríbanos antes de las 18:00.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.sentence, func(t *testing.T) {
			src := wrap(tt.lang, tt.sentence)
			if tt.want == "P-NOREQUEST" {
				src = "Subject: {{.OrderID}}\nLanguage: en\n\n" + tt.sentence + " Enjoy your kettle!\n"
			}
			vs := lintSource(t, src)
			if got := strings.Join(ruleSet(vs), " "); got != tt.want {
				t.Fatalf("rules = %q, want %q; %v", got, tt.want, vs)
			}
		})
	}
}
