package marketplace_test

import (
	"testing"

	"campaignd/internal/marketplace"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"sales channel", "Amazon.de", "Amazon.de", true},
		{"case and space", "  amazon.CO.JP ", "Amazon.co.jp", true},
		{"host", "www.amazon.co.uk", "Amazon.co.uk", true},
		{"bare host", "amazon.fr", "Amazon.fr", true},
		{"marketplace id", "ATVPDKIKX0DER", "Amazon.com", true},
		{"non-amazon", "Non-Amazon", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := marketplace.Lookup(tt.in)
			if ok != tt.ok || m.Name != tt.want {
				t.Fatalf("Lookup(%q) = %q, %v; want %q, %v", tt.in, m.Name, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestReviewURL(t *testing.T) {
	de, _ := marketplace.Lookup("Amazon.de")
	com, _ := marketplace.Lookup("Amazon.com")
	got := de.ReviewURL("B0TEST1234")
	if got != "https://www.amazon.de/review/create-review?asin=B0TEST1234" {
		t.Fatalf("ReviewURL = %q", got)
	}
	for _, tt := range []struct {
		url  string
		want bool
	}{
		{got, true},
		{"https://www.amazon.de/review/create-review", true},
		{"http://www.amazon.de/review/create-review?asin=B0TEST1234", false},
		{"https://www.amazon.de/dp/B0TEST1234", false},
		{"https://www.amazon.de.evil.example/review/create-review", false},
		{"https://user@www.amazon.de/review/create-review", false},
		{com.ReviewURL("B0X"), false},
		{de.ReviewURL(""), true},
		{"https://www.amazon.de/review/review-your-purchases/", true},
		{"http://www.amazon.de/review/review-your-purchases", false},
		{com.ReviewURL(""), false},
	} {
		if de.IsReviewURL(tt.url) != tt.want {
			t.Errorf("IsReviewURL(%q) = %v, want %v", tt.url, !tt.want, tt.want)
		}
	}
	if got := de.ReviewURL(""); got != "https://www.amazon.de/review/review-your-purchases" {
		t.Errorf("ReviewURL without an ASIN = %q, want the review-your-purchases page", got)
	}
	if !com.IsReviewURL(com.ReviewURL("B0X")) {
		t.Error("Amazon.com review URL refused on Amazon.com")
	}
}

func TestAllHaveLanguageAndZone(t *testing.T) {
	for _, m := range marketplace.All() {
		if m.Language == "" || len(m.Languages) == 0 || m.Languages[0] != m.Language || m.TimeZone == "" || m.ID == "" {
			t.Errorf("%s: incomplete entry %+v", m.Name, m)
		}
	}
}
