package orders

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// TestRecordFields: cutting a line lazily, eight bytes at a time, gives the
// fields bytes.Split gives, whatever order they are asked for in.
func TestRecordFields(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	alphabet := []byte("ab \t,;\"\x00\xff\x01\x09\x08")
	var r record
	for n := 0; n < 3000; n++ {
		line := make([]byte, rng.IntN(90))
		for i := range line {
			line[i] = alphabet[rng.IntN(len(alphabet))]
		}
		sep := []byte{'\t', ',', ';'}[rng.IntN(3)]
		want := bytes.Split(line, []byte{sep})
		r.setLine(line, sep)
		if r.n != len(want) {
			t.Fatalf("%q on %q: n = %d, want %d", line, sep, r.n, len(want))
		}
		for _, i := range rng.Perm(r.n) {
			if got := r.field(i); !bytes.Equal(got, want[i]) {
				t.Fatalf("%q on %q: field %d = %q, want %q", line, sep, i, got, want[i])
			}
		}
	}
}

// TestAppendQuote: the quick quoting of evidence is quote's, byte for byte.
func TestAppendQuote(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	alphabet := []string{"a", "Z", " ", "\"", "\\", "\t", "\x7f", "é", "日", "\xff", "-", "0"}
	for n := 0; n < 3000; n++ {
		var s string
		for k := rng.IntN(50); k > 0; k-- {
			s += alphabet[rng.IntN(len(alphabet))]
		}
		if got := string(appendQuote([]byte("x"), s)); got != "x"+quote(s) {
			t.Fatalf("appendQuote(%q) = %s, want %s", s, got[1:], quote(s))
		}
	}
}

// TestTrim: trim is bytes.TrimSpace.
func TestTrim(t *testing.T) {
	for _, s := range []string{"", " ", "a", " a", "a ", "\ta\n", "\u00a0a", "a\u00a0", "é", " é ", "\u3000x\u3000", "x\x85"} {
		if got, want := trim([]byte(s)), bytes.TrimSpace([]byte(s)); !bytes.Equal(got, want) {
			t.Errorf("trim(%q) = %q, want %q", s, got, want)
		}
	}
}
