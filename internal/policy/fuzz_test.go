package policy_test

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"campaignd/internal/marketplace"
	"campaignd/internal/policy"
)

// FuzzCheck: parsing, checking, rendering and checking the rendered message
// never panic and finish quickly on arbitrary template and data bytes.
func FuzzCheck(f *testing.F) {
	f.Add([]byte(neutralEN), "Gift Set 20% Off www.x.com")
	f.Add([]byte("Subject: [Important] {{.OrderID}}\nLanguage: ja\n\nご満足いただけましたら★★★★★ f r e e 😊 <a href=x>"), "0800 123 4567")
	f.Add([]byte("Subject: x\n\n{{with .BuyerName}}{{.}}{{else}}{{printf \"%s\" .ProductName}}{{end}} fr33 g1ft"), "a@b.co")
	f.Add([]byte("Subject: \xff\n\n"), "\x00")
	f.Add([]byte("Subject: {{.OrderID}}\nLanguage: fr\n\nsav, suivi de l'arobase, puis shop, point, fr; zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit; type shop .com/care"), "LINE（ID：shop_1）")
	f.Add([]byte("Subject: {{.OrderID}}\nLanguage: ja\n\n携帯 〇九〇・一二三四・五六七八 support（アットマーク）shop（ドット）jp まで。問題がなければ{{.ReviewURL}}"), "five five five, two one zero, eight eight four one")
	us, _ := marketplace.Lookup("Amazon.com")
	f.Fuzz(func(t *testing.T, src []byte, product string) {
		start := time.Now()
		tp, err := policy.ParseTemplate("f.tmpl", src)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.tmpl:") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, v := range policy.CheckTemplate(tp, []marketplace.Marketplace{us}) {
			if v.Line < 1 || v.Col < 1 || v.Rule == "" || !utf8.ValidString(v.Message) {
				t.Fatalf("bad violation %+v", v)
			}
		}
		msg, err := tp.Render(policy.Data{OrderID: "111-2223334-5556667", ProductName: product, ReviewURL: us.ReviewURL("B0X"), BuyerName: product})
		if err == nil {
			for _, v := range policy.CheckMessage("m", msg, "111-2223334-5556667", us) {
				if v.Line < 1 || v.Col < 1 || v.Rule == "" {
					t.Fatalf("bad violation %+v", v)
				}
			}
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("took %v on %d bytes", d, len(src)+len(product))
		}
	})
}

// FuzzDetectLanguage: language detection and normalisation never panic.
func FuzzDetectLanguage(f *testing.F) {
	f.Add("Vielen Dank für Ihre Bestellung")
	f.Add("ﾚﾋﾞｭｰ ★☆ f.r.e.e ５つ星")
	f.Fuzz(func(t *testing.T, s string) {
		lang, ok := policy.DetectLanguage(s)
		if ok != (lang != "") {
			t.Fatalf("DetectLanguage(%q) = %q, %v", s, lang, ok)
		}
	})
}
