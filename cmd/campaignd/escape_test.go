package main

import "testing"

func TestClean(t *testing.T) {
	tests := []struct{ in, line, text string }{
		{"Trinkflasche – Edelstahl 750 ml", "Trinkflasche – Edelstahl 750 ml", "Trinkflasche – Edelstahl 750 ml"},
		{"水筒 ステンレス", "水筒 ステンレス", "水筒 ステンレス"},
		{"a\x1b[2Jb", `a\x1b[2Jb`, `a\x1b[2Jb`},
		{"title\x07", `title\x07`, `title\x07`},
		{"line\nnext\tcol\r", `line\nnext\tcol\r`, "line\nnext\tcol\\r"},
		{"\u202egnp.exe", `\u202egnp.exe`, `\u202egnp.exe`},
		{"c1 \u009b31m", `c1 \x9b31m`, `c1 \x9b31m`},
		{"bad \xff byte", `bad \xff byte`, `bad \xff byte`},
		{"nbsp\u00a0ok", "nbsp\u00a0ok", "nbsp\u00a0ok"},
	}
	for _, tt := range tests {
		if got := clean(tt.in); got != tt.line {
			t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.line)
		}
		if got := cleanText(tt.in); got != tt.text {
			t.Errorf("cleanText(%q) = %q, want %q", tt.in, got, tt.text)
		}
	}
}
