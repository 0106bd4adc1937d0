package policy_test

import (
	"strings"
	"testing"
)

// lintBody checks a one-paragraph template in lang whose body is text
// followed by the review link, and returns the rules it reports.
func lintBody(t *testing.T, lang, text string) string {
	t.Helper()
	src := "Subject: Order {{.OrderID}}\nLanguage: " + lang + "\n\n" + text + "\n" + requestLine[lang] + "\n"
	return strings.Join(ruleSet(lintSource(t, src)), " ")
}

// requestLine is a neutral review request in each language.
var requestLine = map[string]string{
	"en": "We would appreciate your honest review: {{.ReviewURL}}",
	"de": "Wir freuen uns über Ihre ehrliche Bewertung: {{.ReviewURL}}",
	"fr": "Votre avis sincère nous intéresse : {{.ReviewURL}}",
	"es": "Nos interesa su opinión sincera: {{.ReviewURL}}",
	"it": "Ci interessa la sua opinione sincera: {{.ReviewURL}}",
	"ja": "ご感想をお聞かせください。{{.ReviewURL}}",
}

// TestObfuscatedContacts: contact details and addresses written to slip
// past a filter are found in every language.
func TestObfuscatedContacts(t *testing.T) {
	tests := []struct{ lang, text, want string }{
		{"de", "Fragen beantworten wir unter info (ät) gartenglueck (punkt) de.", "P-CONTACT"},
		{"de", "Schreib uns einfach an hallo at kaffeeberg dot de.", "P-CONTACT"},
		{"de", "Eine Anleitung finden Sie unter holzwerk-krause punkt de schrägstrich pflege.", "P-LINK"},
		{"de", "Unsere Hotline erreichen Sie unter 030 / 12 34 56 78.", "P-CONTACT"},
		{"de", "Rufen Sie uns an: null-sieben-eins-eins, zwei-drei-vier-fünf-sechs-sieben.", "P-CONTACT"},
		{"es", "Para dudas rápidas estamos en WhatsApp: 612 45 78 90.", "P-CONTACT"},
		{"en", "If you'd rather talk, call Dana on five five five, two one zero, eight eight four one.", "P-CONTACT"},
		{"en", "For our care guide, type oakandflax followed by .com/care into your browser.", "P-LINK"},
		{"en", "Video tutorials are at youtube dot com slash oakandpine.", "P-LINK P-MARKETING"},
		{"fr", "Notre adresse : sav, suivi de l'arobase, puis maisonbleue, point, fr.", "P-CONTACT"},
		{"fr", "Un doute ? Appelez Julie au zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit.", "P-CONTACT"},
		{"ja", "ちょっとした質問なら、携帯 〇九〇・一二三四・五六七八 まで直接どうぞ。", "P-CONTACT"},
		{"ja", "support（アットマーク）tetote-shop（ドット）jp までお問い合わせください。", "P-CONTACT"},
		{"ja", "お急ぎの場合は、LINE（ID：tanaka_shop）までご連絡ください。", "P-CONTACT"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.text, func(t *testing.T) {
			if got := lintBody(t, tt.lang, tt.text); got != tt.want {
				t.Errorf("rules = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestNumbersAreNoPhones: dates, model numbers, sizes, prices, article
// numbers and numbers in words are not phone numbers.
func TestNumbersAreNoPhones(t *testing.T) {
	tests := []struct{ lang, text string }{
		{"en", "Your order was delivered on 12.03.2026 (model 2024-110-45, size 120 x 45 cm)."},
		{"en", "It holds one, two or three cups, and the lid fits models from 2019 to 2024."},
		{"de", "Bestellt am 12.05.2024, geliefert am 2024-05-14, Artikelnummer 978-3-16-148410-0."},
		{"de", "Wir sind Mo–Fr von 9 bis 17 Uhr für Sie da; der Preis lag bei 1.299,00 Euro."},
		{"fr", "Livré le 04/11/2026, le lot de deux, trois ou quatre tasses tient dans 30 x 20 cm."},
		{"es", "Se entregó el 15/10/2026; la caja mide 40 x 30 x 20 cm."},
		{"it", "Consegna avvenuta il 21/09/2026, confezione da dodici pezzi."},
		{"ja", "二〇二六年十月十二日にお届けしました。三つのサイズがございます。"},
	}
	for _, tt := range tests {
		t.Run(tt.lang+" "+tt.text, func(t *testing.T) {
			if got := lintBody(t, tt.lang, tt.text); got != "" {
				t.Errorf("rules = %q, want none", got)
			}
		})
	}
}
